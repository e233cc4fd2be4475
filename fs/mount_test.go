package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
	"github.com/s3mount/s3mount/writeback"
)

// mountMem mounts an in-memory store in-process, so that node-tree
// behaviour is tested through the real kernel without an S3 server.
func mountMem(t *testing.T, cfg Config, st *memstore.Store) string {
	t.Helper()
	return mountStore(t, cfg, st)
}

// mountStore is mountMem for any Store (a counting wrapper, say).
func mountStore(t *testing.T, cfg Config, st s3io.Store) string {
	t.Helper()
	_, mnt := mountStoreFS(t, cfg, st)
	return mnt
}

// mountStoreFS is mountStore that also returns the file system, for tests
// of its state.
func mountStoreFS(t *testing.T, cfg Config, st s3io.Store) (*FS, string) {
	t.Helper()
	if _, err := os.Stat("/dev/fuse"); err != nil {
		miniotest.SkipOrFail(t, "needs /dev/fuse: "+err.Error())
	}
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "in-process mounts need root")
	}
	c, err := cache.New(cache.Options{CacheBytes: 64 << 20, BlockSize: 1 << 20, MaxConcurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	switch cfg.Bucket {
	case "":
		cfg.Bucket = "b"
	case "*":
		cfg.Bucket = "" // every bucket
	}
	cfg.FileMode, cfg.DirMode = 0o644, 0o755
	if cfg.MetadataTTL == 0 {
		cfg.MetadataTTL = time.Minute
	}
	var wb *writeback.Manager
	if !cfg.ReadOnly {
		wb, err = writeback.New(st, writeback.Options{StagingDir: t.TempDir(), PartSize: 5 << 20, Concurrency: 4,
			Object: s3io.WriteOptions{ContentMD5: true}, AsyncUpload: cfg.AsyncUpload})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(wb.Close)
	}
	mnt := t.TempDir()
	fsys := New(cfg, st, c, wb)
	server, err := fsys.Mount(mnt, MountOptions{FSName: "s3mount-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := server.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		c.Close()
	})
	return fsys, mnt
}

func TestMountedTreeListsAndReads(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	big := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.8 MB: several blocks
	st.PutBytes("b", "top.txt", []byte("top\n"), nil)
	st.PutBytes("b", "d/inner.txt", []byte("inner\n"), nil)
	st.PutBytes("b", "d/big.bin", big, nil)
	st.PutBytes("b", "marker/", nil, nil)
	st.PutBytes("b", "x/..", []byte("hidden"), nil)
	mnt := mountMem(t, Config{}, st)

	var got []string
	err := filepath.Walk(mnt, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(mnt, p)
		if info.IsDir() {
			rel += "/"
		}
		got = append(got, rel)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(got)
	want := []string{"./", "d/", "d/big.bin", "d/inner.txt", "marker/", "top.txt", "x/"}
	if len(got) != len(want) {
		t.Fatalf("walk found %q, want %q", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("walk found %q, want %q", got, want)
		}
	}
	data, err := os.ReadFile(filepath.Join(mnt, "d/big.bin"))
	if err != nil || !bytes.Equal(data, big) {
		t.Fatalf("big.bin: %d bytes, err %v; want %d identical bytes", len(data), err, len(big))
	}
	if _, err := os.Stat(filepath.Join(mnt, "x", "..", "top.txt")); err != nil {
		t.Fatalf("x/../top.txt resolves in the kernel, not in S3: %v", err)
	}
}

func TestOpenFileSeesNoMixOfVersions(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	old := bytes.Repeat([]byte("o"), 3<<20)
	st.PutBytes("b", "f", old, nil)
	mnt := mountMem(t, Config{MetadataTTL: time.Millisecond}, st)
	f, err := os.Open(filepath.Join(mnt, "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil || buf[0] != 'o' {
		t.Fatalf("first read: %v", err)
	}
	st.PutBytes("b", "f", bytes.Repeat([]byte("n"), 4<<20), nil)
	// A read far from the first needs S3 again: it must fail rather than
	// return bytes of the new version. (The new version is larger, so the
	// kernel, which learns the new size, still sends the read.)
	_, err = f.ReadAt(buf, 2<<20+12345)
	if !errors.Is(err, syscall.ESTALE) {
		t.Fatalf("read after the object changed: %v, want ESTALE", err)
	}
	time.Sleep(10 * time.Millisecond)
	data, err := os.ReadFile(filepath.Join(mnt, "f"))
	if err != nil || len(data) != 4<<20 || data[0] != 'n' {
		t.Fatalf("reopened: %d bytes, err %v; want the new 4 MiB", len(data), err)
	}
}

func TestReadOnlyCallsGiveEROFS(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	st.PutBytes("b", "f", []byte("x"), nil)
	mnt := mountMem(t, Config{ReadOnly: true}, st)
	if _, err := os.OpenFile(filepath.Join(mnt, "f"), os.O_WRONLY, 0); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("open for writing: %v, want EROFS", err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "new"), 0o755); !errors.Is(err, syscall.EROFS) {
		t.Fatalf("mkdir: %v, want EROFS", err)
	}
}

func TestLongNameGivesENAMETOOLONG(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	mnt := mountMem(t, Config{}, st)
	long := string(bytes.Repeat([]byte("n"), 256))
	if _, err := os.Stat(filepath.Join(mnt, long)); !errors.Is(err, syscall.ENAMETOOLONG) {
		t.Fatalf("stat of a 256-byte name: %v, want ENAMETOOLONG", err)
	}
}
