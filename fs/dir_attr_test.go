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

// A listing asks each listed directory's marker once (a HEAD, whether or
// not there is a marker), so `ls -l` shows stored modes; a second listing
// within the TTL asks nothing, and keeps them.
func TestListingAsksEachDirectoryMarkerOnceWithinTheTTL(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	for i := 0; i < 20; i++ {
		st.PutBytes("b", fmt.Sprintf("d/implicit%02d/f", i), []byte("x"), nil)
		st.PutBytes("b", fmt.Sprintf("d/marked%02d/", i), nil,
			map[string]string{"mode": strconv.Itoa(syscall.S_IFDIR | 0o700), "uid": "42", "mtime": "1600000000"})
	}
	cs := &countingLister{Store: st}
	mnt := mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute}, cs)
	lsL := func() {
		t.Helper()
		entries, err := os.ReadDir(filepath.Join(mnt, "d"))
		if err != nil || len(entries) != 40 {
			t.Fatalf("readdir: %d entries, %v", len(entries), err)
		}
		for _, e := range entries {
			fi, err := os.Lstat(filepath.Join(mnt, "d", e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			marked := e.Name()[:6] == "marked"
			switch {
			case marked && (fi.Mode().Perm() != 0o700 || st.Uid != 42 || fi.ModTime().Unix() != 1600000000):
				t.Fatalf("%s after a listing: %v uid %d mtime %v; want 0700, 42, the stored mtime", e.Name(), fi.Mode(), st.Uid, fi.ModTime())
			case !marked && fi.Mode().Perm() != 0o755:
				t.Fatalf("%s (no marker) after a listing: %v, want the default 0755", e.Name(), fi.Mode())
			}
		}
	}
	heads := cs.heads.Load()
	lsL()
	first := cs.heads.Load() - heads
	if first < 40 || first > 40+2 {
		t.Fatalf("first ls -l sent %d HEADs, want one per directory (40)", first)
	}
	lsL()
	if again := cs.heads.Load() - heads - first; again != 0 {
		t.Fatalf("a second ls -l within the TTL sent %d HEADs, want 0", again)
	}
}
