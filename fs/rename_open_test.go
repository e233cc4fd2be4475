package fs

import (
	"bytes"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/s3mount/s3mount/s3io/memstore"
)

// A descriptor opened read-only keeps reading its file after a rename, as
// on a local disk: blocks it never read come from the new key (the old one
// is gone), for a file renamed alone and for one under a renamed directory.
func TestReaderFollowsItsFileThroughRenames(t *testing.T) {
	data := make([]byte, 5<<20)
	rand.New(rand.NewSource(1)).Read(data)
	mem := memstore.New()
	mem.AddBucket("b")
	mem.PutBytes("b", "d/f", data, nil)
	mnt := mountStore(t, Config{}, mem)
	f, err := os.Open(filepath.Join(mnt, "d/f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	read := func(off int64) {
		t.Helper()
		got := make([]byte, 4096)
		if _, err := f.ReadAt(got, off); err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if !bytes.Equal(got, data[off:off+4096]) {
			t.Fatalf("read at %d: other bytes", off)
		}
	}
	read(0)
	if err := os.Rename(filepath.Join(mnt, "d/f"), filepath.Join(mnt, "d/g")); err != nil {
		t.Fatal(err)
	}
	read(2 << 20) // a block never read: S3 has it only at d/g now
	if err := os.Rename(filepath.Join(mnt, "d"), filepath.Join(mnt, "e")); err != nil {
		t.Fatal(err)
	}
	read(4 << 20) // and now only at e/g
	if _, ok := mem.Bytes("b", "d/f"); ok {
		t.Fatal("the old key is still there")
	}
}
