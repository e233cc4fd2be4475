package integration

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
	"github.com/s3mount/s3mount/s3io/storetest"
)

// sseNeed says what an encryption test needs of its server.
type sseNeed int

const (
	needSSEC  sseNeed = iota // customer keys (MinIO refuses them over plain HTTP)
	needKMS                  // a key for SSE-S3 and SSE-KMS
	needHTTPS                // an HTTPS endpoint
)

// sseServer returns a server fit for an encryption test. MinIO needs one of
// the test's own (HTTPS for SSE-C, a built-in KMS key for SSE-S3/KMS); Ceph
// RGW's shared gateway takes SSE-C over HTTP and has a testing KMS key, and
// versitygw's ignores encryption (which s3mount must notice), so the shared
// server does for those, except where HTTPS itself is under test.
func sseServer(t *testing.T, need sseNeed) *s3test.Server {
	t.Helper()
	requireEnv(t)
	switch {
	case env.srv.Kind == s3test.External:
		return env.srv
	case env.srv.Kind == s3test.MinIO && need == needKMS:
		return s3test.Start(t, s3test.Options{KMS: true})
	case env.srv.Kind == s3test.MinIO || need == needHTTPS:
		var opts s3test.Options
		opts.CertFile, opts.KeyFile = miniotest.GenerateCert(t)
		return s3test.Start(t, opts)
	}
	return env.srv
}

// sseRefused checks, on a server that ignores encryption (versitygw; Ceph
// RGW 16 for SSE-S3), what
// s3mount does instead of storing plaintext: a mount with these encryption
// flags fails every write with EIO, small (PutObject) and large
// (multipart), leaves no object behind, and logs why. It reports whether
// the server lacks SSE, so that the caller ends there.
func sseRefused(t *testing.T, srv *s3test.Server, flags ...string) bool {
	t.Helper()
	sseS3 := slices.Contains(flags, "AES256")
	if !lacks(t, storetest.SSE) && !(sseS3 && lacks(t, storetest.SSES3)) {
		return false
	}
	s := serverSession(t, srv)
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mountOn(srv, append(flags, "--log-file", logFile)...)
	for name, size := range map[string]int{"small": 1000, "large": 20 << 20} {
		err := os.WriteFile(s.path(name), randomBytes(int64(size), size), 0o644)
		if !errors.Is(err, syscall.EIO) {
			t.Errorf("writing %s with %v on a server that ignores encryption: %v, want EIO", name, flags, err)
		}
		if keys := s.list(name); len(keys) != 0 {
			t.Errorf("%s: plaintext left in S3 after the refused encrypted write: %v", name, keys)
		}
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Errorf("multipart uploads left: %v", ups)
	}
	unmount(t, s.mnt)
	log, _ := os.ReadFile(logFile)
	if !bytes.Contains(log, []byte("ignored the requested encryption")) {
		t.Errorf("the log does not say that the server ignored encryption:\n%s", log)
	}
	return true
}

func newKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

// httpClientFor trusts srv's certificate, when it has one, and nothing else.
func httpClientFor(t *testing.T, srv *s3test.Server) *http.Client {
	t.Helper()
	if srv.CertFile == "" {
		return &http.Client{Timeout: time.Minute}
	}
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", srv.CertFile)
	}
	return &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

// mountOn mounts the session's bucket of srv at a new mount point and
// unmounts it when the test ends.
func (s *session) mountOn(srv *s3test.Server, flags ...string) string {
	s.t.Helper()
	s.srv = srv
	return s.mount(s.bucket, flags...)
}

// remountOn unmounts the session's mount and mounts srv's bucket again.
func (s *session) remountOn(srv *s3test.Server, flags ...string) {
	s.t.Helper()
	unmount(s.t, s.mnt)
	s.mnt = s.mountOn(srv, flags...)
}

// keyFile writes content to a new file of the given mode.
func keyFile(t *testing.T, content []byte, mode os.FileMode) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "sse-c.key")
	if err := os.WriteFile(f, content, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(f, mode); err != nil {
		t.Fatal(err)
	}
	return f
}

// ssecGet reads an object with the SSE-C key (or none, when key is nil).
func (s *session) ssecGet(key string, sseKey []byte) ([]byte, error) {
	in := &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	if sseKey != nil {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(sseKey)
	}
	out, err := s.client.GetObject(context.Background(), in)
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// ssecHead is HeadObject with the SSE-C key.
func (s *session) ssecHead(key string, sseKey []byte) *s3.HeadObjectOutput {
	s.t.Helper()
	in := &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)}
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(sseKey)
	out, err := s.client.HeadObject(context.Background(), in)
	if err != nil {
		s.t.Fatalf("head %q with its SSE-C key: %v", key, err)
	}
	return out
}

func ssecHeaders(key []byte) (alg, b64, md5b64 *string) {
	sum := md5.Sum(key)
	return aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(key)), aws.String(base64.StdEncoding.EncodeToString(sum[:]))
}

// ssecPut writes an object encrypted with an SSE-C key.
func (s *session) ssecPut(key string, data []byte, sseKey []byte) {
	s.t.Helper()
	s.putWith(key, data, func(in *s3.PutObjectInput) {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(sseKey)
	})
}

// wantSSECObject checks that S3 holds want under key, readable only with
// sseKey.
func (s *session) wantSSECObject(key string, want []byte, sseKey []byte) {
	s.t.Helper()
	if _, err := s.ssecGet(key, nil); err == nil {
		s.t.Errorf("%s: the SDK read it without the SSE-C key", key)
	}
	got, err := s.ssecGet(key, sseKey)
	if err != nil {
		s.t.Errorf("%s: SDK read with the SSE-C key: %v", key, err)
		return
	}
	if !bytes.Equal(got, want) {
		s.t.Errorf("%s: the SDK read other bytes with the key (%d bytes, want %d)", key, len(got), len(want))
	}
	if alg := aws.ToString(s.ssecHead(key, sseKey).SSECustomerAlgorithm); alg != "AES256" {
		s.t.Errorf("%s: SSECustomerAlgorithm %q", key, alg)
	}
}

// keyForms are the ways a key could leak: raw, base64 and hex.
func keyForms(key []byte) map[string][]byte {
	return map[string][]byte{
		"raw":         key,
		"base64":      []byte(base64.StdEncoding.EncodeToString(key)),
		"base64url":   []byte(base64.RawURLEncoding.EncodeToString(key)),
		"hex":         []byte(hex.EncodeToString(key)),
		"hex (upper)": []byte(strings.ToUpper(hex.EncodeToString(key))),
	}
}

func wantNoKey(t *testing.T, where string, text []byte, key []byte) {
	t.Helper()
	for form, b := range keyForms(key) {
		if bytes.Contains(text, b) {
			t.Errorf("the SSE-C key (%s) is in %s", form, where)
		}
	}
}

func writeLocal(t *testing.T, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSSECFilesRoundTripAndAreUnreadableWithoutTheKey(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600)) {
		return
	}
	s := serverSession(t, srv)
	key := newKey(t)
	s.mnt = s.mountOn(srv, "--sse-c-key-file", keyFile(t, key, 0o600))

	small := []byte("small secret\n")
	large := randomBytes(21, 20<<20)
	run(t, "cp", writeLocal(t, "small", small), s.path("small"))
	run(t, "cp", writeLocal(t, "large", large), s.path("large"))
	s.wantSSECObject("small", small, key)
	s.wantSSECObject("large", large, key)

	// The same key, written in base64, reads what the raw key wrote.
	s.remountOn(srv, "--sse-c-key-file", keyFile(t, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600))
	if got := run(t, "cat", s.path("small")); got != string(small) {
		t.Errorf("cat small after remount = %q", got)
	}
	if got, want := sha(t, s.path("large")), sha(t, writeLocal(t, "want", large)); got != want {
		t.Error("the large SSE-C file read back through the mount differs from what was written")
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Errorf("multipart uploads left over: %v", ups)
	}
}

func TestSSECFilesSurviveRenameMetadataChangeAndPartialOverwrite(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600)) {
		return
	}
	s := serverSession(t, srv)
	key := newKey(t)
	flags := []string{"--sse-c-key-file", keyFile(t, key, 0o600)}
	small := []byte("renamed and relabelled")
	large := randomBytes(22, 20<<20)
	s.ssecPut("small", small, key)
	s.ssecPut("large", large, key)
	s.mnt = s.mountOn(srv, flags...)

	run(t, "mv", s.path("small"), s.path("small2"))
	run(t, "mv", s.path("large"), s.path("large2"))
	mustSetXattr(t, s.path("small2"), "user.x", "1")
	mustSetXattr(t, s.path("large2"), "user.x", "2")

	// dd conv=notrunc of 300 KiB at about 10 MiB: the rest of the object
	// is copied on the server (UploadPartCopy), which needs the key too.
	local := writeLocal(t, "large", large)
	patch := writeLocal(t, "patch", randomBytes(23, 300<<10))
	for _, target := range []string{local, s.path("large2")} {
		run(t, "dd", "if="+patch, "of="+target, "bs=4096", "seek=2600", "conv=notrunc", "status=none")
	}
	patched, err := os.ReadFile(local)
	if err != nil {
		t.Fatal(err)
	}

	s.remountOn(srv, flags...)
	if got := run(t, "cat", s.path("small2")); got != string(small) {
		t.Errorf("cat of the renamed SSE-C file = %q", got)
	}
	if got, want := sha(t, s.path("large2")), sha(t, local); got != want {
		t.Error("the large SSE-C file differs from the local copy after the same dd")
	}
	s.wantSSECObject("small2", small, key)
	s.wantSSECObject("large2", patched, key)
	for k, want := range map[string]string{"small2": "1", "large2": "2"} {
		if got := s.ssecHead(k, key).Metadata["x"]; got != want {
			t.Errorf("%s: x-amz-meta-x = %q after setfattr user.x=%s", k, got, want)
		}
	}
	if got := s.list(""); strings.Join(got, ",") != "large2,small2" {
		t.Errorf("keys after the renames: %v", got)
	}
}

func TestSSECWrongKeyIsEACCESNotEIO(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600)) {
		return
	}
	s := serverSession(t, srv)
	key := newKey(t)
	s.ssecPut("small", []byte("secret"), key)
	s.ssecPut("large", randomBytes(24, 9<<20), key)
	s.mnt = s.mountOn(srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600))
	for _, name := range []string{"small", "large"} {
		cmd := exec.Command("cat", s.path(name))
		out, err := cmd.CombinedOutput()
		if err == nil {
			t.Errorf("cat %s with the wrong key succeeded", name)
			continue
		}
		if !strings.Contains(string(out), msgEACCES) || strings.Contains(string(out), msgEIO) {
			t.Errorf("cat %s with the wrong key: %q, want %q and no I/O error", name, strings.TrimSpace(string(out)), msgEACCES)
		}
	}
	if got := run(t, "ls", s.mnt); !strings.Contains(got, "small") {
		t.Errorf("ls after the refused reads: %q", got)
	}
}

func TestSSECKeyNeverAppearsInXattrsLogOrCommandLine(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600)) {
		return
	}
	s := serverSession(t, srv)
	key := newKey(t)
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mountOn(srv, "--sse-c-key-file", keyFile(t, key, 0o600), "--debug", "--log-file", logFile)

	p := s.path("f")
	run(t, "cp", writeLocal(t, "f", []byte("secret")), p)
	run(t, "cat", p)
	mustSetXattr(t, p, "user.x", "1")
	run(t, "mv", p, s.path("g"))
	p = s.path("g")

	dump, names := dumpXattrs(t, p)
	wantNoKey(t, "getfattr -d -m - output", []byte(dump), key)
	if names["s3.sse_c_key"] {
		t.Error("s3.sse_c_key is listed")
	}
	for name := range names {
		v, err := getXattr(p, name)
		if err != nil {
			t.Errorf("a listed name cannot be read: %v", err)
		}
		wantNoKey(t, "xattr "+name, []byte(v), key)
	}
	_, err := getXattr(p, "s3.sse_c_key")
	wantXattrErr(t, "getfattr -n s3.sse_c_key", err, msgENODATA)

	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", daemonPID(t, s.mnt)))
	if err != nil {
		t.Fatal(err)
	}
	wantNoKey(t, "the daemon's /proc/PID/cmdline", cmdline, key)

	unmount(t, s.mnt)
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(log, []byte("s3 request")) {
		t.Fatalf("--debug logged no requests:\n%s", log)
	}
	wantNoKey(t, "the --debug log", log, key)
}

func TestPerFileSSECKeyXattrUnlocksThatFileOnly(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, newKey(t), 0o600)) {
		return
	}
	s := serverSession(t, srv)
	k1, k2 := newKey(t), newKey(t)
	// Raw keys are any 32 bytes, whitespace included: nothing may be trimmed.
	k1[0], k1[31] = ' ', '\n'
	s.ssecPut("one", []byte("first secret"), k1)
	s.ssecPut("two", []byte("second secret"), k2)
	s.ssecPut("three", []byte("third secret"), k1)
	s.mnt = s.mountOn(srv)

	for _, name := range []string{"one", "two", "three"} {
		if out, err := exec.Command("cat", s.path(name)).CombinedOutput(); err == nil || !strings.Contains(string(out), msgEACCES) {
			t.Errorf("cat %s without its key: %v: %q, want %q", name, err, out, msgEACCES)
		}
	}
	// 0s: setfattr decodes the base64 and sends the 32 raw bytes.
	mustSetXattr(t, s.path("one"), "s3.sse_c_key", "0s"+base64.StdEncoding.EncodeToString(k1))
	// A quoted value is sent as text: here the key's base64 form.
	mustSetXattr(t, s.path("two"), "s3.sse_c_key", `"`+base64.StdEncoding.EncodeToString(k2)+`"`)
	if got := run(t, "cat", s.path("one")); got != "first secret" {
		t.Errorf("cat one after setting its raw key = %q", got)
	}
	if got := run(t, "cat", s.path("two")); got != "second secret" {
		t.Errorf("cat two after setting its base64 key = %q", got)
	}
	if out, err := exec.Command("cat", s.path("three")).CombinedOutput(); err == nil || !strings.Contains(string(out), msgEACCES) {
		t.Errorf("cat three, same key as one but never given to it: %v: %q, want %q", err, out, msgEACCES)
	}

	_, err := getXattr(s.path("one"), "s3.sse_c_key")
	wantXattrErr(t, "getfattr -n s3.sse_c_key after setting it", err, msgENODATA)
	for _, name := range []string{"one", "two"} {
		dump, names := dumpXattrs(t, s.path(name))
		if names["s3.sse_c_key"] {
			t.Errorf("%s: s3.sse_c_key is listed", name)
		}
		wantNoKey(t, "getfattr -d -m - of "+name, []byte(dump), k1)
		wantNoKey(t, "getfattr -d -m - of "+name, []byte(dump), k2)
	}
}

func TestSSECKeyFileReadableByOthersIsRefused(t *testing.T) {
	srv := sseServer(t, needSSEC)
	s := serverSession(t, srv)
	key := newKey(t)
	key[0], key[31] = '\t', '\n' // a raw key whose edges look like whitespace
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644} {
		t.Run(fmt.Sprintf("%04o", mode), func(t *testing.T) {
			f := keyFile(t, key, mode)
			mnt := filepath.Join(t.TempDir(), "mnt")
			if err := os.Mkdir(mnt, 0o755); err != nil {
				t.Fatal(err)
			}
			defer unmount(t, mnt)
			out, code := runOn(t, srv, append(serverArgs(srv), "--sse-c-key-file", f, s.bucket, mnt)...)
			lower := strings.ToLower(out)
			if code != 2 || !(strings.Contains(lower, "readable") || strings.Contains(lower, "permission") || strings.Contains(lower, "mode")) {
				t.Errorf("a key file of mode %04o: exit %d: %q; want exit 2 and a message about its permissions", mode, code, out)
			}
			wantNoKey(t, "the error message", []byte(out), key)
			if isMounted(mnt) {
				t.Error("mounted anyway")
			}
			t.Logf("exit %d: %s", code, strings.TrimSpace(out))
		})
	}
	// A bad key file is a usage error, found before any request: an
	// unreachable endpoint does not hide it.
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{"--endpoint-url", "https://" + closedPort(t), "--force-path-style", "--sse-c-key-file", keyFile(t, key, 0o644), s.bucket, mnt}
	if out, code := runOn(t, srv, args...); code != 2 {
		t.Errorf("a key file of mode 0644 and an unreachable endpoint: exit %d: %q; want exit 2", code, out)
	}
	// The same key at mode 0600 mounts and is used: the refusal was about
	// the mode.
	if sseRefused(t, srv, "--sse-c-key-file", keyFile(t, key, 0o600)) {
		return
	}
	s.mnt = s.mountOn(srv, "--sse-c-key-file", keyFile(t, key, 0o600))
	if err := os.WriteFile(s.path("f"), []byte("with the key"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.wantSSECObject("f", []byte("with the key"), key)
}

func TestSSES3FlagEncryptsEveryNewObject(t *testing.T) {
	srv := sseServer(t, needKMS)
	if sseRefused(t, srv, "--sse", "AES256") {
		return
	}
	s := serverSession(t, srv)
	s.put("plain", []byte("not encrypted"))
	s.putWith("sdk-encrypted", []byte("e"), func(in *s3.PutObjectInput) { in.ServerSideEncryption = types.ServerSideEncryptionAes256 })
	s.mnt = s.mountOn(srv, "--sse", "AES256")
	if got := mustGetXattr(t, s.path("sdk-encrypted"), "s3.sse"); got != "AES256" {
		t.Errorf("s3.sse of an object the SDK put with SSE-S3 = %q, want AES256", got)
	}

	run(t, "cp", writeLocal(t, "large", randomBytes(25, 12<<20)), s.path("large"))
	if err := os.WriteFile(s.path("small"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "cp", s.path("small"), s.path("copy"))
	run(t, "mv", s.path("small"), s.path("moved"))
	mustSetXattr(t, s.path("copy"), "user.x", "1")
	if err := os.Mkdir(s.path("dir"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("dir/nested"), []byte("n"), 0o644); err != nil {
		t.Fatal(err)
	}

	keys := []string{"large", "moved", "copy", "dir/nested"}
	for _, key := range keys {
		if sse := s.head(key).ServerSideEncryption; sse != types.ServerSideEncryptionAes256 {
			t.Errorf("%s: S3 says ServerSideEncryption %q, want AES256", key, sse)
		}
	}
	// s3.sse of the files this mount wrote, then as a new mount sees them.
	for _, when := range []string{"after writing", "after remount"} {
		if when == "after remount" {
			s.remountOn(srv, "--sse", "AES256")
		}
		for _, key := range keys {
			if got, err := getXattr(s.path(key), "s3.sse"); got != "AES256" {
				t.Errorf("%s: s3.sse %s = %q, %v; want AES256", key, when, got, err)
			}
		}
	}
	if _, names := dumpXattrs(t, s.path("large")); !names["s3.sse"] {
		t.Error("s3.sse is not listed on an encrypted object")
	}
	_, err := getXattr(s.path("plain"), "s3.sse")
	wantXattrErr(t, "s3.sse of an object put without encryption", err, msgENODATA)
	if got := run(t, "cat", s.path("moved")); got != "small" {
		t.Errorf("cat moved = %q", got)
	}
}

func TestSSEKMSFlagUsesTheKeyAndShowsItsID(t *testing.T) {
	srv := sseServer(t, needKMS)
	if sseRefused(t, srv, "--sse", "aws:kms") {
		return
	}
	s := serverSession(t, srv)
	s.mnt = s.mountOn(srv, "--sse", "aws:kms", "--sse-kms-key-id", srv.KMSKeyID)
	run(t, "cp", writeLocal(t, "large", randomBytes(26, 12<<20)), s.path("large"))
	if err := os.WriteFile(s.path("small"), []byte("small"), 0o644); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	for _, key := range []string{"large", "small"} {
		h := s.head(key)
		ids[key] = aws.ToString(h.SSEKMSKeyId)
		if h.ServerSideEncryption != types.ServerSideEncryptionAwsKms || !strings.Contains(ids[key], srv.KMSKeyID) {
			t.Errorf("%s: S3 says %q with key %q, want aws:kms with %s", key, h.ServerSideEncryption, ids[key], srv.KMSKeyID)
		}
	}
	for _, when := range []string{"after writing", "after remount"} {
		if when == "after remount" {
			s.remountOn(srv, "--sse", "aws:kms", "--sse-kms-key-id", srv.KMSKeyID)
		}
		for key, id := range ids {
			got, err := getXattr(s.path(key), "s3.sse")
			if got != "aws:kms key="+id && got != "aws:kms key="+srv.KMSKeyID {
				t.Errorf("%s: s3.sse %s = %q, %v; want %q", key, when, got, err, "aws:kms key="+id)
			}
		}
	}
	if got := run(t, "cat", s.path("small")); got != "small" {
		t.Errorf("cat small = %q", got)
	}
}

func TestPresignedURLOverHTTPSServesTheObject(t *testing.T) {
	srv := sseServer(t, needHTTPS)
	s := serverSession(t, srv)
	data := randomBytes(27, 64<<10)
	s.put("f", data)
	s.mnt = s.mountOn(srv, "--presign-expiry", "90s")
	raw := mustGetXattr(t, s.path("f"), "s3.presigned_url")
	if !strings.HasPrefix(raw, "https://") {
		t.Fatalf("s3.presigned_url = %q on an https endpoint", raw)
	}
	if got := presignExpiry(t, raw); got != "90" {
		t.Errorf("X-Amz-Expires = %q with --presign-expiry 90s", got)
	}
	if got := presignedGet(t, httpClientFor(t, srv), raw); !bytes.Equal(got, data) {
		t.Errorf("the presigned URL served %d bytes, not the object's %d", len(got), len(data))
	}
}

// MinIO refuses SSE-C keys over plain HTTP with a bare 400 to every
// request, which can only read as a wrong key (EACCES); the mount says why
// in one line when it starts.
func TestSSECKeyOverPlainHTTPIsExplainedInTheLog(t *testing.T) {
	requireEnv(t)
	if !strings.HasPrefix(env.srv.Endpoint, "http://") {
		miniotest.SkipOrFail(t, "this test needs a server on plain HTTP, not "+env.srv.Endpoint)
	}
	s := newBucketSession(t)
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mount(s.bucket, "--sse-c-key-file", keyFile(t, newKey(t), 0o600), "--log-file", logFile)
	unmount(t, s.mnt)
	log, _ := os.ReadFile(logFile)
	if !bytes.Contains(log, []byte("SSE-C keys over plain HTTP")) || !bytes.Contains(log, []byte("https://")) {
		t.Errorf("the log does not explain SSE-C over plain HTTP:\n%s", log)
	}
}
