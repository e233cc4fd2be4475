package versitygwtest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
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

// launch starts a gateway for one test and stops it when the test ends. A
// missing binary skips the test (or fails it under S3MOUNT_TEST_REQUIRE=1).
func launch(t *testing.T, opts Options) *Gateway {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs a versitygw")
	}
	if opts.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			miniotest.SkipOrFail(t, err.Error())
		}
		opts.Binary = bin
	}
	start := time.Now()
	g, err := Launch(opts)
	if err != nil {
		t.Fatalf("start versitygw: %v", err)
	}
	t.Logf("versitygw %s ready at %s in %v", g.Version, g.Endpoint, time.Since(start).Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("versitygw log (last lines):\n%s", g.LogTail(4096))
		}
		g.Stop()
	})
	return g
}

// call sends a signed request and returns its status and body.
func call(t *testing.T, g *Gateway, method, path string, body []byte) (int, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := g.do(ctx, method, path, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, b
}

func mustCall(t *testing.T, g *Gateway, method, path string, body []byte) []byte {
	t.Helper()
	status, b := call(t, g, method, path, body)
	if status != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d: %s", method, path, status, b)
	}
	return b
}

func TestLaunchServesBucketsAndObjectsFromThePosixDirectory(t *testing.T) {
	g := launch(t, Options{})
	if !strings.HasPrefix(g.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want a plain-HTTP loopback URL", g.Endpoint)
	}
	if g.Region != "us-east-1" || g.Version == "" || g.CertFile != "" {
		t.Fatalf("Region %q, Version %q, CertFile %q; want us-east-1, a version, no certificate", g.Region, g.Version, g.CertFile)
	}

	mustCall(t, g, http.MethodPut, "/bucket-one", nil)
	want := []byte("hello, versitygw\n")
	mustCall(t, g, http.MethodPut, "/bucket-one/dir/key.txt", want)
	if got := mustCall(t, g, http.MethodGet, "/bucket-one/dir/key.txt", nil); !bytes.Equal(got, want) {
		t.Fatalf("GET returned %q, want %q", got, want)
	}
	if list := mustCall(t, g, http.MethodGet, "/", nil); !bytes.Contains(list, []byte("<Name>bucket-one</Name>")) {
		t.Fatalf("ListBuckets does not list bucket-one: %s", list)
	}
	// The posix backend stores an object as the file its key names.
	onDisk, err := os.ReadFile(filepath.Join(g.dataDir, "bucket-one", "dir", "key.txt"))
	if err != nil || !bytes.Equal(onDisk, want) {
		t.Fatalf("object on disk: %q, %v; want %q", onDisk, err, want)
	}
	if status, body := call(t, g, http.MethodGet, "/bucket-one/missing", nil); status != http.StatusNotFound ||
		!bytes.Contains(body, []byte("<Code>NoSuchKey</Code>")) {
		t.Fatalf("GET of a missing key: HTTP %d %s, want 404 NoSuchKey", status, body)
	}
}

func TestGatewayRefusesOtherKeys(t *testing.T) {
	g := launch(t, Options{})
	other := &Gateway{Endpoint: g.Endpoint, AccessKey: g.AccessKey, SecretKey: "not-" + g.SecretKey,
		Region: g.Region, client: http.DefaultClient}
	status, body := call(t, other, http.MethodGet, "/", nil)
	if status != http.StatusForbidden {
		t.Fatalf("ListBuckets signed with a wrong secret: HTTP %d %s, want 403", status, body)
	}
}

func TestStopKillsTheGatewayAndRemovesItsDirectory(t *testing.T) {
	g := launch(t, Options{})
	pid := g.cmd.Process.Pid
	dir := g.removeOn
	if dir == "" {
		t.Fatal("a gateway in a directory of its own must remove it on Stop")
	}
	g.Stop()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process %d after Stop: kill(0) = %v, want ESRCH", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s survives Stop: %v", dir, err)
	}
	if resp, err := http.Get(g.Endpoint + "/"); err == nil {
		resp.Body.Close()
		t.Fatalf("gateway still answers after Stop: HTTP %d", resp.StatusCode)
	}
	g.Stop() // a second Stop (and the cleanup's) must be harmless
	if err := g.Restart(0); err == nil {
		t.Fatal("Restart after Stop succeeded")
	}
}

func TestStopLeavesTheCallersDirectory(t *testing.T) {
	dir := t.TempDir()
	g := launch(t, Options{Dir: dir})
	mustCall(t, g, http.MethodPut, "/kept", nil)
	g.Stop()
	if fi, err := os.Stat(filepath.Join(g.dataDir, "kept")); err != nil || !fi.IsDir() {
		t.Fatalf("bucket directory after Stop: %v; want the caller's directory kept", err)
	}
}

func TestRestartKeepsAddressKeysAndObjects(t *testing.T) {
	g := launch(t, Options{})
	mustCall(t, g, http.MethodPut, "/survivor", nil)
	mustCall(t, g, http.MethodPut, "/survivor/obj", []byte("still here"))
	endpoint, oldPid := g.Endpoint, g.cmd.Process.Pid

	if err := g.Restart(50 * time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if g.Endpoint != endpoint || g.cmd.Process.Pid == oldPid {
		t.Fatalf("after Restart: endpoint %s (was %s), pid %d (was %d); want same endpoint, new process",
			g.Endpoint, endpoint, g.cmd.Process.Pid, oldPid)
	}
	if got := mustCall(t, g, http.MethodGet, "/survivor/obj", nil); string(got) != "still here" {
		t.Fatalf("GET after Restart = %q", got)
	}
	if !strings.Contains(g.LogTail(1<<20), "restarting after 50ms") {
		t.Fatalf("log does not mark the restart:\n%s", g.LogTail(1<<20))
	}
}

func TestLaunchTLSServesTheGivenCertificate(t *testing.T) {
	certFile, keyFile := miniotest.GenerateCert(t)
	g := launch(t, Options{CertFile: certFile, KeyFile: keyFile})
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
	// Verification against only our certificate proves versitygw serves it.
	g.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	mustCall(t, g, http.MethodPut, "/secure", nil)
	mustCall(t, g, http.MethodPut, "/secure/o", []byte("x"))
}

func TestLaunchRetriesAPortLostToAnotherProcess(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return takenPort, nil
		}
		return freePort()
	}
	t.Cleanup(func() { pickPort = freePort })

	g := launch(t, Options{})
	if calls != 2 || strings.HasSuffix(g.Endpoint, fmt.Sprintf(":%d", takenPort)) {
		t.Fatalf("%d ports picked, endpoint %s; want a second try on a port other than %d", calls, g.Endpoint, takenPort)
	}
}

// versitygw chdirs into its posix root before it reads the certificate,
// so relative paths must be made absolute before it starts.
func TestLaunchTakesRelativePaths(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: this test needs a versitygw")
	}
	bin, err := FindBinary() // before the move, which would hide bin/versitygw
	if err != nil {
		miniotest.SkipOrFail(t, err.Error())
	}
	certFile, keyFile := miniotest.GenerateCert(t)
	work := t.TempDir()
	t.Chdir(work)
	if bin, err = filepath.Rel(work, bin); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{certFile, keyFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Base(f), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	g := launch(t, Options{Binary: bin, Dir: "gw", CertFile: filepath.Base(certFile), KeyFile: filepath.Base(keyFile)})
	if !filepath.IsAbs(g.CertFile) || !filepath.IsAbs(g.LogFile) {
		t.Fatalf("CertFile %q, LogFile %q: want absolute paths", g.CertFile, g.LogFile)
	}
	mustCall(t, g, http.MethodPut, "/relative", nil)
	if _, err := os.Stat(filepath.Join(work, "gw", "versitygw0", "data", "relative")); err != nil {
		t.Fatalf("Dir \"gw\" is not where the buckets went: %v", err)
	}
}

func TestLaunchRejectsACertificateWithoutKey(t *testing.T) {
	_, err := Launch(Options{Binary: "/nonexistent", CertFile: "cert.pem"})
	if err == nil || !strings.Contains(err.Error(), "key") {
		t.Fatalf("err = %v, want one about the missing key", err)
	}
}
