package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
	"github.com/s3mount/s3mount/internal/sigv4"
)

// credsCommand is a credentials command for a test: a script that
// appends a line to a count file each time it runs and prints the keys
// file, which the test rewrites to rotate keys.
type credsCommand struct {
	dir, script, keys, count string
}

// newCredsCommand writes the script; body is shell that prints keys
// (KEYS names the keys file, COUNT the count file, which has a line for
// this run already).
func newCredsCommand(t *testing.T, body string) *credsCommand {
	t.Helper()
	dir := t.TempDir()
	c := &credsCommand{dir: dir, script: filepath.Join(dir, "keys.sh"), keys: filepath.Join(dir, "keys"),
		count: filepath.Join(dir, "runs")}
	script := fmt.Sprintf("#!/bin/sh\nKEYS=%s\nCOUNT=%s\ndate +%%s.%%N >> \"$COUNT\"\n%s\n", c.keys, c.count, body)
	if err := os.WriteFile(c.script, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return c
}

// setKeys replaces the keys file at once, so that a run never reads half
// of it.
func (c *credsCommand) setKeys(t *testing.T, content string) {
	t.Helper()
	tmp := c.keys + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, c.keys); err != nil {
		t.Fatal(err)
	}
}

// runs counts the script's runs so far.
func (c *credsCommand) runs() int {
	b, _ := os.ReadFile(c.count)
	return strings.Count(string(b), "\n")
}

// keylessEnv is an environment with no AWS keys and no AWS configuration.
func keylessEnv(t *testing.T) []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_CONFIG_FILE=/nonexistent",
		"AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true"}
}

// mountWith mounts the session's bucket from endpoint (the test server's
// when empty) with environment environ and flags, and unmounts it when the
// test ends.
func (s *session) mountWith(environ []string, endpoint string, flags ...string) string {
	s.t.Helper()
	mnt := filepath.Join(s.t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		s.t.Fatal(err)
	}
	args := serverArgs(s.srv)
	if endpoint != "" {
		args[1] = endpoint
	}
	args = append(append(append(args, "--staging-dir", s.staging), flags...), s.bucket, mnt)
	cmd := exec.Command(env.bin, args...)
	cmd.Env = environ
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("s3mount %s: %v: %s", strings.Join(args, " "), err, out)
	}
	s.t.Cleanup(func() { unmount(s.t, mnt) })
	return mnt
}

// rotationServer is the server of the key-rotation tests: the suite's
// when it is MinIO, else a MinIO started for the test. Rotating a user's
// keys needs MinIO's admin API; what is tested, the mount fetching new keys
// from its command, is the client's and the same on every server.
func rotationServer(t *testing.T) *s3test.Server {
	t.Helper()
	requireEnv(t)
	if env.srv.Kind == s3test.MinIO {
		return env.srv
	}
	if err := s3test.Missing(s3test.MinIO); err != nil {
		miniotest.SkipOrFail(t, "rotating keys needs a MinIO: "+err.Error())
	}
	srv, err := s3test.Launch(s3test.MinIO, s3test.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Stop)
	return srv
}

// minioUser creates a user of MinIO srv with the readwrite policy.
func minioUser(t *testing.T, srv *s3test.Server, name, secret string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.SetMinIOUser(ctx, name, secret, "readwrite"); err != nil {
		t.Fatal(err)
	}
}

func TestCredentialsCommandWithMSIOutputIsUsed(t *testing.T) {
	s := newBucketSession(t)
	s.put("f", []byte("via the site's command"))
	c := newCredsCommand(t, `cat "$KEYS"`)
	c.setKeys(t, env.srv.AccessKey+" "+env.srv.SecretKey+"\n") // s3info keys --machine-output
	for _, flag := range [][]string{{"--credentials-command", c.script}, {"-o", "credentials_command=" + c.script}} {
		before := c.runs()
		mnt := s.mountWith(keylessEnv(t), "", flag...)
		if got := run(t, "cat", filepath.Join(mnt, "f")); got != "via the site's command" {
			t.Fatalf("%s: cat = %q", flag[0], got)
		}
		if err := os.WriteFile(filepath.Join(mnt, "new"), []byte("written"), 0o644); err != nil {
			t.Fatalf("%s: write: %v", flag[0], err)
		}
		if got := string(s.get("new")); got != "written" {
			t.Fatalf("%s: S3 has %q", flag[0], got)
		}
		if n := c.runs() - before; n != 1 {
			t.Fatalf("%s: the command ran %d times for one mount with keys that do not expire, want 1", flag[0], n)
		}
		unmount(t, mnt)
	}
}

func TestCredentialsCommandJSONWithAShortExpiryIsRunAgainBeforeEachExpiry(t *testing.T) {
	srv := rotationServer(t)
	s := serverSession(t, srv)
	s.put("f", []byte("x"))
	const lifetime = 3 // seconds
	// Each run gives the next user's keys (users u1, u2, …), valid for
	// three seconds; once a run has given user k, the test changes user
	// k-1's secret, so that a mount still signing with old keys would be
	// rejected.
	prefix := fmt.Sprintf("exp%d-", time.Now().UnixNano()%1e6)
	const users = 10
	for i := 1; i <= users; i++ {
		minioUser(t, srv, fmt.Sprint(prefix, i), "secret-of-user-"+fmt.Sprint(i))
	}
	c := newCredsCommand(t, fmt.Sprintf(`n=$(wc -l < "$COUNT")
exp=$(date -u -d "+%d seconds" +%%Y-%%m-%%dT%%H:%%M:%%S.%%NZ)
printf '{"Version": 1, "AccessKeyId": "%s%%d", "SecretAccessKey": "secret-of-user-%%d", "Expiration": "%%s"}\n' "$n" "$n" "$exp"`,
		lifetime, prefix))
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	mnt := s.mountWith(keylessEnv(t), "", "--credentials-command", c.script, "--debug", "--log-file", logFile,
		"--metadata-ttl", "0")

	start := time.Now()
	retired := 0
	var ops int
	for time.Since(start) < 12*time.Second {
		ops++
		name := filepath.Join(mnt, fmt.Sprintf("w%d", ops%5))
		if err := os.WriteFile(name, []byte(fmt.Sprint(ops)), 0o644); err != nil {
			t.Fatalf("write %d after %v (%d runs): %v", ops, time.Since(start), c.runs(), err)
		}
		if _, err := os.ReadFile(filepath.Join(mnt, "f")); err != nil {
			t.Fatalf("read after %v: %v", time.Since(start), err)
		}
		// Retire the users of all but the newest run, half a second after
		// the mount moved on from them.
		if n := c.runs(); n-1 > retired {
			time.Sleep(500 * time.Millisecond)
			for retired < n-1 {
				retired++
				minioUser(t, srv, fmt.Sprint(prefix, retired), "retired-"+fmt.Sprint(retired))
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	runs := c.runs()
	unmount(t, mnt)
	log, _ := os.ReadFile(logFile)
	t.Logf("%d runs of the command in %v with keys of %ds (%d retired), %d write+read rounds", runs, time.Since(start).Round(time.Millisecond), lifetime, retired, ops)
	// At 2.7 s of each 3 s: at least 4 runs in 12 s.
	if runs < 4 || runs > users {
		t.Fatalf("%d runs in 12 s of keys lasting %d s, want 4 to %d", runs, lifetime, users)
	}
	if retired < 2 {
		t.Fatalf("only %d users retired: the test proved nothing", retired)
	}
	if n := strings.Count(string(log), "S3 rejected the keys"); n != 0 {
		t.Fatalf("%d rejections: the keys were not renewed before they expired\n%s", n, lastLines(log, 20))
	}
	for i := 1; i <= runs; i++ {
		if strings.Contains(string(log), "secret-of-user-"+fmt.Sprint(i)) {
			t.Fatalf("the log shows a secret")
		}
	}
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

func TestKeysRotatedOnTheServerDuringALongCopyAreFetchedAgain(t *testing.T) {
	srv := rotationServer(t)
	s := serverSession(t, srv)
	user := fmt.Sprintf("rot%d", time.Now().UnixNano()%1e6)
	minioUser(t, srv, user, "first-secret-1234")
	c := newCredsCommand(t, `cat "$KEYS"`)
	c.setKeys(t, user+" first-secret-1234\n")
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	mnt := s.mountWith(keylessEnv(t), "", "--credentials-command", c.script, "--debug", "--log-file", logFile,
		"--part-size", "5MiB")

	// cp reads a FIFO that the test feeds slowly: 60 MiB over about 6 s,
	// with the secret changed after 3 s.
	const size, chunk = 60 << 20, 1 << 20
	data := randomBytes(15, size)
	fifo := filepath.Join(t.TempDir(), "source")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cp := exec.Command("cp", fifo, filepath.Join(mnt, "big"))
	var cpOut bytes.Buffer
	cp.Stdout, cp.Stderr = &cpOut, &cpOut
	start := time.Now()
	if err := cp.Start(); err != nil {
		t.Fatal(err)
	}
	w, err := os.OpenFile(fifo, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	var rotatedAt time.Duration
	for off := 0; off < size; off += chunk {
		if _, err := w.Write(data[off : off+chunk]); err != nil {
			t.Fatalf("feeding cp: %v", err)
		}
		if off == size/2 {
			// The command prints the new keys before the server takes them.
			c.setKeys(t, user+" second-secret-5678\n")
			minioUser(t, srv, user, "second-secret-5678")
			rotatedAt = time.Since(start)
		}
		time.Sleep(100 * time.Millisecond)
	}
	w.Close()
	if err := cp.Wait(); err != nil {
		log, _ := os.ReadFile(logFile)
		t.Fatalf("cp across a key rotation: %v: %s\nlog:\n%s", err, cpOut.String(), lastLines(log, 40))
	}
	done := time.Since(start)
	got := s.get("big")
	if !bytes.Equal(got, data) {
		t.Fatalf("S3 holds %d bytes, not the %d copied", len(got), size)
	}
	// The old secret is dead: the rotation was real.
	old := sigv4.Keys{AccessKey: user, SecretKey: "first-secret-1234", Region: srv.Region}
	resp, err := old.Do(context.Background(), http.DefaultClient, http.MethodGet, srv.Endpoint, "/"+s.bucket+"?list-type=2", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("the old secret still works (HTTP %d)", resp.StatusCode)
	}
	unmount(t, mnt)
	log, _ := os.ReadFile(logFile)
	rejections := strings.Count(string(log), "S3 rejected the keys")
	t.Logf("60 MiB cp: secret changed at %v, cp done at %v; %d runs of the command, %d rejections logged",
		rotatedAt.Round(time.Millisecond), done.Round(time.Millisecond), c.runs(), rejections)
	if c.runs() != 2 || rejections < 1 {
		t.Fatalf("%d runs and %d rejections, want 2 runs (mount, rotation) and a rejection\n%s", c.runs(), rejections, lastLines(log, 30))
	}
	for _, secret := range []string{"first-secret-1234", "second-secret-5678", "Signature="} {
		if strings.Contains(string(log), secret) {
			t.Fatalf("the log shows %q", secret)
		}
	}
}

func TestAFailingCommandLaterGivesEACCESAndALogLineThenRecovers(t *testing.T) {
	srv := rotationServer(t)
	s := serverSession(t, srv)
	s.put("f", []byte("data"))
	user := fmt.Sprintf("fail%d", time.Now().UnixNano()%1e6)
	minioUser(t, srv, user, "good-secret-1234")
	// The command fails while a marker file exists, saying so on stderr.
	c := newCredsCommand(t, `if [ -e "$KEYS.broken" ]; then echo "portal down, token=stderr-secret" >&2; exit 2; fi; cat "$KEYS"`)
	c.setKeys(t, user+" good-secret-1234\n")
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	mnt := s.mountWith(keylessEnv(t), "", "--credentials-command", c.script, "--log-file", logFile,
		"--metadata-ttl", "0", "--cache-size", "16MiB", "--block-size", "64KiB")
	if got := run(t, "cat", filepath.Join(mnt, "f")); got != "data" {
		t.Fatalf("cat = %q", got)
	}
	os.WriteFile(c.keys+".broken", nil, 0o600)
	minioUser(t, srv, user, "new-secret-5678") // the mount's keys die
	c.setKeys(t, user+" new-secret-5678\n")
	err := os.WriteFile(filepath.Join(mnt, "g"), []byte("x"), 0o644)
	if !errors.Is(err, syscall.EACCES) {
		t.Fatalf("write with dead keys and a failing command: %v, want EACCES", err)
	}
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "credentials command failed") || !strings.Contains(string(log), "exit status 2") {
		t.Fatalf("no log line for the failing command:\n%s", log)
	}
	if strings.Contains(string(log), "stderr-secret") || strings.Contains(string(log), "secret-5678") {
		t.Fatalf("the log shows what the command wrote to stderr or a secret:\n%s", log)
	}
	os.Remove(c.keys + ".broken")
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := os.WriteFile(filepath.Join(mnt, "g"), []byte("x"), 0o644)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("the command works again, yet writes fail: %v\nlog:\n%s", err, lastLines(log, 30))
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Logf("%d runs of the command", c.runs())
}

// emptySecretGateway stands for a token-scheme gateway (OSiRIS's RGW): it
// accepts requests signed for accessKey with an empty secret, checking
// the signature and the payload hash, and sends them on to the test
// server signed with its keys; anything else gets 403.
type emptySecretGateway struct {
	accessKey          string
	accepted, rejected atomic.Int32
	mu                 sync.Mutex
	why                []string
}

func (g *emptySecretGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ak, err := sigv4.Verify(r, "")
	if err == nil && ak != g.accessKey {
		err = fmt.Errorf("access key %q", ak)
	}
	if h := r.Header.Get("X-Amz-Content-Sha256"); err == nil && h != "UNSIGNED-PAYLOAD" {
		if sum := sha256.Sum256(body); h != hex.EncodeToString(sum[:]) {
			err = errors.New("payload hash does not match the body")
		}
	}
	if err != nil {
		g.rejected.Add(1)
		g.mu.Lock()
		g.why = append(g.why, r.Method+" "+r.URL.Path+": "+err.Error())
		g.mu.Unlock()
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<Error><Code>SignatureDoesNotMatch</Code><Message>gateway: bad signature</Message></Error>`)
		return
	}
	g.accepted.Add(1)
	req, err := http.NewRequestWithContext(r.Context(), r.Method, env.srv.Endpoint+r.URL.RequestURI(), bytes.NewReader(body))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	for name, vs := range r.Header {
		switch strings.ToLower(name) {
		case "authorization", "x-amz-date", "x-amz-content-sha256", "content-length", "amz-sdk-invocation-id", "amz-sdk-request":
			continue
		}
		req.Header[name] = vs
	}
	sigv4.Keys{AccessKey: env.srv.AccessKey, SecretKey: env.srv.SecretKey, Region: env.srv.Region}.Sign(req, body, time.Now())
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for name, vs := range resp.Header {
		w.Header()[name] = vs
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func TestAnEmptySecretIsAcceptedAndSignsRequests(t *testing.T) {
	s := newBucketSession(t)
	if u, _ := url.Parse(env.srv.Endpoint); u == nil || u.Scheme != "http" {
		miniotest.SkipOrFail(t, "the signature-checking gateway forwards to a plain-HTTP test server only, not "+env.srv.Endpoint)
	}
	s.put("f", []byte("behind a token gateway"))
	gw := &emptySecretGateway{accessKey: "OSIRIS-TOKEN-KEY"}
	front := httptest.NewServer(gw)
	t.Cleanup(front.Close)
	pw := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(pw, []byte(gw.accessKey+":\n"), 0o600)
	for name, how := range map[string]struct {
		env   []string
		flags []string
	}{
		"password file ACCESS:": {keylessEnv(t), []string{"--passwd-file", pw}},
		"empty AWS_SECRET_ACCESS_KEY": {append(keylessEnv(t), "AWS_ACCESS_KEY_ID="+gw.accessKey, "AWS_SECRET_ACCESS_KEY="),
			nil},
	} {
		t.Run(name, func(t *testing.T) {
			before := gw.accepted.Load()
			mnt := s.mountWith(how.env, front.URL, how.flags...)
			if got := run(t, "cat", filepath.Join(mnt, "f")); got != "behind a token gateway" {
				t.Fatalf("cat = %q", got)
			}
			key := "w-" + strings.Fields(name)[0]
			if err := os.WriteFile(filepath.Join(mnt, key), []byte("written with an empty secret"), 0o644); err != nil {
				t.Fatalf("write: %v", err)
			}
			if ls := run(t, "ls", mnt); !strings.Contains(ls, key) {
				t.Fatalf("ls = %q", ls)
			}
			unmount(t, mnt)
			if got := string(s.get(key)); got != "written with an empty secret" {
				t.Fatalf("S3 has %q", got)
			}
			gw.mu.Lock()
			defer gw.mu.Unlock()
			if n := gw.rejected.Load(); n != 0 {
				t.Fatalf("the gateway rejected %d requests: %v", n, gw.why)
			}
			t.Logf("%d requests signed with the empty secret, each checked by the gateway", gw.accepted.Load()-before)
		})
	}
	// MinIO itself refuses an empty secret (it has no such user): the
	// gateway is what makes the scheme work, as at OSiRIS.
	k := sigv4.Keys{AccessKey: gw.accessKey, Region: env.srv.Region}
	resp, err := k.Do(context.Background(), http.DefaultClient, http.MethodGet, env.srv.Endpoint, "/"+s.bucket+"?list-type=2", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	t.Logf("%s answers an empty secret directly with HTTP %d (%s)", env.srv.Kind, resp.StatusCode, codeOf(b))
}

func codeOf(b []byte) string {
	s := string(b)
	i, j := strings.Index(s, "<Code>"), strings.Index(s, "</Code>")
	if i < 0 || j < i {
		return "no code"
	}
	return s[i+6 : j]
}
