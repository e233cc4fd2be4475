package cephtest

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// launch starts a gateway for one test; t.Cleanup stops it. Under -short,
// or without the Ceph packages, the test is skipped (failed under
// S3MOUNT_TEST_REQUIRE=1).
func launch(t *testing.T, opts Options) *Gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs a Ceph cluster")
	}
	if err := FindBinaries(); err != nil {
		miniotest.SkipOrFail(t, err.Error())
	}
	began := time.Now()
	g, err := Launch(opts)
	if err != nil {
		t.Fatalf("launch: %v", err)
	}
	t.Logf("Ceph %s (%s) ready at %s in %v", g.Version, g.store, g.Endpoint, time.Since(began).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("radosgw log (end):\n%s", g.LogTail(4096))
		}
		g.Stop()
	})
	return g
}

// call sends a signed request and returns the status, headers and body.
func call(t *testing.T, g *Gateway, method, target string, hdr http.Header, body []byte) (int, http.Header, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	resp, err := g.DoWithHeader(ctx, method, target, hdr, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, target, err)
	}
	return resp.StatusCode, resp.Header, b
}

func mustCall(t *testing.T, g *Gateway, method, target string, hdr http.Header, body []byte) (http.Header, []byte) {
	t.Helper()
	code, h, b := call(t, g, method, target, hdr, body)
	if code != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, target, code, b)
	}
	return h, b
}

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func quotedMD5(parts ...[]byte) string {
	h := md5.New()
	for _, p := range parts {
		h.Write(p)
	}
	return `"` + hex.EncodeToString(h.Sum(nil)) + `"`
}

// rssKiB reads a process's resident set from /proc.
func rssKiB(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmRSS:"))
		}
	}
	return "?"
}

func TestFindBinariesNamesTheMissingCommandAndPackage(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := FindBinaries()
	if err == nil {
		t.Fatal("FindBinaries with an empty PATH: no error")
	}
	for _, want := range []string{"ceph-mon (Debian package ceph-mon)", "ceph-osd (Debian package ceph-osd)",
		"radosgw (Debian package radosgw)", "apt-get install"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

// TestLaunchAnswersSignedRequests launches one cluster and checks, in
// order, what the test suites will lean on: plain puts and gets, multipart
// uploads, a 64 MiB object, SSE-C over plain HTTP, SSE-KMS with KMSKeyID,
// a gateway restart that keeps the data, and a Stop that leaves no
// process and no directory.
func TestLaunchAnswersSignedRequests(t *testing.T) {
	g := launch(t, Options{})
	if directIO(os.TempDir()) && g.store != "bluestore" {
		t.Errorf("store = %q where O_DIRECT works, want bluestore", g.store)
	}
	if !strings.HasPrefix(g.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want a plain-HTTP loopback URL", g.Endpoint)
	}
	if !strings.HasPrefix(g.Version, "1") {
		t.Errorf("Version = %q, want a Ceph version such as 16.2.15", g.Version)
	}
	if g.CertFile != "" {
		t.Errorf("CertFile = %q for plain HTTP, want empty", g.CertFile)
	}
	const bucket = "cephtest"
	began := time.Now()
	mustCall(t, g, http.MethodPut, "/"+bucket, nil, nil)
	t.Logf("first CreateBucket (creates the index pool): %v", time.Since(began).Round(time.Millisecond))

	t.Run("PutGet", func(t *testing.T) {
		data := []byte("hello, ceph\n")
		began := time.Now()
		h, _ := mustCall(t, g, http.MethodPut, "/"+bucket+"/dir/hello.txt", nil, data)
		t.Logf("first PutObject (creates the data pool): %v", time.Since(began).Round(time.Millisecond))
		if got, want := h.Get("ETag"), quotedMD5(data); got != want {
			t.Errorf("PutObject ETag = %s, want %s", got, want)
		}
		_, got := mustCall(t, g, http.MethodGet, "/"+bucket+"/dir/hello.txt", nil, nil)
		if !bytes.Equal(got, data) {
			t.Fatalf("GetObject = %q, want %q", got, data)
		}
		_, list := mustCall(t, g, http.MethodGet, "/"+bucket+"?list-type=2&prefix=dir%2F", nil, nil)
		if !strings.Contains(string(list), "<Key>dir/hello.txt</Key>") {
			t.Fatalf("ListObjectsV2 does not list the object: %s", list)
		}
		code, _, body := call(t, g, http.MethodGet, "/"+bucket+"/missing", nil, nil)
		if code != http.StatusNotFound || !strings.Contains(string(body), "<Code>NoSuchKey</Code>") {
			t.Fatalf("GetObject of a missing key: HTTP %d %s, want 404 NoSuchKey", code, body)
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		key := "/" + bucket + "/multi"
		_, body := mustCall(t, g, http.MethodPost, key+"?uploads", nil, nil)
		var initiated struct{ UploadId string }
		if err := xml.Unmarshal(body, &initiated); err != nil || initiated.UploadId == "" {
			t.Fatalf("CreateMultipartUpload: %v: %s", err, body)
		}
		parts := [][]byte{randomBytes(t, 5<<20), randomBytes(t, 1<<20+17)}
		var complete strings.Builder
		complete.WriteString("<CompleteMultipartUpload>")
		for i, p := range parts {
			target := fmt.Sprintf("%s?partNumber=%d&uploadId=%s", key, i+1, initiated.UploadId)
			h, _ := mustCall(t, g, http.MethodPut, target, nil, p)
			if got, want := h.Get("ETag"), quotedMD5(p); got != want {
				t.Errorf("UploadPart %d ETag = %s, want %s", i+1, got, want)
			}
			fmt.Fprintf(&complete, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i+1, h.Get("ETag"))
		}
		complete.WriteString("</CompleteMultipartUpload>")
		_, body = mustCall(t, g, http.MethodPost, key+"?uploadId="+initiated.UploadId, nil, []byte(complete.String()))
		var completed struct{ ETag string }
		if err := xml.Unmarshal(body, &completed); err != nil {
			t.Fatalf("CompleteMultipartUpload: %v: %s", err, body)
		}
		t.Logf("CompleteMultipartUpload answered ETag %q: %s", completed.ETag, body)

		// The multipart ETag is the MD5 of the parts' MD5s, then "-2".
		var sums []byte
		for _, p := range parts {
			s := md5.Sum(p)
			sums = append(sums, s[:]...)
		}
		wantETag := strings.TrimSuffix(quotedMD5(sums), `"`) + `-2"`
		h, got := mustCall(t, g, http.MethodGet, key, nil, nil)
		if !bytes.Equal(got, bytes.Join(parts, nil)) {
			t.Fatalf("GetObject of the multipart object: %d bytes that differ from the %d uploaded", len(got), len(parts[0])+len(parts[1]))
		}
		if h.Get("ETag") != wantETag {
			t.Errorf("GetObject ETag = %s, want %s", h.Get("ETag"), wantETag)
		}

		// A part below 5 MiB that is not the last one is refused at Complete.
		_, body = mustCall(t, g, http.MethodPost, key+"-small?uploads", nil, nil)
		if err := xml.Unmarshal(body, &initiated); err != nil {
			t.Fatal(err)
		}
		var small strings.Builder
		small.WriteString("<CompleteMultipartUpload>")
		for i := 1; i <= 2; i++ {
			h, _ := mustCall(t, g, http.MethodPut, fmt.Sprintf("%s-small?partNumber=%d&uploadId=%s", key, i, initiated.UploadId), nil, []byte("tiny"))
			fmt.Fprintf(&small, "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>", i, h.Get("ETag"))
		}
		small.WriteString("</CompleteMultipartUpload>")
		code, _, body := call(t, g, http.MethodPost, key+"-small?uploadId="+initiated.UploadId, nil, []byte(small.String()))
		t.Logf("Complete with a 4-byte first part: HTTP %d %s", code, body)
		if code != http.StatusBadRequest || !strings.Contains(string(body), "EntityTooSmall") {
			t.Errorf("Complete with a 4-byte first part: HTTP %d %s, want 400 EntityTooSmall", code, body)
		}
		mustCallCode(t, g, http.StatusNoContent, http.MethodDelete, key+"-small?uploadId="+initiated.UploadId)
	})

	t.Run("LargeObject", func(t *testing.T) {
		data := randomBytes(t, 64<<20)
		began := time.Now()
		mustCall(t, g, http.MethodPut, "/"+bucket+"/big", nil, data)
		put := time.Since(began)
		began = time.Now()
		_, got := mustCall(t, g, http.MethodGet, "/"+bucket+"/big", nil, nil)
		t.Logf("64 MiB: PutObject %v, GetObject %v", put.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
		if !bytes.Equal(got, data) {
			t.Fatal("GetObject of the 64 MiB object returned other bytes")
		}
		for name, pid := range g.pids() {
			t.Logf("RSS of %s after the 64 MiB write: %s", name, rssKiB(pid))
		}
	})

	t.Run("SSECOverPlainHTTP", func(t *testing.T) {
		key := randomBytes(t, 32)
		sum := md5.Sum(key)
		sse := http.Header{}
		sse.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256")
		sse.Set("X-Amz-Server-Side-Encryption-Customer-Key", base64.StdEncoding.EncodeToString(key))
		sse.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", base64.StdEncoding.EncodeToString(sum[:]))
		data := []byte("secret with my own key")
		mustCall(t, g, http.MethodPut, "/"+bucket+"/ssec", sse, data)
		if _, got := mustCall(t, g, http.MethodGet, "/"+bucket+"/ssec", sse, nil); !bytes.Equal(got, data) {
			t.Fatalf("GetObject with the key = %q, want %q", got, data)
		}
		code, _, body := call(t, g, http.MethodGet, "/"+bucket+"/ssec", nil, nil)
		t.Logf("GetObject of an SSE-C object without the key: HTTP %d %s", code, body)
		if code != http.StatusBadRequest {
			t.Errorf("GetObject without the key: HTTP %d, want 400", code)
		}
	})

	t.Run("SSEKMS", func(t *testing.T) {
		kms := http.Header{}
		kms.Set("X-Amz-Server-Side-Encryption", "aws:kms")
		kms.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", KMSKeyID)
		data := []byte("secret with the KMS key")
		mustCall(t, g, http.MethodPut, "/"+bucket+"/ssekms", kms, data)
		h, got := mustCall(t, g, http.MethodGet, "/"+bucket+"/ssekms", nil, nil)
		if !bytes.Equal(got, data) {
			t.Fatalf("GetObject = %q, want %q", got, data)
		}
		if h.Get("X-Amz-Server-Side-Encryption") != "aws:kms" || h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id") != KMSKeyID {
			t.Errorf("GetObject headers: x-amz-server-side-encryption %q, key id %q; want aws:kms, %s",
				h.Get("X-Amz-Server-Side-Encryption"), h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"), KMSKeyID)
		}
		kms.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "no-such-key")
		code, _, body := call(t, g, http.MethodPut, "/"+bucket+"/ssekms-unknown", kms, data)
		t.Logf("PutObject with an unknown KMS key: HTTP %d %s", code, body)
		if code == http.StatusOK {
			t.Error("PutObject with an unknown KMS key id succeeded")
		}
	})

	t.Run("RestartKeepsObjects", func(t *testing.T) {
		before := g.pids()["radosgw"]
		began := time.Now()
		if err := g.Restart(200 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
		t.Logf("Restart(200ms) ready again in %v", time.Since(began).Round(time.Millisecond))
		if after := g.pids()["radosgw"]; after == before {
			t.Errorf("radosgw pid %d unchanged: no restart", after)
		}
		if _, got := mustCall(t, g, http.MethodGet, "/"+bucket+"/dir/hello.txt", nil, nil); string(got) != "hello, ceph\n" {
			t.Fatalf("after Restart: GetObject = %q", got)
		}
		began = time.Now()
		mustCall(t, g, http.MethodPut, "/"+bucket+"-after-restart", nil, nil)
		t.Logf("CreateBucket right after Restart: %v", time.Since(began).Round(time.Millisecond))
	})

	pids := g.pids()
	if len(pids) != 3 {
		t.Fatalf("pids = %v, want ceph-mon, ceph-osd and radosgw", pids)
	}
	dir := g.removeOn
	if dir == "" {
		t.Fatal("Launch without Dir must remove its temporary directory on Stop")
	}
	began = time.Now()
	g.Stop()
	t.Logf("Stop: %v", time.Since(began).Round(time.Millisecond))
	for name, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("%s (pid %d) survives Stop: kill(0) = %v", name, pid, err)
		}
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("directory %s survives Stop: %v", dir, err)
	}
	if err := g.Restart(0); err == nil {
		t.Error("Restart after Stop succeeded")
	}
	g.Stop() // a second Stop (and the cleanup's) must be harmless
}

func mustCallCode(t *testing.T, g *Gateway, want int, method, target string) {
	t.Helper()
	if code, _, body := call(t, g, method, target, nil, nil); code != want {
		t.Fatalf("%s %s: HTTP %d %s, want %d", method, target, code, body, want)
	}
}

func TestLaunchFallsBackToMemstoreWithoutDirectIO(t *testing.T) {
	saved := useBluestore
	useBluestore = func(string) bool { return false }
	t.Cleanup(func() { useBluestore = saved })
	g := launch(t, Options{})
	if g.store != "memstore" {
		t.Fatalf("store = %q, want memstore", g.store)
	}
	data := randomBytes(t, 5<<20)
	mustCall(t, g, http.MethodPut, "/memstore", nil, nil)
	mustCall(t, g, http.MethodPut, "/memstore/o", nil, data)
	if _, got := mustCall(t, g, http.MethodGet, "/memstore/o", nil, nil); !bytes.Equal(got, data) {
		t.Fatal("GetObject from memstore returned other bytes")
	}
}

func TestLaunchRetriesAPortLostToAnotherProcess(t *testing.T) {
	for i, which := range []string{"monitor", "gateway"} {
		t.Run(which, func(t *testing.T) {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			taken := l.Addr().(*net.TCPAddr).Port
			saved := pickPorts
			tries := 0
			pickPorts = func(n int) ([]int, error) {
				ports, err := saved(n)
				if tries++; tries == 1 && err == nil {
					ports[i] = taken
				}
				return ports, err
			}
			t.Cleanup(func() { pickPorts = saved })
			g := launch(t, Options{})
			if tries != 2 {
				t.Errorf("Launch picked ports %d times, want 2 (one lost, one kept)", tries)
			}
			if strings.HasSuffix(g.Endpoint, fmt.Sprintf(":%d", taken)) {
				t.Errorf("Endpoint %s is the taken port", g.Endpoint)
			}
		})
	}
}

func TestLaunchTLSServesTheGivenCertificate(t *testing.T) {
	certFile, keyFile := writeCert(t)
	dir := t.TempDir()
	g := launch(t, Options{Dir: dir, CertFile: certFile, KeyFile: keyFile})
	if !strings.HasPrefix(g.Endpoint, "https://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want https", g.Endpoint)
	}
	pemBytes, err := os.ReadFile(g.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CertFile holds no certificate")
	}
	// Verification against only our certificate proves RGW serves it.
	g.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	mustCall(t, g, http.MethodGet, "/", nil, nil)
	g.Stop()
	// Dir was ours: Stop leaves it (and the logs in it) alone.
	if _, err := os.Stat(filepath.Join(dir, "ceph0", "log", "radosgw.out")); err != nil {
		t.Errorf("Stop removed a directory it did not create: %v", err)
	}
}

func TestLaunchFailsWithTheLogOfTheDaemonThatDied(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test needs a Ceph cluster")
	}
	if err := FindBinaries(); err != nil {
		miniotest.SkipOrFail(t, err.Error())
	}
	certFile, _ := writeCert(t)
	bad := filepath.Join(t.TempDir(), "garbage.pem")
	if err := os.WriteFile(bad, []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	g, err := Launch(Options{CertFile: certFile, KeyFile: bad})
	if err == nil {
		g.Stop()
		t.Fatal("Launch with a garbage TLS key succeeded")
	}
	t.Logf("Launch failed after %v: %v", time.Since(began).Round(time.Millisecond), err)
	if !strings.Contains(err.Error(), "radosgw exited during startup") || !strings.Contains(err.Error(), "radosgw.out:\n") {
		t.Errorf("error does not say that radosgw died, with the end of its log: %v", err)
	}
	// radosgw's last words ("failed to add ssl_private_key") are usually
	// there, but not always: its log thread may die before writing them.
	if !strings.Contains(err.Error(), "ssl_private_key") {
		t.Logf("radosgw's complaint about the key did not reach its log")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "cephtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}
