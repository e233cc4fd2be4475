package fs

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

func newWritable(t *testing.T) (*memstore.Store, string) {
	st := memstore.New()
	st.AddBucket("b")
	return st, mountMem(t, Config{}, st)
}

func objectBytes(t *testing.T, st *memstore.Store, key string) []byte {
	t.Helper()
	b, ok := st.Bytes("b", key)
	if !ok {
		t.Fatalf("%s is not in S3", key)
	}
	return b
}

func head(t *testing.T, st *memstore.Store, key string) s3io.ObjectInfo {
	t.Helper()
	info, err := st.HeadObject(context.Background(), "b", key, s3io.ReadOptions{})
	if err != nil {
		t.Fatalf("head %s: %v", key, err)
	}
	return info
}

func TestWrittenAndClosedFileIsInS3(t *testing.T) {
	st, mnt := newWritable(t)
	data := bytes.Repeat([]byte("0123456789"), 1<<20) // 10 MiB: multipart
	if err := os.WriteFile(filepath.Join(mnt, "f.txt"), data, 0o640); err != nil {
		t.Fatal(err)
	}
	if got := objectBytes(t, st, "f.txt"); !bytes.Equal(got, data) {
		t.Fatalf("S3 has %d bytes, want %d", len(got), len(data))
	}
	info := head(t, st, "f.txt")
	if info.Metadata["mode"] != "33184" || info.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("metadata %v, content type %q", info.Metadata, info.ContentType)
	}
	if err := os.WriteFile(filepath.Join(mnt, "empty"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := objectBytes(t, st, "empty"); len(got) != 0 {
		t.Fatalf("empty file has %d bytes", len(got))
	}
}

func TestAppendTruncateAndOverwrite(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "log", []byte("first\n"), nil)
	p := filepath.Join(mnt, "log")
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("second\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "log")); got != "first\nsecond\n" {
		t.Fatalf("after append: %q", got)
	}
	if err := os.Truncate(p, 3); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "log")); got != "fir" {
		t.Fatalf("after truncate: %q", got)
	}
	if err := os.Truncate(p, 5); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "log")); got != "fir\x00\x00" {
		t.Fatalf("after growing truncate: %q", got)
	}
	if err := os.WriteFile(p, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "log")); got != "new" {
		t.Fatalf("after O_TRUNC rewrite: %q", got)
	}
}

func TestReadWhileWritingSeesWrittenBytes(t *testing.T) {
	_, mnt := newWritable(t)
	p := filepath.Join(mnt, "rw")
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt([]byte("hello world"), 0); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil || string(got) != "hello world" {
		t.Fatalf("read of a file being written: %q, %v", got, err)
	}
	fi, err := os.Stat(p)
	if err != nil || fi.Size() != 11 {
		t.Fatalf("stat of a file being written: %v, %v", fi, err)
	}
}

func TestRenameFileAndDirectory(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "d/a", []byte("A"), map[string]string{"color": "red"})
	st.PutBytes("b", "d/sub/b", []byte("B"), nil)
	st.PutBytes("b", "x", []byte("X"), nil)
	if err := os.Rename(filepath.Join(mnt, "x"), filepath.Join(mnt, "y")); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Bytes("b", "x"); ok {
		t.Fatal("source of a file rename still exists")
	}
	if string(objectBytes(t, st, "y")) != "X" {
		t.Fatal("renamed file lost its bytes")
	}
	if err := os.Rename(filepath.Join(mnt, "d"), filepath.Join(mnt, "e")); err != nil {
		t.Fatal(err)
	}
	if string(objectBytes(t, st, "e/a")) != "A" || string(objectBytes(t, st, "e/sub/b")) != "B" {
		t.Fatal("directory rename lost keys")
	}
	if head(t, st, "e/a").Metadata["color"] != "red" {
		t.Fatal("rename dropped user metadata")
	}
	if _, ok := st.Bytes("b", "d/a"); ok {
		t.Fatal("source of a directory rename still exists")
	}
	got, err := os.ReadFile(filepath.Join(mnt, "e", "sub", "b"))
	if err != nil || string(got) != "B" {
		t.Fatalf("read through the renamed directory: %q, %v", got, err)
	}
}

func TestDirectoryOperations(t *testing.T) {
	st, mnt := newWritable(t)
	if err := os.Mkdir(filepath.Join(mnt, "m"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The marker is written behind; an fsync of the parent, as on a local
	// disk, makes the mkdir durable.
	parent, err := os.Open(mnt)
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Sync(); err != nil {
		t.Fatal(err)
	}
	parent.Close()
	objectBytes(t, st, "m/")
	if err := os.WriteFile(filepath.Join(mnt, "m", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(mnt, "m")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("rmdir of a non-empty directory: %v, want ENOTEMPTY", err)
	}
	if err := os.Remove(filepath.Join(mnt, "m", "f")); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(mnt, "m")); err != nil {
		t.Fatal(err)
	}
	if _, ok := st.Bytes("b", "m/"); ok {
		t.Fatal("rmdir left the marker")
	}
}

func TestSymlinkStoredAsS3fsDoes(t *testing.T) {
	st, mnt := newWritable(t)
	if err := os.Symlink("../target/file", filepath.Join(mnt, "link")); err != nil {
		t.Fatal(err)
	}
	if string(objectBytes(t, st, "link")) != "../target/file" || head(t, st, "link").Metadata["mode"] != "41471" {
		t.Fatalf("symlink object: %q %v", objectBytes(t, st, "link"), head(t, st, "link").Metadata)
	}
	st.PutBytes("b", "s3fs-link", []byte("/etc/hosts"), map[string]string{"mode": "41471"})
	got, err := os.Readlink(filepath.Join(mnt, "s3fs-link"))
	if err != nil || got != "/etc/hosts" {
		t.Fatalf("readlink of an s3fs symlink: %q, %v", got, err)
	}
}

func TestChmodChownTouchAreStored(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("data"), nil)
	p := filepath.Join(mnt, "f")
	if err := os.Chmod(p, 0o751); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, 1234, 5678); err != nil {
		t.Fatal(err)
	}
	when := time1()
	if err := os.Chtimes(p, when, when); err != nil {
		t.Fatal(err)
	}
	m := head(t, st, "f").Metadata
	if m["mode"] != "33257" || m["uid"] != "1234" || m["gid"] != "5678" || m["mtime"] != "1700000000.000000123" {
		t.Fatalf("metadata after chmod/chown/touch: %v", m)
	}
	if string(objectBytes(t, st, "f")) != "data" {
		t.Fatal("metadata change altered the bytes")
	}
}

func TestUnsupportedNodesGiveClearErrno(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("data"), nil)
	if err := os.Link(filepath.Join(mnt, "f"), filepath.Join(mnt, "hard")); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("link: %v, want EPERM", err)
	}
}

func TestFIFOIsStoredAsS3fsStoresIt(t *testing.T) {
	st, mnt := newWritable(t)
	if err := syscall.Mkfifo(filepath.Join(mnt, "fifo"), 0o640); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	fi, err := os.Lstat(filepath.Join(mnt, "fifo"))
	if err != nil || fi.Mode()&os.ModeNamedPipe == 0 || fi.Mode().Perm() != 0o640 {
		t.Fatalf("lstat fifo: %v, %v; want a FIFO with 0640", fi.Mode(), err)
	}
	info, err := st.HeadObject(context.Background(), "b", "fifo", s3io.ReadOptions{})
	if err != nil || info.Size != 0 || info.Metadata["mode"] != strconv.Itoa(syscall.S_IFIFO|0o640) {
		t.Fatalf("object = %+v, %v; want empty with x-amz-meta-mode %d", info, err, syscall.S_IFIFO|0o640)
	}
}

func time1() time.Time { return time.Unix(1700000000, 123) }

func TestFsyncPutsWrittenBytesInS3WhileOpen(t *testing.T) {
	st, mnt := newWritable(t)
	f, err := os.Create(filepath.Join(mnt, "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("entry 1\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "journal")); got != "entry 1\n" {
		t.Fatalf("after fsync S3 has %q", got)
	}
	if _, err := f.WriteString("entry 2\n"); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if got := string(objectBytes(t, st, "journal")); got != "entry 1\nentry 2\n" {
		t.Fatalf("after the second fsync S3 has %q", got)
	}
}

// renameat2 calls renameat2(2) with flags.
func renameat2(from, to string, flags uint) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, flags)
}

func TestRenameNoReplaceAndExchange(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "a", []byte("A"), nil)
	st.PutBytes("b", "b", []byte("B"), nil)
	a, b := filepath.Join(mnt, "a"), filepath.Join(mnt, "b")
	if err := renameat2(a, b, renameNoReplace); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("RENAME_NOREPLACE over an existing file: %v, want EEXIST", err)
	}
	if err := renameat2(a, b, renameExchange); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("RENAME_EXCHANGE: %v, want EINVAL", err)
	}
	if err := renameat2(a, filepath.Join(mnt, "c"), renameNoReplace); err != nil {
		t.Fatalf("RENAME_NOREPLACE to a free name: %v", err)
	}
	if string(objectBytes(t, st, "c")) != "A" || string(objectBytes(t, st, "b")) != "B" {
		t.Fatal("objects after the renames are wrong")
	}
}

func TestFilesBeingWrittenAreListed(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "d/old", []byte("x"), nil)
	f, err := os.Create(filepath.Join(mnt, "d", "new"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("being written")
	entries, err := os.ReadDir(filepath.Join(mnt, "d"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "new old" {
		t.Fatalf("listing while new is being written: %v", names)
	}
	if err := f.Sync(); err != nil { // now in S3: listed once, not twice
		t.Fatal(err)
	}
	entries, _ = os.ReadDir(filepath.Join(mnt, "d"))
	if len(entries) != 2 {
		t.Fatalf("after fsync the listing has %d entries, want 2", len(entries))
	}
	if fi, err := os.Stat(filepath.Join(mnt, "d", "new")); err != nil || fi.Size() != 13 {
		t.Fatalf("stat of the file being written: %v, %v", fi, err)
	}
}
