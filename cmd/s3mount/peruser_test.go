package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/internal/miniotest"
)

func TestPerUserFlagsAreChecked(t *testing.T) {
	if o := parse(t, "--per-user", "--allow-other", "/mnt"); !o.PerUser || !o.AllowOther || o.Bucket != "" {
		t.Fatalf("--per-user --allow-other /mnt: %+v", o)
	}
	if o := parse(t, "-o", "per_user,allow_other", "/mnt"); !o.PerUser {
		t.Fatal("-o per_user did not set --per-user")
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--per-user", "/mnt"}, "--per-user needs --allow-other"},
		{[]string{"--per-user", "--allow-other", "mybucket", "/mnt"}, "no bucket"},
		{[]string{"--per-user", "--allow-other", "--passwd-file", "/etc/p", "/mnt"}, "--passwd-file has no place"},
		{[]string{"--per-user", "--allow-other", "--profile", "x", "/mnt"}, "--profile"},
		{[]string{"--per-user", "--allow-other", "--no-sign-request", "/mnt"}, "--no-sign-request"},
		{[]string{"--per-user", "--allow-other", "--cache-dir", "/var/cache/s3", "/mnt"}, "--cache-dir"},
		{[]string{"--per-user", "--allow-other", "--uid", "5", "/mnt"}, "--uid and --gid"},
		{[]string{"--per-user", "--allow-other", "-o", "gid=5", "/mnt"}, "--uid and --gid"},
	} {
		if got := parseErr(t, c.args...); !strings.Contains(got, c.want) {
			t.Errorf("%q: %q, want %q", c.args, got, c.want)
		}
	}
}

// TestUserPasswdFileIsReadSafely: as root, a user's ~/.passwd-s3fs is used
// only when it is a regular file of theirs that nobody else may read.
func TestUserPasswdFileIsReadSafely(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "needs root to give files another owner")
	}
	const uid = 4242
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode, owner int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, owner, owner); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", "# keys\nbucket:BK:BS\nAK:SECRET\n", 0o600, uid)
	c, err := readUserPasswd(good, uid)
	if err != nil || c.AccessKeyID != "AK" || c.SecretAccessKey != "SECRET" {
		t.Fatalf("a good file: %v, %v", c.AccessKeyID, err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(good, link); err != nil {
		t.Fatal(err)
	}
	hard := filepath.Join(dir, "hard")
	other := write("other", "AK:SECRET\n", 0o600, uid+1)
	if err := os.Link(other, hard); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscallMkfifo(fifo, uid); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path, want string
	}{
		{write("open", "AK:SECRET\n", 0o640, uid), "readable by group or others"},
		{write("world", "AK:SECRET\n", 0o604, uid), "readable by group or others"},
		{other, "not owned by the user"},
		{hard, "not owned by the user"},
		{link, "symbolic link"},
		{fifo, "not a regular file"},
		{write("bucketonly", "b:AK:SECRET\n", 0o600, uid), "no keys"},
		{dir, "not a regular file"},
	} {
		_, err := readUserPasswd(c.path, uid)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", filepath.Base(c.path), err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: the error shows the secret: %v", filepath.Base(c.path), err)
		}
	}
	if _, err := readUserPasswd(filepath.Join(dir, "none"), uid); !os.IsNotExist(err) {
		t.Errorf("a missing file: %v, want not-exist (the credentials command is then used)", err)
	}
}

func syscallMkfifo(path string, uid int) error {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return err
	}
	return os.Chown(path, uid, uid)
}
