package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io/memstore"
)

// A listing whose server carries no metadata (memstore, like S3) gets each
// file's type, mode and mtime with one HEAD per file, so the first `ls -l`
// shows a symlink as a symlink; a second listing within the TTL reuses
// what the nodes know and sends no HEAD.
func TestListingHeadsEachFileOnceWithinTheTTL(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	for i := 0; i < 40; i++ {
		st.PutBytes("b", fmt.Sprintf("d/f%02d", i), []byte("x"), nil)
	}
	st.PutBytes("b", "d/link", []byte("f00"), map[string]string{"mode": strconv.Itoa(syscall.S_IFLNK | 0o777)})
	cs := &countingLister{Store: st, headsUnder: "d/"}
	mnt := mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute}, cs)
	lsL := func() {
		entries, err := os.ReadDir(filepath.Join(mnt, "d"))
		if err != nil || len(entries) != 41 {
			t.Fatalf("readdir: %d entries, %v", len(entries), err)
		}
		for _, e := range entries {
			if _, err := os.Lstat(filepath.Join(mnt, "d", e.Name())); err != nil {
				t.Fatal(err)
			}
		}
		if fi, err := os.Lstat(filepath.Join(mnt, "d", "link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Fatalf("link after a listing: %v, %v; want a symlink", fi.Mode(), err)
		}
	}
	lsL()
	first := cs.heads.Load()
	if first < 41 || first > 41+2 {
		t.Fatalf("first ls -l sent %d HEADs, want one per file (41)", first)
	}
	lsL()
	if again := cs.heads.Load() - first; again != 0 {
		t.Fatalf("a second ls -l within the TTL sent %d HEADs, want 0", again)
	}
}
