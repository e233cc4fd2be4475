package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// dirStat is what a test checks of a directory.
type dirStat struct {
	perm     uint32
	uid, gid uint32
	mtime    time.Time
}

func statDir(t *testing.T, path string) dirStat {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		t.Fatalf("stat %s: %v", path, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFDIR {
		t.Fatalf("%s: mode %o, not a directory", path, st.Mode)
	}
	return dirStat{perm: st.Mode & 07777, uid: st.Uid, gid: st.Gid, mtime: time.Unix(st.Mtim.Sec, st.Mtim.Nsec)}
}

// wantDir checks a directory's mode, owner and group, and its mtime when
// mtime is set.
func wantDir(t *testing.T, when, path string, perm, uid, gid uint32, mtime time.Time) {
	t.Helper()
	got := statDir(t, path)
	if got.perm != perm || got.uid != uid || got.gid != gid {
		t.Errorf("%s: %s is %04o %d:%d, want %04o %d:%d", when, filepath.Base(path), got.perm, got.uid, got.gid, perm, uid, gid)
	}
	if !mtime.IsZero() && !got.mtime.Equal(mtime) {
		t.Errorf("%s: %s has mtime %v, want %v", when, filepath.Base(path), got.mtime, mtime)
	}
}

// mkdir -m, a umask, chmod, chown and touch -d of directories are stored
// in their markers (s3fs's x-amz-meta-mode, -uid, -gid, -mtime), shown
// the same after `ls -l` of the parent, and after a remount whether the
// fresh mount first lists the parent or first looks the directory up.
func TestDirectoryModeOwnerAndMtimeSurviveListingsAndARemount(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "chown to another owner needs root")
	}
	s := newSession(t, nil)
	time.Sleep(1100 * time.Millisecond) // a new directory's mtime is not the mount's start
	before := time.Now()
	run(t, "mkdir", "-m", "700", s.path("private"))
	run(t, "sh", "-c", "umask 027 && mkdir "+s.path("masked"))
	if err := os.Mkdir(s.path("changed"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "chmod", "751", s.path("changed"))
	run(t, "chown", "1234:5678", s.path("changed"))
	if err := os.MkdirAll(s.path("dated/inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "touch", "-d", "2020-05-17 10:30:00.25 UTC", s.path("dated"))
	stamp := time.Date(2020, 5, 17, 10, 30, 0, 250_000_000, time.UTC)

	s.sync() // directory attribute changes are written behind
	fresh := statDir(t, s.path("private")).mtime
	if fresh.Before(before.Truncate(time.Second)) || fresh.After(time.Now()) {
		t.Errorf("a new directory's mtime is %v, want the time of its mkdir (%v)", fresh, before)
	}
	if md := s.metadata("private/"); md["mode"] != fmt.Sprint(syscall.S_IFDIR|0o700) || md["uid"] != "0" || md["gid"] != "0" || md["mtime"] == "" {
		t.Errorf("marker metadata of private/ = %v, want mode %d, uid 0, gid 0 and an mtime", md, syscall.S_IFDIR|0o700)
	}
	if md := s.metadata("dated/"); md["mtime"] != "1589711400.250000000" {
		t.Errorf("x-amz-meta-mtime of dated/ = %q, want 1589711400.250000000", md["mtime"])
	}
	check := func(when string) {
		t.Helper()
		wantDir(t, when, s.path("private"), 0o700, 0, 0, fresh)
		wantDir(t, when, s.path("masked"), 0o750, 0, 0, time.Time{})
		wantDir(t, when, s.path("changed"), 0o751, 1234, 5678, time.Time{})
		wantDir(t, when, s.path("dated"), 0o755, 0, 0, stamp)
	}
	check("on the mount that made them")
	run(t, "ls", "-l", s.mnt)
	check("after ls -l of the parent")

	s.remount()
	out := run(t, "ls", "-l", s.mnt) // listed before any lookup
	if !strings.Contains(out, "drwx------ ") || !strings.Contains(out, "drwxr-x--x ") {
		t.Errorf("ls -l on a fresh mount does not show the stored modes:\n%s", out)
	}
	check("after a remount and ls -l")

	s.remount()
	check("after a remount") // looked up by name first
	run(t, "ls", "-l", s.mnt)
	check("after a remount, a lookup and ls -l")
}

// A directory that exists only because keys start with its name has no
// marker: it shows the mount's defaults, and changing its attributes
// gives it one.
func TestChmodOfAnImplicitDirectoryGivesItAMarker(t *testing.T) {
	s := newSession(t, map[string]string{"a/b/file": "x"})
	wantDir(t, "before the chmod", s.path("a/b"), 0o755, uint32(os.Getuid()), uint32(os.Getgid()), time.Time{})
	if got := s.list("a/"); !slices.Equal(got, []string{"a/b/file"}) {
		t.Fatalf("keys before the chmod: %v", got)
	}
	run(t, "chmod", "700", s.path("a/b"))
	s.sync() // directory attribute changes are written behind
	if got := s.list("a/"); !slices.Equal(got, []string{"a/b/", "a/b/file"}) {
		t.Fatalf("keys after chmod of the implicit directory a/b: %v, want its marker a/b/ made", got)
	}
	if md := s.metadata("a/b/"); md["mode"] != fmt.Sprint(syscall.S_IFDIR|0o700) {
		t.Errorf("marker metadata of a/b/ = %v", md)
	}
	s.remount()
	wantDir(t, "after a remount", s.path("a/b"), 0o700, uint32(os.Getuid()), uint32(os.Getgid()), time.Time{})
	wantDir(t, "the untouched implicit parent", s.path("a"), 0o755, uint32(os.Getuid()), uint32(os.Getgid()), time.Time{})
	if got := string(s.get("a/b/file")); got != "x" {
		t.Errorf("a/b/file = %q", got)
	}
	if got, err := os.ReadFile(s.path("a/b/file")); err != nil || string(got) != "x" {
		t.Errorf("cat a/b/file through the mount: %q, %v", got, err)
	}
}

// A directory's stored mode is enforced by the kernel: another user of an
// --allow-other mount cannot list a 0700 directory, after a remount too,
// and can once it is 0755.
func TestDirectoryModeIsEnforcedForOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "switching to another user needs root")
	}
	s := newBucketSession(t)
	mnt := openMountPoint(t)
	mountAt(t, s, mnt, "--allow-other")
	t.Cleanup(func() { unmount(t, mnt) })
	dir := filepath.Join(mnt, "private")
	run(t, "mkdir", "-m", "700", dir)
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	denied := func(when string) {
		t.Helper()
		if out, err := asNobody("ls", dir); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("%s: another user listed the 0700 directory: %q, %v", when, out, err)
		}
	}
	denied("after mkdir -m 700")
	unmount(t, mnt)
	mountAt(t, s, mnt, "--allow-other")
	denied("after a remount")
	run(t, "chmod", "755", dir)
	if out, err := asNobody("ls", dir); err != nil || !strings.Contains(out, "f") {
		t.Errorf("after chmod 755 another user cannot list the directory: %q, %v", out, err)
	}
}

// requestsDuring counts the S3 requests the --debug log shows while fn
// runs (and its cancelled requests, which are logged a moment later).
func requestsDuring(t *testing.T, logFile string, fn func()) int {
	t.Helper()
	count := func() int {
		data, _ := os.ReadFile(logFile)
		return strings.Count(string(data), "s3 request")
	}
	start := count()
	fn()
	time.Sleep(300 * time.Millisecond)
	return count() - start
}

// What directories cost: a lookup sends the HEAD and the one-key listing
// it always did, plus a HEAD of the marker only where the listing carries
// no metadata and a marker exists; mkdir one PUT after its lookup.
func TestDirectoryLookupAndMkdirRequestCounts(t *testing.T) {
	s := newSession(t, map[string]string{"marked/": "", "implicit/file": "x"})
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.remount("--debug", "--log-file", logFile)
	marked := requestsDuring(t, logFile, func() { statDir(t, s.path("marked")) })
	implicit := requestsDuring(t, logFile, func() { statDir(t, s.path("implicit")) })
	mkdir := requestsDuring(t, logFile, func() { run(t, "mkdir", s.path("new")) })
	t.Logf("%s: requests for the lookup of a directory with a marker %d, without %d; for mkdir (lookup included) %d",
		env.srv.Kind, marked, implicit, mkdir)
	if marked > 3 || implicit > 2 || mkdir > 3 {
		t.Errorf("requests: lookup with marker %d (want at most 3), implicit %d (at most 2), mkdir %d (at most 3)",
			marked, implicit, mkdir)
	}
	s.remount("--debug", "--log-file", logFile)
	lsL := requestsDuring(t, logFile, func() { run(t, "ls", "-l", s.mnt) })
	t.Logf("%s: requests for ls -l of a fresh mount's root holding 3 directories: %d", env.srv.Kind, lsL)
	if lsL > 1+3 {
		t.Errorf("ls -l of 3 directories sent %d requests, want at most a listing and a HEAD per directory", lsL)
	}
}

// A renamed directory keeps its mode, owner and mtime: its marker is
// written again with its metadata.
func TestRenamedDirectoryKeepsItsAttributes(t *testing.T) {
	s := newSession(t, nil)
	run(t, "mkdir", "-m", "710", s.path("before"))
	if err := os.WriteFile(s.path("before/f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	stamp := time.Date(2021, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(s.path("before"), stamp, stamp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.path("before"), s.path("after")); err != nil {
		t.Fatal(err)
	}
	uid, gid := uint32(os.Getuid()), uint32(os.Getgid())
	wantDir(t, "after the rename", s.path("after"), 0o710, uid, gid, time.Time{})
	s.remount()
	wantDir(t, "after the rename and a remount", s.path("after"), 0o710, uid, gid, stamp)
}

// rsync -a of a tree holding empty directories with modes, owners and
// mtimes, then a remount: rsync finds no directory to change.
func TestRsyncedDirectoriesRoundTripAfterARemount(t *testing.T) {
	if _, err := exec.LookPath("rsync"); err != nil {
		miniotest.SkipOrFail(t, "rsync is not installed")
	}
	s := newSession(t, nil)
	src := t.TempDir()
	old := time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC)
	dirs := []struct {
		name string
		perm os.FileMode
		uid  int
		when time.Time
	}{
		{"empty700", 0o700, 0, old},
		{"tree", 0o750, 1234, old.Add(time.Hour)},
		{"tree/empty", 0o711, 0, old.Add(2 * time.Hour)},
		{"tree/deeper/empty", 0o755, 5678, old.Add(3 * time.Hour)},
		{"tree/deeper", 0o775, 0, old.Add(4 * time.Hour)},
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(src, d.name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(src, "tree/file"), []byte("data"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("file", filepath.Join(src, "tree/link")); err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs { // children first in the list where it matters: times last
		p := filepath.Join(src, d.name)
		if err := os.Chmod(p, d.perm); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			if err := os.Chown(p, d.uid, d.uid); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, d := range dirs {
		if err := os.Chtimes(filepath.Join(src, d.name), d.when, d.when); err != nil {
			t.Fatal(err)
		}
	}
	dst := s.path("copy") + "/"
	run(t, "rsync", "-a", src+"/", dst)
	s.remount()
	out := run(t, "rsync", "-a", "-c", "--dry-run", "-i", src+"/", s.path("copy")+"/")
	var dirLines, other []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		if len(line) > 1 && line[1] == 'd' {
			dirLines = append(dirLines, line)
		} else {
			other = append(other, line)
		}
	}
	if len(dirLines) > 0 {
		t.Errorf("after a remount rsync -a -c --dry-run -i would change directories:\n%s", strings.Join(dirLines, "\n"))
	}
	if len(other) > 0 {
		t.Logf("rsync would change files or symlinks (not directories):\n%s", strings.Join(other, "\n"))
	}
	for _, d := range dirs {
		uid := uint32(d.uid)
		if os.Geteuid() != 0 {
			uid = uint32(os.Getuid())
		}
		wantDir(t, "after rsync -a and a remount", filepath.Join(s.path("copy"), d.name), uint32(d.perm), uid, uid, d.when)
	}
}
