package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// asNobody runs a command as uid/gid 65534 and returns its error.
func asNobody(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// openMountPoint makes a mount point that other users can reach.
func openMountPoint(t *testing.T) string {
	dir, err := os.MkdirTemp("", "s3mount-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	mnt := filepath.Join(dir, "mnt")
	os.Mkdir(mnt, 0o755)
	return mnt
}

func TestOtherUsersNeedAllowOtherAndThenMeetPermissions(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "switching to another user needs root")
	}
	s := newBucketSession(t)
	s.put("public", []byte("for everyone"))
	s.put("secret", []byte("root only"))

	mnt := openMountPoint(t)
	if out, err := asNobody("ls", filepath.Dir(mnt)); err != nil {
		t.Fatalf("another user cannot reach the mount point at all: %v: %s", err, out)
	}
	mountAt(t, s, mnt)
	if out, err := asNobody("ls", mnt); err == nil {
		t.Fatalf("another user listed a mount without --allow-other: %s", out)
	}
	unmount(t, mnt)

	mountAt(t, s, mnt, "--allow-other")
	t.Cleanup(func() { unmount(t, mnt) })
	run(t, "chmod", "0600", filepath.Join(mnt, "secret"))
	if out, err := asNobody("cat", filepath.Join(mnt, "public")); err != nil || out != "for everyone" {
		t.Fatalf("another user reading a 0644 file with --allow-other: %q, %v", out, err)
	}
	if out, err := asNobody("cat", filepath.Join(mnt, "secret")); err == nil || !strings.Contains(out, "Permission denied") {
		t.Fatalf("another user read a 0600 file of root's: %q, %v", out, err)
	}
	if out, err := asNobody("touch", filepath.Join(mnt, "new")); err == nil {
		t.Fatalf("another user created a file in root's 0755 directory: %s", out)
	}
}

func mountAt(t *testing.T, s *session, mnt string, flags ...string) {
	t.Helper()
	args := append(baseArgs(), "--staging-dir", s.staging)
	args = append(append(args, flags...), s.bucket, mnt)
	if out, code := runS3mount(t, args...); code != 0 {
		t.Fatalf("s3mount: exit %d: %s", code, out)
	}
}

func TestNoSecretInTheDaemonsCommandLineOrEnvironment(t *testing.T) {
	s := newBucketSession(t)
	pw := filepath.Join(t.TempDir(), "passwd")
	os.WriteFile(pw, []byte(env.srv.AccessKey+":"+env.srv.SecretKey+"\n"), 0o600)
	mnt := filepath.Join(t.TempDir(), "m")
	os.Mkdir(mnt, 0o755)
	cmd := exec.Command(env.bin, append(baseArgs(), "--passwd-file", pw, "--staging-dir", s.staging, s.bucket, mnt)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	defer unmount(t, mnt)
	pid := daemonPID(t, mnt)
	for _, f := range []string{"cmdline", "environ"} {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, f))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), env.srv.SecretKey) {
			t.Fatalf("the secret key is in /proc/PID/%s of the daemon", f)
		}
	}
}

func TestCredentialsCommandKeepsSecretsOutOfPsLogsAndEnvironments(t *testing.T) {
	s := newBucketSession(t)
	s.put("f", []byte("x"))
	c := newCredsCommand(t, `tr '\0' '\n' < /proc/$$/environ > "$KEYS.environ"; tr '\0' ' ' < /proc/$$/cmdline > "$KEYS.cmdline"; cat "$KEYS"`)
	c.setKeys(t, env.srv.AccessKey+" "+env.srv.SecretKey+"\n")
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	// A secret in the mount's own environment must not reach the command.
	const envSecret = "decoy-secret-in-the-mounts-environment"
	environ := append(keylessEnv(t), "AWS_ACCESS_KEY_ID=decoy", "AWS_SECRET_ACCESS_KEY="+envSecret, "AWS_SESSION_TOKEN="+envSecret)
	mnt := s.mountWith(environ, "", "--credentials-command", c.script, "--debug", "--log-file", logFile)
	run(t, "cat", filepath.Join(mnt, "f"))
	run(t, "ls", "-l", mnt)
	pid := daemonPID(t, mnt)
	ps := run(t, "ps", "-eo", "pid,args")
	for what, b := range map[string][]byte{
		"ps -eo args":                    []byte(ps),
		"the daemon's /proc/PID/cmdline": readProc(t, pid, "cmdline"),
		"the command's command line":     readFile(t, c.keys+".cmdline"),
		"the command's environment":      readFile(t, c.keys+".environ"),
	} {
		if strings.Contains(string(b), env.srv.SecretKey) {
			t.Errorf("%s shows the secret the command printed", what)
		}
		if what == "the command's environment" && strings.Contains(string(b), envSecret) {
			t.Errorf("the command inherited AWS_SECRET_ACCESS_KEY or AWS_SESSION_TOKEN:\n%s", b)
		}
	}
	unmount(t, mnt)
	log := readFile(t, logFile)
	if !strings.Contains(string(log), "s3 request") {
		t.Fatalf("--debug logged no requests")
	}
	for _, secret := range []string{env.srv.SecretKey, envSecret, "Signature="} {
		if strings.Contains(string(log), secret) {
			t.Fatalf("the log shows %q", secret)
		}
	}
}

func readProc(t *testing.T, pid int, name string) []byte {
	t.Helper()
	return readFile(t, fmt.Sprintf("/proc/%d/%s", pid, name))
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
