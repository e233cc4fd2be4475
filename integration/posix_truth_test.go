package integration

// Tests of issue 12, "a file system that tells the truth": calls that
// reported an error, a mode or a link count other than what is so.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/internal/miniotest"
)

func TestFsyncOfReadOnlyAndDirectoryDescriptorsSucceeds(t *testing.T) {
	s := newSession(t, map[string]string{"dir/f": "content"})
	for _, c := range []struct {
		what  string
		path  string
		flags int
	}{
		{"a read-only file descriptor", s.path("dir/f"), syscall.O_RDONLY},
		{"a directory descriptor", s.path("dir"), syscall.O_RDONLY | syscall.O_DIRECTORY},
		{"the mount's root directory", s.mnt, syscall.O_RDONLY | syscall.O_DIRECTORY},
	} {
		fd, err := syscall.Open(c.path, c.flags|syscall.O_CLOEXEC, 0)
		if err != nil {
			t.Fatalf("open %s: %v", c.what, err)
		}
		if err := syscall.Fsync(fd); err != nil {
			t.Errorf("fsync of %s: %v, want success", c.what, err)
		}
		if err := syscall.Fdatasync(fd); err != nil {
			t.Errorf("fdatasync of %s: %v, want success", c.what, err)
		}
		syscall.Close(fd)
	}
	run(t, "sync", s.path("dir/f"))
	run(t, "sync", "--data", s.path("dir/f"))
	run(t, "sync", s.path("dir"))

	// The atomic save: write a temporary file, fsync it, rename it over
	// the file, fsync the directory.
	tmp := s.path("dir/.f.tmp")
	if err := os.WriteFile(tmp, []byte("saved"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, s.path("dir/f")); err != nil {
		t.Fatal(err)
	}
	d, err := os.Open(s.path("dir"))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Errorf("fsync of the directory after the rename: %v", err)
	}
	d.Close()
	if got := s.get("dir/f"); string(got) != "saved" {
		t.Errorf("S3 holds %q after the atomic save, want %q", got, "saved")
	}
}

func TestPathsWhoseKeyIsOverS3sLimitAreENAMETOOLONG(t *testing.T) {
	s := newSession(t, map[string]string{"short": "x", "mv/" + strings.Repeat("q", 200): "y"})
	// Five 200-byte directories: "d0/…/d4/" is a 1,005-byte marker key,
	// and every component is far below NAME_MAX.
	var parts []string
	for i := range 5 {
		parts = append(parts, strings.Repeat(fmt.Sprint(i), 200))
	}
	deep := filepath.Join(parts...)
	if err := os.MkdirAll(s.path(deep), 0o755); err != nil {
		t.Fatalf("mkdir -p of a 1,005-byte key: %v", err)
	}
	dir := deep + "/"
	room := 1024 - len(dir) // the longest name that still fits

	fits := s.path(dir + strings.Repeat("f", room))
	if err := os.WriteFile(fits, []byte("fits"), 0o644); err != nil {
		t.Fatalf("create of a 1,024-byte key: %v", err)
	}
	if err := os.Mkdir(s.path(dir+strings.Repeat("m", room-1)), 0o755); err != nil {
		t.Fatalf("mkdir whose marker is a 1,024-byte key: %v", err)
	}

	long := s.path(dir + strings.Repeat("x", room+1))
	wantErrno := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, syscall.ENAMETOOLONG) {
			t.Errorf("%s of a %d-byte key: %v, want ENAMETOOLONG", what, 1024+1, err)
		}
	}
	f, err := os.OpenFile(long, os.O_CREATE|os.O_WRONLY, 0o644)
	if err == nil {
		err = f.Close()
	}
	wantErrno("create", err)
	wantErrno("mkdir", os.Mkdir(s.path(dir+strings.Repeat("m", room)), 0o755))
	wantErrno("symlink", os.Symlink("short", long))
	wantErrno("rename of a file", os.Rename(s.path("short"), long))
	// A directory rename that would make one key under it too long: "mv/"
	// holds a 200-byte name.
	wantErrno("rename of a directory", os.Rename(s.path("mv"), s.path(dir+"mv")))

	var tooLong []string
	for _, k := range s.list("") {
		if len(k) > 1024 {
			tooLong = append(tooLong, k)
		}
	}
	if len(tooLong) > 0 {
		t.Errorf("keys over 1,024 bytes in S3: %q", tooLong)
	}
	if got := s.get("short"); string(got) != "x" {
		t.Errorf("the file renamed in vain holds %q", got)
	}
	if got := s.list("mv/"); len(got) != 1 {
		t.Errorf("the directory renamed in vain holds %q", got)
	}
	if got := s.list(dir + "mv/"); len(got) != 0 {
		t.Errorf("the refused directory rename copied %q", got)
	}
}

func TestModeZeroIsShownAndEnforcedForOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "switching to another user needs root")
	}
	s := newBucketSession(t)
	mnt := openMountPoint(t)
	mountAt(t, s, mnt, "--allow-other")
	t.Cleanup(func() { unmount(t, mnt) })
	p := filepath.Join(mnt, "locked")
	if err := os.WriteFile(p, []byte("nobody may read this"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := asNobody("cat", p); err != nil {
		t.Fatalf("another user cannot read the 0644 file before the chmod: %v: %s", err, out)
	}
	if err := os.Chmod(p, 0); err != nil {
		t.Fatal(err)
	}
	// Created with mode 0000 and still open: the mode is the one asked for.
	fresh := filepath.Join(mnt, "fresh")
	f, err := os.OpenFile(fresh, os.O_CREATE|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	wantMode := func(when, path string) {
		t.Helper()
		fi, err := os.Lstat(path)
		if err != nil {
			t.Fatalf("%s: %v", when, err)
		}
		if got := fi.Mode(); got.Perm() != 0 || !got.IsRegular() {
			t.Errorf("%s: %s shows mode %v, want ---------- (0000)", when, filepath.Base(path), got)
		}
	}
	wantMode("after chmod 0000", p)
	wantMode("while open after create with mode 0000", fresh)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantMode("after close", fresh)
	if got := s.metadata("locked")["mode"]; got != fmt.Sprint(syscall.S_IFREG) {
		t.Errorf("x-amz-meta-mode = %q, want %d (S_IFREG|0000)", got, syscall.S_IFREG)
	}

	checkEnforced := func(when string) {
		t.Helper()
		for _, name := range []string{"locked", "fresh"} {
			out, err := asNobody("cat", filepath.Join(mnt, name))
			if err == nil || !strings.Contains(out, "Permission denied") {
				t.Errorf("%s: another user read the 0000 file %s: %q, %v", when, name, out, err)
			}
		}
	}
	checkEnforced("after chmod")

	unmount(t, mnt)
	mountAt(t, s, mnt, "--allow-other")
	wantMode("after a remount", p)
	wantMode("after a remount", fresh)
	checkEnforced("after a remount")
	// ls -l reads attributes from the listing (readdirplus), then looks
	// the file up: the listing's default mode must not stand in for 0000
	// once the metadata is known.
	run(t, "ls", "-l", mnt)
	wantMode("after ls -l", p)
}

func TestFstatOfAnUnlinkedOpenFileSaysNoLinks(t *testing.T) {
	s := newSession(t, map[string]string{"gone": "still readable", "replaced": "old bytes", "new": "new bytes", "unread": "never read"})
	nlink := func(f *os.File) uint64 {
		t.Helper()
		var st syscall.Stat_t
		if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
			t.Fatalf("fstat %s: %v", f.Name(), err)
		}
		return uint64(st.Nlink)
	}
	readAll := func(f *os.File) string {
		t.Helper()
		buf := make([]byte, 100)
		n, err := f.ReadAt(buf, 0)
		if n == 0 && err != nil {
			t.Fatalf("read %s through the open descriptor: %v", f.Name(), err)
		}
		return string(buf[:n])
	}

	f, err := os.Open(s.path("gone"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := nlink(f); got != 1 {
		t.Errorf("fstat of a linked file: nlink %d, want 1", got)
	}
	// Read before the unlink: S3 has no bytes for a deleted object, so an
	// open descriptor keeps only what it has read (SEMANTICS.md).
	readAll(f)
	if err := os.Remove(s.path("gone")); err != nil {
		t.Fatal(err)
	}
	if got := nlink(f); got != 0 {
		t.Errorf("fstat after unlink: nlink %d, want 0", got)
	}
	if got := readAll(f); got != "still readable" {
		t.Errorf("read after unlink = %q", got)
	}

	// What was not read before the unlink is gone with the object.
	unread, err := os.Open(s.path("unread"))
	if err != nil {
		t.Fatal(err)
	}
	defer unread.Close()
	if err := os.Remove(s.path("unread")); err != nil {
		t.Fatal(err)
	}

	// A file made again under the name is another file, with a link.
	if err := os.WriteFile(s.path("gone"), []byte("a new file"), 0o644); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := syscall.Stat(s.path("gone"), &st); err != nil {
		t.Fatal(err)
	}
	var old syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &old); err != nil {
		t.Fatal(err)
	}
	if st.Nlink != 1 || st.Ino == old.Ino {
		t.Errorf("the new file: nlink %d ino %d; the unlinked one still open: nlink %d ino %d", st.Nlink, st.Ino, old.Nlink, old.Ino)
	}
	if got := readAll(f); got != "still readable" {
		t.Errorf("read of the unlinked file after a new one took its name = %q", got)
	}

	// Replaced by a rename.
	g, err := os.Open(s.path("replaced"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	readAll(g)
	if err := os.Rename(s.path("new"), s.path("replaced")); err != nil {
		t.Fatal(err)
	}
	if got := nlink(g); got != 0 {
		t.Errorf("fstat of a file replaced by a rename: nlink %d, want 0", got)
	}
	if got := readAll(g); got != "old bytes" {
		t.Errorf("read of the replaced file = %q", got)
	}
	if _, err := unread.ReadAt(make([]byte, 10), 0); !errors.Is(err, syscall.ENOENT) {
		t.Errorf("read of an unlinked file's bytes never read before: %v, want ENOENT (SEMANTICS.md)", err)
	}

	// Open for writing when unlinked.
	w, err := os.Create(s.path("written"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.WriteString("staged"); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(s.path("written")); err != nil {
		t.Fatal(err)
	}
	if got := nlink(w); got != 0 {
		t.Errorf("fstat of an unlinked file open for writing: nlink %d, want 0", got)
	}
	if fi, err := w.Stat(); err != nil || fi.Size() != 6 {
		t.Errorf("fstat of an unlinked file open for writing: %v, %v; want size 6", fi, err)
	}
}

func TestPresignedURLIsAbsentOnUnsignedMounts(t *testing.T) {
	s := newBucketSession(t)
	s.put("pub", []byte("public"))
	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},`+
		`"Action":["s3:GetObject","s3:ListBucket","s3:GetBucketLocation"],`+
		`"Resource":["arn:aws:s3:::%s","arn:aws:s3:::%s/*"]}]}`, s.bucket, s.bucket)
	if _, err := s.client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{
		Bucket: aws.String(s.bucket), Policy: aws.String(policy)}); err != nil {
		t.Fatalf("%s refuses a public-read bucket policy: %v", s.srv.Kind, err)
	}
	s.mnt = s.mount(s.bucket, "--no-sign-request", "--read-only")
	p := s.path("pub")
	data, err := os.ReadFile(p)
	if err != nil || string(data) != "public" {
		t.Fatalf("%s does not serve the public bucket anonymously: %q, %v", s.srv.Kind, data, err)
	}
	buf := make([]byte, 4096)
	if _, err := syscall.Getxattr(p, "s3.presigned_url", buf); !errors.Is(err, syscall.ENODATA) {
		t.Errorf("getxattr s3.presigned_url on an unsigned mount: %v, want ENODATA", err)
	}
	n, err := syscall.Listxattr(p, buf)
	if err != nil {
		t.Fatalf("listxattr: %v", err)
	}
	for _, name := range strings.Split(string(buf[:n]), "\x00") {
		if name == "s3.presigned_url" {
			t.Errorf("listxattr on an unsigned mount lists s3.presigned_url: %q", buf[:n])
		}
	}
}

func TestFallocateGrowsTheFileAndRefusesOtherModes(t *testing.T) {
	s := newSession(t, map[string]string{"short": "0123456789", "kept": "unchanged"})
	wantObject := func(key string, want []byte) {
		t.Helper()
		fi, err := os.Stat(s.path(key))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() != int64(len(want)) {
			t.Errorf("%s: size %d, want %d", key, fi.Size(), len(want))
		}
		if got := s.get(key); !bytes.Equal(got, want) {
			t.Errorf("S3 holds %d bytes for %s, want %d (the old bytes, then zeros)", len(got), key, len(want))
		}
	}

	run(t, "fallocate", "-l", "1M", s.path("new"))
	wantObject("new", make([]byte, 1<<20))

	run(t, "fallocate", "-o", "5", "-l", "20", s.path("short"))
	wantObject("short", append([]byte("0123456789"), make([]byte, 15)...))
	run(t, "fallocate", "-o", "0", "-l", "4", s.path("short")) // inside the file: nothing changes
	wantObject("short", append([]byte("0123456789"), make([]byte, 15)...))

	// posix_fallocate(3) sends mode 0 too.
	f, err := os.OpenFile(s.path("short"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, 40); err != nil {
		t.Errorf("fallocate(fd, 0, 0, 40): %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	wantObject("short", append([]byte("0123456789"), make([]byte, 30)...))

	s.remount()
	wantObject("new", make([]byte, 1<<20))

	for _, mode := range [][]string{{"-n", "-l", "1M"}, {"-p", "-o", "0", "-l", "4"}, {"-z", "-o", "0", "-l", "4"}} {
		args := append(mode, s.path("kept"))
		out, err := exec.Command("fallocate", args...).CombinedOutput()
		// EOPNOTSUPP: "Operation not supported", or for KEEP_SIZE
		// fallocate(1)'s own "keep size mode is unsupported".
		if err == nil || !strings.Contains(string(out), "supported") {
			t.Errorf("fallocate %s: %v: %s; want EOPNOTSUPP", strings.Join(mode, " "), err, out)
		}
	}
	wantObject("kept", []byte("unchanged"))

	// fallocate(1) opens with O_CREAT for mode 0 only: a refused mode
	// leaves no object behind. (A program that creates the file itself
	// and then meets EOPNOTSUPP has an empty file, as on any file system
	// without the mode.)
	if out, err := exec.Command("fallocate", "-n", "-l", "1M", s.path("absent")).CombinedOutput(); err == nil {
		t.Errorf("fallocate -n of a new file succeeded: %s", out)
	}
	if _, err := os.Stat(s.path("absent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stat after a refused fallocate -n of a new file: %v, want ENOENT", err)
	}
	if keys := s.list("absent"); len(keys) != 0 {
		t.Errorf("a refused fallocate -n left %q in S3", keys)
	}
}
