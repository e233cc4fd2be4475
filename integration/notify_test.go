package integration

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestForegroundMountTellsSystemdReadyAndStopping plays systemd for a
// Type=notify unit: NOTIFY_SOCKET gets READY=1 only once the mount serves,
// SIGTERM unmounts, and STOPPING=1 comes before a clean exit.
func TestForegroundMountTellsSystemdReadyAndStopping(t *testing.T) {
	s := newBucketSession(t)
	s.put("hello", []byte("world"))
	sock := filepath.Join(t.TempDir(), "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	mnt := filepath.Join(t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	args := append(serverArgs(s.srv), "--staging-dir", s.staging, "--foreground", "--async-upload", s.bucket, mnt)
	cmd := exec.Command(env.bin, args...)
	cmd.Env = append(envFor(s.srv), "NOTIFY_SOCKET="+sock)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		unmount(t, mnt)
		_ = cmd.Process.Kill()
	})

	read := func(what string) string {
		t.Helper()
		buf := make([]byte, 4096)
		ln.SetReadDeadline(time.Now().Add(30 * time.Second))
		n, err := ln.Read(buf)
		if err != nil {
			t.Fatalf("no %s notification: %v", what, err)
		}
		return string(buf[:n])
	}
	if got := read("READY"); !strings.HasPrefix(got, "READY=1\n") {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	if !isMounted(mnt) {
		t.Fatal("READY=1 came before the mount")
	}
	if b, err := os.ReadFile(filepath.Join(mnt, "hello")); err != nil || string(b) != "world" {
		t.Fatalf("read after READY=1: %q, %v", b, err)
	}
	if err := os.WriteFile(filepath.Join(mnt, "queued"), []byte("async"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if got := read("STOPPING"); !strings.HasPrefix(got, "STOPPING=1\n") {
		t.Fatalf("notification after SIGTERM %q, want STOPPING=1", got)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no exit 30 s after SIGTERM")
	}
	if isMounted(mnt) {
		t.Fatal("still mounted after a clean stop")
	}
	if got := s.get("queued"); string(got) != "async" {
		t.Fatalf("the file queued at stop is %q in S3, want it uploaded before the exit", got)
	}
}
