package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/s3mount/s3mount/internal/faultproxy"
)

// asyncSession mounts a fresh bucket with --async-upload through a fault
// proxy.
func asyncSession(t *testing.T, flags ...string) (*session, *faultproxy.Proxy, []string) {
	t.Helper()
	s := newBucketSession(t)
	p, err := faultproxy.Start(s.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	all := append([]string{"--endpoint-url", p.URL(), "--async-upload", "--max-retries", "1", "--upload-retry-delay", "200ms"}, flags...)
	s.mnt = s.mount(s.bucket, all...)
	return s, p, all
}

func uploadState(t *testing.T, path string) string {
	t.Helper()
	buf := make([]byte, 64)
	n, err := unix.Getxattr(path, "s3.upload_state", buf)
	if err != nil {
		t.Fatalf("getxattr s3.upload_state %s: %v", path, err)
	}
	return string(buf[:n])
}

// In asynchronous mode close returns with the bytes staged, the file
// shows and reads them while its upload is queued, fsync of it and
// `s3mount sync` wait for the uploads, and s3.upload_state tells which.
func TestAsyncCloseQueuesUploadsThatSyncAndFsyncWaitFor(t *testing.T) {
	s, p, _ := asyncSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Delay(1500 * time.Millisecond)})
	files := map[string][]byte{}
	for i := 0; i < 12; i++ {
		name := fmt.Sprintf("f%02d", i)
		files[name] = randomBytes(int64(70+i), 16<<10)
		if err := os.WriteFile(s.path(name), files[name], 0o644); err != nil {
			t.Fatalf("write %s: %v", name, err)
		}
	}
	// Close returned before the (delayed) PUTs answered.
	if got := uploadState(t, s.path("f11")); got != "pending" {
		t.Fatalf("s3.upload_state right after close: %q, want pending", got)
	}
	if got := s.tryGet("f11"); got != nil {
		t.Fatal("S3 had the last file already: close waited for its upload")
	}
	if b, err := os.ReadFile(s.path("f11")); err != nil || !bytes.Equal(b, files["f11"]) {
		t.Fatalf("read of a queued file: %v", err)
	}
	if names := readdirNames(t, s.mnt); len(names) != len(files) {
		t.Fatalf("ls while uploads are queued: %v", names)
	}
	// fsync through a read-only descriptor (sync FILE) waits for that file.
	fh, err := os.Open(s.path("f10"))
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Sync(); err != nil {
		t.Fatalf("fsync of a queued file: %v", err)
	}
	fh.Close()
	if !bytes.Equal(s.tryGet("f10"), files["f10"]) {
		t.Fatal("fsync returned before S3 had the file")
	}
	out, code := runS3mount(t, "sync", s.mnt)
	if code != 0 {
		t.Fatalf("s3mount sync: exit %d: %s", code, out)
	}
	for name, data := range files {
		if !bytes.Equal(s.tryGet(name), data) {
			t.Fatalf("after s3mount sync S3 lacks %s", name)
		}
		if got := uploadState(t, s.path(name)); got != "uploaded" {
			t.Fatalf("s3.upload_state of %s after sync: %q", name, got)
		}
	}
	waitFor(t, 10*time.Second, "staging files stayed after the uploads", func() bool { return len(stagedData(t, s)) == 0 })
}

// A queued upload that fails leaves the program's bytes on the mount,
// makes `s3mount sync` fail, is retried, and succeeds once the server
// answers again; an unlink of a queued file is never undone by a late
// upload.
func TestAsyncUploadFailureIsReportedBySyncAndRetried(t *testing.T) {
	s, p, _ := asyncSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
	data := []byte("queued while the server fails")
	if err := os.WriteFile(s.path("f"), data, 0o644); err != nil {
		t.Fatalf("close in asynchronous mode: %v (it must not wait for S3)", err)
	}
	if err := os.WriteFile(s.path("gone"), []byte("removed before its upload"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.path("gone")); err != nil {
		t.Fatal(err)
	}
	if out, code := runS3mount(t, "sync", s.mnt); code == 0 {
		t.Fatalf("s3mount sync while every PUT fails: exit 0: %s", out)
	}
	if b, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(b, data) {
		t.Fatalf("the mount lost the program's bytes: %v %q", err, b)
	}
	if err := unix.Setxattr(s.mnt, "s3.sync", []byte("1"), 0); !errors.Is(err, syscall.EIO) {
		t.Fatalf("s3.sync while every PUT fails: %v, want EIO", err)
	}
	p.Reset()
	waitFor(t, 15*time.Second, "the retry never uploaded the file", func() bool { return bytes.Equal(s.tryGet("f"), data) })
	if out, code := runS3mount(t, "sync", s.mnt); code != 0 {
		t.Fatalf("s3mount sync after the server recovered: exit %d: %s", code, out)
	}
	if got := s.tryGet("gone"); got != nil {
		t.Fatal("a file removed before its upload was uploaded after all")
	}
}

// Unmount waits for the queued uploads; a daemon killed with queued
// uploads loses nothing whose close returned: the next mount uploads it.
func TestAsyncUploadsSurviveUnmountAndKill(t *testing.T) {
	t.Run("unmount", func(t *testing.T) {
		s, p, _ := asyncSession(t)
		p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Delay(300 * time.Millisecond)})
		for i := 0; i < 10; i++ {
			if err := os.WriteFile(s.path(fmt.Sprintf("u%d", i)), []byte{byte(i)}, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		unmount(t, s.mnt) // waits for the daemon to exit
		for i := 0; i < 10; i++ {
			if got := s.tryGet(fmt.Sprintf("u%d", i)); len(got) != 1 || got[0] != byte(i) {
				t.Fatalf("u%d after a clean unmount: %v", i, got)
			}
		}
	})
	t.Run("kill", func(t *testing.T) {
		s, p, flags := asyncSession(t)
		p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
		want := map[string][]byte{}
		for i := 0; i < 10; i++ {
			name := fmt.Sprintf("k%d", i)
			want[name] = randomBytes(int64(90+i), 4<<10)
			if err := os.WriteFile(s.path(name), want[name], 0o644); err != nil {
				t.Fatal(err)
			}
		}
		pids := daemonsOf(s.mnt)
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		waitExited(t, pids)
		unmount(t, s.mnt)
		p.Reset()
		s.mnt = s.mount(s.bucket, flags...)
		for name, data := range want {
			if !bytes.Equal(s.tryGet(name), data) {
				t.Fatalf("%s: its close returned, the daemon was killed, the next mount did not upload it", name)
			}
		}
		kept, _ := filepath.Glob(filepath.Join(s.staging, "kept", "*.data"))
		if len(kept) != 0 {
			t.Fatalf("closed files were kept aside instead of uploaded: %v", strings.Join(kept, " "))
		}
	})
}
