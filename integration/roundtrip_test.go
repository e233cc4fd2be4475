package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// sourceTree builds what tools that walk trees meet: files with modes,
// owners and old mtimes, symlinks (relative, absolute, dangling), empty
// directories with modes and mtimes, a FIFO, nesting.
func sourceTree(t *testing.T) string {
	t.Helper()
	src := filepath.Join(t.TempDir(), "src")
	old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"a/b/c", "empty700", "empty750", "bin"} {
		must(os.MkdirAll(filepath.Join(src, d), 0o755))
	}
	files := []struct {
		name     string
		mode     os.FileMode
		uid, gid int
	}{
		{"a/readme.txt", 0o644, 0, 0},
		{"a/b/data.bin", 0o600, 1000, 1000},
		{"a/b/c/deep", 0o640, 1234, 5678},
		{"bin/tool", 0o755, 0, 0},
		{"zero", 0o444, 0, 0},
	}
	for i, f := range files {
		p := filepath.Join(src, f.name)
		must(os.WriteFile(p, []byte(strings.Repeat(f.name, i*100+1)), 0o644))
		must(os.Chmod(p, f.mode))
		must(os.Lchown(p, f.uid, f.gid))
		must(os.Chtimes(p, old.Add(time.Duration(i)*time.Hour), old.Add(time.Duration(i)*time.Hour)))
	}
	must(os.Symlink("readme.txt", filepath.Join(src, "a/link-rel")))
	must(os.Symlink("/etc/hostname", filepath.Join(src, "link-abs")))
	must(os.Symlink("does/not/exist", filepath.Join(src, "a/b/dangling")))
	must(syscall.Mkfifo(filepath.Join(src, "a/fifo"), 0o620))
	must(os.Chmod(filepath.Join(src, "empty700"), 0o700))
	must(os.Chmod(filepath.Join(src, "empty750"), 0o750))
	must(os.Lchown(filepath.Join(src, "empty750"), 42, 43))
	for _, l := range []string{"a/link-rel", "link-abs", "a/b/dangling"} {
		must(exec.Command("touch", "-h", "-d", old.Format(time.RFC3339), filepath.Join(src, l)).Run())
	}
	// Directory mtimes last: entries made in them move them.
	for i, d := range []string{"a/b/c", "a/b", "a", "empty700", "empty750", "bin"} {
		tm := old.Add(time.Duration(24+i) * time.Hour)
		must(os.Chtimes(filepath.Join(src, d), tm, tm))
	}
	return src
}

// tarListing is tar's verbose listing of a tree: types, modes, owners,
// sizes, mtimes and link targets, sorted by name.
func tarListing(t *testing.T, dir string) string {
	t.Helper()
	c := exec.Command("sh", "-c", "tar --sort=name --numeric-owner -C \"$1\" -cf - . | tar --numeric-owner -tvf -", "sh", dir)
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("tar of %s: %v\n%s", dir, err, out)
	}
	return string(out)
}

// A tree copied into the mount with rsync -a comes back exactly, on a
// fresh mount: rsync finds nothing to do in either direction, tar lists
// the same types, modes, owners and mtimes, and find sees every symlink.
func TestTreeRoundTripsThroughRsyncTarAndFindAfterARemount(t *testing.T) {
	roundTrip(t)
}

// The same with --async-upload: rsync sets modes and times after each
// close, while the file's upload is queued.
func TestTreeRoundTripsInAsyncMode(t *testing.T) {
	roundTrip(t, "--async-upload")
}

func roundTrip(t *testing.T, flags ...string) {
	s := newBucketSession(t)
	s.mnt = s.mount(s.bucket, flags...)
	src := sourceTree(t)
	dst := s.path("copy")
	run(t, "rsync", "-a", src+"/", dst+"/")
	s.remount(flags...)
	dst = s.path("copy")
	run(t, "ls", "-laR", s.mnt) // as a user would, before comparing: listings must not change what a lookup says
	if out := run(t, "rsync", "-a", "-c", "--dry-run", "-i", src+"/", dst+"/"); strings.TrimSpace(out) != "" {
		t.Errorf("rsync source -> mount after a remount finds differences:\n%s", out)
	}
	if out := run(t, "rsync", "-a", "-c", "--dry-run", "-i", dst+"/", src+"/"); strings.TrimSpace(out) != "" {
		t.Errorf("rsync mount -> source after a remount finds differences:\n%s", out)
	}
	if want, got := tarListing(t, src), tarListing(t, dst); want != got {
		t.Errorf("tar listings differ:\nsource:\n%s\nmount:\n%s", want, got)
	}
	want := run(t, "find", src, "-type", "l")
	got := run(t, "find", dst, "-type", "l")
	if strings.Count(got, "\n") != strings.Count(want, "\n") || strings.Count(want, "\n") != 3 {
		t.Errorf("find -type l: mount %q, source %q", got, want)
	}
}

// git in a repository on the mount: commit files and a symlink, list
// them with ls -la, remount; git status is clean and the symlink is a
// symlink in git's index.
func TestGitRepositoryWithSymlinksStaysCleanAfterListingAndRemount(t *testing.T) {
	s := newBucketSession(t)
	s.mnt = s.mount(s.bucket)
	repo := s.path("repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) string {
		t.Helper()
		c := exec.Command("git", append([]string{"-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		c.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_SYSTEM=/dev/null")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	git("init", "-q")
	if err := os.WriteFile(filepath.Join(repo, "script.sh"), []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "notes.txt"), []byte("notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("notes.txt", filepath.Join(repo, "link")); err != nil {
		t.Fatal(err)
	}
	run(t, "ls", "-la", repo)
	git("add", "-A")
	git("commit", "-q", "-m", "first")
	s.remount()
	repo = s.path("repo") // a new mount point
	run(t, "ls", "-la", repo)
	if out := git("status", "--porcelain"); strings.TrimSpace(out) != "" {
		t.Errorf("git status after ls -la and a remount:\n%s", out)
	}
	files := git("ls-files", "-s")
	if !strings.Contains(files, "120000") || !strings.Contains(files, "100755") {
		t.Errorf("git's index lost the symlink or the executable bit:\n%s", files)
	}
}
