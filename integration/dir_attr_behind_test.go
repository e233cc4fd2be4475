package integration

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
)

// putsOf counts the PUTs of key the proxy saw.
func putsOf(recs []faultproxy.RequestRecord, bucket, key string) int {
	n := 0
	for _, r := range recs {
		if r.Method == "PUT" && r.Path == "/"+bucket+"/"+key {
			n++
		}
	}
	return n
}

// tar -x ends each directory with chown, chmod and utimens: they are
// shown at once, written behind as one PUT of the marker, kept by a
// listing meanwhile, and in S3 after `s3mount sync`.
func TestDirectoryAttributeChangesAreShownAtOnceAndWrittenAsOnePut(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "chown to another owner needs root")
	}
	s, p := faultSession(t)
	if err := os.Mkdir(s.path("d"), 0o700); err != nil {
		t.Fatal(err)
	}
	before := putsOf(p.Requests(), s.bucket, "d/")
	stamp := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chown(s.path("d"), 1234, 5678); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.path("d"), 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(s.path("d"), stamp, stamp); err != nil {
		t.Fatal(err)
	}
	run(t, "ls", "-l", s.mnt) // a listing meanwhile must not bring back what S3 still says
	wantDir(t, "at once", s.path("d"), 0o751, 1234, 5678, stamp)
	s.sync()
	if puts := putsOf(p.Requests(), s.bucket, "d/") - before; puts != 1 {
		t.Errorf("%d PUTs of the marker for chown, chmod and touch, want 1", puts)
	}
	md := s.metadata("d/")
	if md["mode"] != fmt.Sprint(syscall.S_IFDIR|0o751) || md["uid"] != "1234" || md["gid"] != "5678" || md["mtime"] != fmt.Sprint(stamp.Unix()) {
		t.Errorf("marker metadata after sync: %v", md)
	}
	s.remount()
	wantDir(t, "after a remount", s.path("d"), 0o751, 1234, 5678, stamp)
}

// A directory removed, or renamed, while its attribute change waits:
// rmdir leaves no marker behind it, a rename carries the change.
func TestRmdirAndRenameOfADirectoryWithAPendingAttributeChange(t *testing.T) {
	s := newSession(t, nil)
	for _, d := range []string{"gone", "moved"} {
		if err := os.Mkdir(s.path(d), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(s.path(d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Remove(s.path("gone")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.path("moved"), s.path("there")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // past the write-behind delay
	s.sync()
	if keys := s.allKeys(); !slices.Equal(keys, []string{"there/"}) {
		t.Fatalf("keys: %v, want only the renamed directory's marker", keys)
	}
	if md := s.metadata("there/"); md["mode"] != fmt.Sprint(syscall.S_IFDIR|0o700) {
		t.Errorf("the renamed directory's marker lost its chmod: %v", md)
	}
}

// A marker write that fails is retried; until it succeeds, fsync of the
// directory and `s3mount sync` fail, and the change stays shown.
func TestFailingDirectoryAttributeWriteFailsSyncAndIsRetried(t *testing.T) {
	s, p := faultSession(t)
	if err := os.Mkdir(s.path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	fsyncDir(t, s.mnt) // the marker is in S3 before the server fails
	remove := p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
	if err := os.Chmod(s.path("d"), 0o700); err != nil {
		t.Fatalf("chmod: %v (the write is behind it)", err)
	}
	dir, err := os.Open(s.path("d"))
	if err != nil {
		t.Fatal(err)
	}
	defer dir.Close()
	if err := dir.Sync(); err == nil {
		t.Error("fsync of the directory returned 0 while its marker cannot be written")
	}
	if out, code := runS3mount(t, "sync", s.mnt); code == 0 {
		t.Errorf("s3mount sync exit 0 while a marker cannot be written: %s", out)
	}
	wantDir(t, "while failing", s.path("d"), 0o700, uint32(os.Getuid()), uint32(os.Getgid()), time.Time{})
	remove()
	deadline := time.Now().Add(10 * time.Second)
	for s.metadata("d/")["mode"] != fmt.Sprint(syscall.S_IFDIR|0o700) {
		if time.Now().After(deadline) {
			t.Fatalf("the marker was not written by the retries: %v", s.metadata("d/"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := dir.Sync(); err != nil {
		t.Errorf("fsync of the directory after the retry: %v", err)
	}
}

// In asynchronous mode mkdir is written behind too: the directory shows at
// once (stat, ls of its parent, files in it), an rmdir of its parent sees
// it, one made and removed at once never reaches S3, and `s3mount sync`
// writes the others' markers with their attributes, one PUT each.
func TestAsyncMkdirIsWrittenBehindAndShownMeanwhile(t *testing.T) {
	s, p, _ := asyncSession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Delay(500 * time.Millisecond)})
	if err := os.MkdirAll(s.path("top/sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.path("top/sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(s.path("brief"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.path("brief")); err != nil {
		t.Fatalf("rmdir of a directory just made: %v", err)
	}
	if err := os.WriteFile(s.path("top/sub/f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if keys := s.allKeys(); len(keys) != 0 {
		t.Fatalf("S3 has %v before the write-behind delay and the queued upload", keys)
	}
	if out := run(t, "ls", s.mnt); out != "top\n" {
		t.Errorf("ls of the root meanwhile: %q, want the new directory", out)
	}
	if out := run(t, "ls", "-l", s.path("top")); !strings.Contains(out, "drwx------") || !strings.Contains(out, " sub\n") {
		t.Errorf("ls -l top meanwhile:\n%s", out)
	}
	if err := os.Remove(s.path("top")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a directory holding one still to be written: %v, want ENOTEMPTY", err)
	}
	s.sync()
	want := []string{"top/", "top/sub/", "top/sub/f"}
	if keys := s.allKeys(); !slices.Equal(keys, want) {
		t.Fatalf("keys after sync: %v, want %v", keys, want)
	}
	if puts := putsOf(p.Requests(), s.bucket, "top/sub/"); puts != 1 {
		t.Errorf("%d PUTs of top/sub/ for mkdir and chmod, want 1", puts)
	}
	if md := s.metadata("top/sub/"); md["mode"] != fmt.Sprint(syscall.S_IFDIR|0o700) {
		t.Errorf("top/sub/ marker: %v", md)
	}
	if puts := putsOf(p.Requests(), s.bucket, "brief/"); puts != 0 {
		t.Errorf("a directory made and removed at once was PUT %d times", puts)
	}
}

// fsyncDir fsyncs the directory at path, the barrier that makes the
// directory changes written behind under it durable.
func fsyncDir(t *testing.T, path string) {
	t.Helper()
	d, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatalf("fsync of %s: %v", path, err)
	}
}

// In the default mode too a mkdir is written behind, with the directory's
// chmod as one PUT; an fsync of its parent (as on ext4) writes it, and a
// second mount of the bucket then sees the directory with its mode.
func TestMkdirIsWrittenBehindInTheDefaultModeAndAParentFsyncWritesIt(t *testing.T) {
	s, p := faultSession(t)
	if err := os.MkdirAll(s.path("a/b"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.path("a/b"), 0o700); err != nil {
		t.Fatal(err)
	}
	fsyncDir(t, s.path("a"))
	if keys := s.allKeys(); !slices.Equal(keys, []string{"a/", "a/b/"}) {
		t.Fatalf("keys after the parent's fsync: %v", keys)
	}
	if puts := putsOf(p.Requests(), s.bucket, "a/b/"); puts != 1 {
		t.Errorf("%d PUTs of a/b/ for mkdir and chmod, want 1", puts)
	}
	other := s.mount(s.bucket)
	wantDir(t, "on a second mount", filepath.Join(other, "a/b"), 0o700, uint32(os.Getuid()), uint32(os.Getgid()), time.Time{})
}
