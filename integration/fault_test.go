package integration

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
)

// faultSession mounts a fresh bucket through a fault-injecting proxy in
// front of the test MinIO, with few retries so failures show quickly.
func faultSession(t *testing.T) (*session, *faultproxy.Proxy) {
	t.Helper()
	s := newBucketSession(t)
	p, err := faultproxy.Start(env.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL(), "--max-retries", "2")
	return s, p
}

// stagedData returns the staged data files (not kept aside) of a session.
func stagedData(t *testing.T, s *session) []string {
	t.Helper()
	// Each mount stages in a directory of its own (mount-*) under it.
	names, err := filepath.Glob(filepath.Join(s.staging, "mount-*", "*.data"))
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestFailedUploadFailsCloseKeepsDataAndNextMountUploadsIt(t *testing.T) {
	s, p := faultSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsUploadPart, Action: faultproxy.Status(500, "InternalError")})
	data := randomBytes(20, 20<<20)
	src := filepath.Join(t.TempDir(), "src")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("cp", src, s.path("big")).CombinedOutput()
	if err == nil {
		t.Fatal("cp succeeded although every part upload failed")
	}
	if !strings.Contains(string(out), "Input/output error") {
		t.Fatalf("cp's error: %s, want EIO from close", out)
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Fatalf("failed upload left multipart uploads: %v", ups)
	}
	if keys := s.list("big"); len(keys) != 0 {
		t.Fatalf("a failed upload left an object: %v", keys)
	}
	staged := stagedData(t, s)
	if len(staged) != 1 {
		t.Fatalf("staged files after the failure: %v", staged)
	}
	if kept, err := os.ReadFile(staged[0]); err != nil || !bytes.Equal(kept, data) {
		t.Fatalf("staged data not kept whole: %v", err)
	}
	p.Reset()
	s.remount("--endpoint-url", p.URL())
	if got := s.get("big"); !bytes.Equal(got, data) {
		t.Fatalf("after recovery the object has %d bytes, want the %d written", len(got), len(data))
	}
	if left := stagedData(t, s); len(left) != 0 {
		t.Fatalf("staging not cleaned after recovery: %v", left)
	}
}

func TestTransientFaultsAreRetriedAndCloseSucceeds(t *testing.T) {
	s, p := faultSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsUploadPart, Times: 1, Action: faultproxy.ResetConnection()})
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Times: 1, Action: faultproxy.Status(503, "SlowDown")})
	big := randomBytes(21, 17<<20)
	if err := os.WriteFile(s.path("big"), big, 0o644); err != nil {
		t.Fatalf("write with one reset part upload: %v", err)
	}
	if err := os.WriteFile(s.path("small"), []byte("small"), 0o644); err != nil {
		t.Fatalf("write with one SlowDown: %v", err)
	}
	if !bytes.Equal(s.get("big"), big) || string(s.get("small")) != "small" {
		t.Fatal("objects differ from what was written")
	}
	faults := 0
	for _, r := range p.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	if faults != 2 {
		t.Fatalf("%d faults injected, want 2 (the test proves nothing otherwise)", faults)
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Fatalf("multipart uploads left over: %v", ups)
	}
}

func TestBrokenGetBodyIsResumed(t *testing.T) {
	s, p := faultSession(t)
	data := randomBytes(22, 3<<20)
	s.put("obj", data)
	p.Add(faultproxy.Rule{Match: func(r *http.Request) bool { return faultproxy.IsGet(r) }, Times: 1,
		Action: faultproxy.CutResponseBody(100000)})
	got, err := os.ReadFile(s.path("obj"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read across a broken body: %d bytes, %v", len(got), err)
	}
}

func TestAddedLatencyKeepsDataCorrect(t *testing.T) {
	s, p := faultSession(t)
	p.Add(faultproxy.Rule{Action: faultproxy.Delay(30 * time.Millisecond)})
	data := randomBytes(23, 9<<20)
	if err := os.WriteFile(s.path("slow"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	s.remount("--endpoint-url", p.URL())
	got, err := os.ReadFile(s.path("slow"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read through 30 ms of latency per request: %d bytes, %v", len(got), err)
	}
}

func TestRequestHangingPastTheTimeoutIsRetried(t *testing.T) {
	s := newBucketSession(t)
	p, err := faultproxy.Start(env.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL(), "--request-timeout", "1s", "--max-retries", "3")
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Times: 1, Action: faultproxy.Hang()})
	start := time.Now()
	if err := os.WriteFile(s.path("f"), []byte("after a hang"), 0o644); err != nil {
		t.Fatalf("write with one hanging PutObject: %v", err)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("close returned after %v: the hang was not hit", d)
	}
	if string(s.get("f")) != "after a hang" {
		t.Fatal("object wrong after the retried hang")
	}
	// Every attempt hanging: close fails, it does not hang the program.
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Hang()})
	err = os.WriteFile(s.path("g"), []byte("never"), 0o644)
	if !errors.Is(err, syscall.EIO) && !errors.Is(err, syscall.ETIMEDOUT) {
		t.Fatalf("write with every PutObject hanging: %v, want EIO or ETIMEDOUT from close", err)
	}
}

func TestServerRestartedInTheMiddleOfALargeWrite(t *testing.T) {
	srv := restartableServer(t)
	s := serverSession(t, srv)
	s.mnt = s.mountOn(srv)
	data := randomBytes(24, 160<<20)
	done := make(chan error, 1)
	go func() { done <- os.WriteFile(s.path("big"), data, 0o644) }()
	time.Sleep(300 * time.Millisecond)
	if err := srv.Restart(500 * time.Millisecond); err != nil {
		t.Fatalf("restart %s: %v", srv.Kind, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("write across a server restart: %v", err)
	}
	if !bytes.Equal(s.get("big"), data) {
		t.Fatal("object differs after a write across a server restart")
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Fatalf("multipart uploads left over: %v", ups)
	}
}

// restartableServer returns a server the test may restart: one of its own
// where starting one is cheap (MinIO, versitygw), the shared Ceph gateway
// otherwise (its radosgw restarts; the cluster under it stays).
func restartableServer(t *testing.T) *s3test.Server {
	t.Helper()
	requireEnv(t)
	switch env.srv.Kind {
	case s3test.Ceph:
		return env.srv
	case s3test.External:
		miniotest.SkipOrFail(t, "an external server cannot be restarted by the tests")
	}
	return s3test.Start(t, s3test.Options{})
}

// stoppableServer is a server of the selected kind for this test alone,
// which it may stop for good (the shared one serves the other tests).
func stoppableServer(t *testing.T) *s3test.Server {
	t.Helper()
	requireEnv(t)
	if env.srv.Kind == s3test.External {
		miniotest.SkipOrFail(t, "an external server cannot be stopped by the tests")
	}
	return s3test.Start(t, s3test.Options{})
}

// Two live mounts sharing a staging directory (the default one is per
// user): a second mount's recovery leaves the first one's kept data alone,
// and once the first is unmounted, the next mount uploads it.
func TestSecondMountLeavesALiveMountsStagedDataAlone(t *testing.T) {
	s, p := faultSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
	if err := os.WriteFile(s.path("f"), []byte("mount A's bytes"), 0o644); err == nil {
		t.Fatal("write succeeded although every PutObject failed")
	}
	p.Reset()
	// Same staging directory and endpoint (recovery goes only to the
	// endpoint and account the data was staged for).
	second := s.mount(s.bucket, "--endpoint-url", p.URL())
	if keys := s.list("f"); len(keys) != 0 {
		t.Fatalf("the second mount uploaded the live first mount's staged data: %v", keys)
	}
	if staged := stagedData(t, s); len(staged) != 1 {
		t.Fatalf("staged files after the second mount started: %v, want the first mount's one", staged)
	}
	unmount(t, second)
	unmount(t, s.mnt)
	waitStagingUnlocked(t, s)
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL())
	if got := string(s.get("f")); got != "mount A's bytes" {
		t.Fatalf("after the first mount is gone, the next mount uploaded %q", got)
	}
}

// waitStagingUnlocked waits until no daemon holds a staging directory of
// the session: an unmounted daemon finishes its shutdown (and gives up
// its directory's lock) a moment after the kernel lets the mount go.
func waitStagingUnlocked(t *testing.T, s *session) {
	t.Helper()
	locks, _ := filepath.Glob(filepath.Join(s.staging, "mount-*", ".lock"))
	deadline := time.Now().Add(10 * time.Second)
	for _, l := range locks {
		for {
			f, err := os.Open(l)
			if err != nil {
				break // removed: its mount is gone
			}
			err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
			f.Close()
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("staging directory %s still locked 10 s after its unmount", filepath.Dir(l))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
