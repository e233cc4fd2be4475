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

// closedPort returns a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestMountFailuresExitWithClearCodeAndMessage(t *testing.T) {
	s := newBucketSession(t)
	emptyDir := func() string { d := filepath.Join(t.TempDir(), "m"); os.Mkdir(d, 0o755); return d }
	full := emptyDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o644)
	cases := []struct {
		name     string
		args     []string
		env      []string
		code     int
		contains string
	}{
		{"wrong credentials", append(baseArgs(), s.bucket, emptyDir()), []string{"AWS_SECRET_ACCESS_KEY=wrong-secret"}, 4, "credentials"},
		{"missing bucket", append(baseArgs(), "no-such-bucket-x", emptyDir()), nil, 5, "no-such-bucket-x"},
		{"unreachable endpoint", []string{"--endpoint-url", "http://" + closedPort(t), "--force-path-style", s.bucket, emptyDir()}, nil, 6, "cannot reach"},
		{"missing mount point", append(baseArgs(), s.bucket, "/nonexistent/mnt"), nil, 3, "does not exist"},
		{"non-empty mount point", append(baseArgs(), s.bucket, full), nil, 3, "not empty"},
		{"unknown flag", append(baseArgs(), "--no-such-flag", s.bucket, emptyDir()), nil, 2, "no-such-flag"},
		{"unknown -o option", append(baseArgs(), "-o", "bogus_opt", s.bucket, emptyDir()), nil, 2, "bogus_opt"},
		{"secret as option", append(baseArgs(), "-o", "secret_access_key=abc", s.bucket, emptyDir()), nil, 2, "passwd-file"},
		{"failing credentials command", append(baseArgs(), "--credentials-command",
			"echo AK wrong-secret; echo 'site portal: not logged in' >&2; exit 1", s.bucket, emptyDir()), nil, 4,
			"credentials command: exit status 1 (stderr: site portal: not logged in)"},
		{"credentials command printing garbage", append(baseArgs(), "-o", "credentials_command=echo wrong-secret", s.bucket, emptyDir()), nil, 4,
			"credentials command: printed a line of 1 words"},
		{"credentials command keys rejected", append(baseArgs(), "--credentials-command", "echo AK wrong-secret", s.bucket, emptyDir()), nil, 4,
			"credentials were rejected"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(env.bin, c.args...)
			cmd.Env = append(mountEnv(), c.env...)
			start := time.Now()
			out, err := cmd.CombinedOutput()
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			}
			msg := strings.TrimSpace(string(out))
			if code != c.code || !strings.Contains(msg, c.contains) {
				t.Fatalf("exit %d with %q; want exit %d and a message containing %q", code, msg, c.code, c.contains)
			}
			if strings.Count(msg, "\n") > 1 {
				t.Errorf("want one clear line, got:\n%s", msg)
			}
			if strings.Contains(msg, "wrong-secret") || strings.Contains(msg, env.srv.SecretKey) {
				t.Errorf("the message shows a secret: %q", msg)
			}
			t.Logf("exit %d after %v: %s", code, time.Since(start).Round(time.Millisecond), msg)
		})
	}
}

func TestSIGTERMUnmountsCleanly(t *testing.T) {
	s := newBucketSession(t)
	s.put("f", []byte("x"))
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	cmd := exec.Command(env.bin, append(baseArgs(), "--foreground", s.bucket, mnt)...)
	cmd.Env = mountEnv()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer unmount(t, mnt)
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(mnt) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("not mounted after 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := run(t, "cat", filepath.Join(mnt, "f")); got != "x" {
		t.Fatalf("cat = %q", got)
	}
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("s3mount exited with %v after SIGTERM, want 0", err)
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("s3mount still running 20s after SIGTERM")
	}
	if isMounted(mnt) {
		t.Fatal("still mounted after s3mount exited")
	}
}

func TestPasswdFileIsUsedAndRefusedWhenReadableByOthers(t *testing.T) {
	s := newBucketSession(t)
	s.put("f", []byte("via passwd file"))
	pw := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(pw, []byte("# comment\n"+s.bucket+":"+env.srv.AccessKey+":"+env.srv.SecretKey+"\nother:wrong\n"), 0o600)
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	cmd := exec.Command(env.bin, append(baseArgs(), "--passwd-file", pw, s.bucket, mnt)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()} // no keys in the environment
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount with a password file: %v: %s", err, out)
	}
	defer unmount(t, mnt)
	if got := run(t, "cat", filepath.Join(mnt, "f")); got != "via passwd file" {
		t.Fatalf("cat = %q", got)
	}
	os.Chmod(pw, 0o644)
	mnt2 := filepath.Join(t.TempDir(), "m2")
	os.Mkdir(mnt2, 0o755)
	cmd = exec.Command(env.bin, append(baseArgs(), "--passwd-file", pw, s.bucket, mnt2)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "readable by group or others") {
		t.Fatalf("a world-readable password file was accepted: %v: %s", err, out)
	}
	if strings.Contains(string(out), env.srv.SecretKey) {
		t.Fatalf("the error shows the secret: %s", out)
	}
}

func TestDebugLogNeverShowsSecrets(t *testing.T) {
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s := newSession(t, map[string]string{"f": "x"}, "--debug", "--log-file", logFile)
	run(t, "cat", filepath.Join(s.mnt, "f"))
	run(t, "ls", "-l", s.mnt)
	unmount(t, s.mnt)
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "s3 request") {
		t.Fatalf("--debug logged no requests:\n%s", data)
	}
	for _, secret := range []string{env.srv.SecretKey, "Signature=", "X-Amz-Signature"} {
		if strings.Contains(string(data), secret) {
			t.Fatalf("the debug log contains %q", secret)
		}
	}
}

// A daemon that dies of a runtime error leaves its trace in --log-file: in
// the background its stderr is /dev/null, and a crash used to leave only a
// dead mount ("Transport endpoint is not connected") and no word of why.
// SIGQUIT makes the Go runtime die as a fatal error would, trace and all.
func TestADaemonsCrashIsInItsLog(t *testing.T) {
	s := newBucketSession(t)
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	cmd := exec.Command(env.bin, append(baseArgs(), "--log-file", logFile, s.bucket, mnt)...)
	cmd.Env = mountEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount: %v\n%s", err, out)
	}
	defer exec.Command("fusermount3", "-u", "-z", mnt).Run()
	pid := daemonPID(t, mnt)
	if err := syscall.Kill(pid, syscall.SIGQUIT); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for syscall.Kill(pid, 0) == nil {
		if time.Now().After(deadline) {
			t.Fatal("the daemon still runs 10 s after SIGQUIT")
		}
		time.Sleep(20 * time.Millisecond)
	}
	b, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if log := string(b); !strings.Contains(log, "SIGQUIT") || !strings.Contains(log, "goroutine ") {
		t.Fatalf("the log has no trace of the crash:\n%s", log)
	}
}
