package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/s3io/memstore"
)

func TestFsyncOfReadOnlyAndDirectoryDescriptors(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "d/f", []byte("x"), nil)
	for _, p := range []string{filepath.Join(mnt, "d/f"), filepath.Join(mnt, "d"), mnt} {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Errorf("fsync of read-only %s: %v", p, err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			t.Errorf("fdatasync of read-only %s: %v", p, err)
		}
		f.Close()
	}
}

func TestKeyOverS3sLimitIsENAMETOOLONG(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("x"), nil)
	dir := strings.Repeat("d", 250) + "/" + strings.Repeat("e", 250) + "/" + strings.Repeat("g", 250) + "/" +
		strings.Repeat("h", 250) + "/" // 1,004 bytes
	if err := os.MkdirAll(filepath.Join(mnt, dir), 0o755); err != nil {
		t.Fatal(err)
	}
	fits, over := strings.Repeat("a", 1024-len(dir)), strings.Repeat("a", 1025-len(dir))
	if err := os.WriteFile(filepath.Join(mnt, dir+fits), nil, 0o644); err != nil {
		t.Fatalf("create of a 1,024-byte key: %v", err)
	}
	for what, err := range map[string]error{
		"create":  os.WriteFile(filepath.Join(mnt, dir+over), nil, 0o644),
		"mkdir":   os.Mkdir(filepath.Join(mnt, dir+strings.Repeat("m", len(fits))), 0o755), // its marker has a "/" more
		"symlink": os.Symlink("f", filepath.Join(mnt, dir+over)),
		"rename":  os.Rename(filepath.Join(mnt, "f"), filepath.Join(mnt, dir+over)),
	} {
		if !errors.Is(err, syscall.ENAMETOOLONG) {
			t.Errorf("%s of a 1,025-byte key: %v, want ENAMETOOLONG", what, err)
		}
	}
}

func TestModeZeroIsNotReplacedByADefault(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "locked", []byte("x"), map[string]string{metaMode: "32768"}) // S_IFREG|0000
	fi, err := os.Stat(filepath.Join(mnt, "locked"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0 {
		t.Errorf("stat shows %v for a stored mode 0000", fi.Mode())
	}
}

func TestUnlinkedOpenFileHasNoLinks(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("data"), nil)
	f, err := os.Open(filepath.Join(mnt, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := os.Remove(filepath.Join(mnt, "f")); err != nil {
		t.Fatal(err)
	}
	var stat syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &stat); err != nil || stat.Nlink != 0 || stat.Size != 4 {
		t.Errorf("fstat after unlink: nlink %d size %d, %v; want nlink 0 size 4", stat.Nlink, stat.Size, err)
	}
}

func TestPresignedURLAbsentWhenUnsigned(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	st.PutBytes("b", "f", []byte("x"), nil)
	mnt := mountMem(t, Config{Unsigned: true}, st)
	p := filepath.Join(mnt, "f")
	buf := make([]byte, 4096)
	if _, err := syscall.Getxattr(p, xPresignedURL, buf); !errors.Is(err, syscall.ENODATA) {
		t.Errorf("getxattr %s: %v, want ENODATA", xPresignedURL, err)
	}
	n, err := syscall.Listxattr(p, buf)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf[:n], []byte(xPresignedURL)) {
		t.Errorf("listxattr lists %s on an unsigned mount: %q", xPresignedURL, buf[:n])
	}
}

func TestFallocateGrowsAndRefusesOtherModes(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("abc"), nil)
	f, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	const keepSize, punchHole = 1, 2
	if err := syscall.Fallocate(int(f.Fd()), keepSize, 0, 100); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("fallocate KEEP_SIZE: %v, want EOPNOTSUPP", err)
	}
	if err := syscall.Fallocate(int(f.Fd()), keepSize|punchHole, 0, 2); !errors.Is(err, syscall.EOPNOTSUPP) {
		t.Errorf("fallocate PUNCH_HOLE: %v, want EOPNOTSUPP", err)
	}
	if err := syscall.Fallocate(int(f.Fd()), 0, 2, 8); err != nil {
		t.Errorf("fallocate mode 0: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := objectBytes(t, st, "f"), append([]byte("abc"), make([]byte, 7)...); !bytes.Equal(got, want) {
		t.Errorf("S3 holds %q after fallocate to 10 bytes, want %q", got, want)
	}
}
