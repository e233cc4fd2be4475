package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
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
	cs := &countingLister{Store: st, headsUnder: "d/"}
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

// What the directory attributes promise beyond the integration tests: a
// marker without s3fs metadata shows the defaults and its LastModified; a
// directory made in a set-group-ID directory takes its group and the bit;
// an entry made moves the mtime without writing the marker; the bucket's
// own directory keeps a chmod in memory and writes nothing.
func TestDirectoryAttributeDefaultsSetgidAndTheRoot(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	st.PutBytes("b", "console/", nil, nil)
	st.PutBytes("b", "shared/", nil, map[string]string{"mode": strconv.Itoa(syscall.S_IFDIR | syscall.S_ISGID | 0o775), "gid": "77"})
	mnt := mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute}, st)
	ctx := t.Context()
	marker, err := st.HeadObject(ctx, "b", "console/", s3io.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(mnt, "console"))
	if err != nil || fi.Mode().Perm() != 0o755 || !fi.ModTime().Equal(marker.ModTime.Truncate(time.Second)) {
		t.Errorf("a marker without metadata: %v mtime %v, %v; want 0755 and its LastModified %v", fi.Mode(), fi.ModTime(), err, marker.ModTime)
	}

	if err := os.Mkdir(filepath.Join(mnt, "shared", "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	var sub syscall.Stat_t
	if err := syscall.Stat(filepath.Join(mnt, "shared", "sub"), &sub); err != nil {
		t.Fatal(err)
	}
	if sub.Gid != 77 || sub.Mode&syscall.S_ISGID == 0 {
		t.Errorf("mkdir in a set-group-ID directory: gid %d mode %o, want gid 77 and the bit", sub.Gid, sub.Mode)
	}

	before, _ := st.HeadObject(ctx, "b", "shared/sub/", s3io.ReadOptions{})
	time.Sleep(10 * time.Millisecond)
	if err := os.WriteFile(filepath.Join(mnt, "shared", "sub", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	after, _ := st.HeadObject(ctx, "b", "shared/sub/", s3io.ReadOptions{})
	moved, _ := os.Stat(filepath.Join(mnt, "shared", "sub"))
	if before.Metadata["mtime"] != after.Metadata["mtime"] {
		t.Errorf("creating an entry rewrote the directory's marker: %v then %v", before.Metadata, after.Metadata)
	}
	if stored, _ := parseUnixTime(before.Metadata["mtime"]); moved == nil || !moved.ModTime().After(stored) {
		t.Errorf("creating an entry did not move the directory's mtime past the stored %v", before.Metadata["mtime"])
	}

	if err := os.Chmod(mnt, 0o700); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(mnt); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the root after chmod 700: %v, %v", fi.Mode(), err)
	}
	if _, err := st.HeadObject(ctx, "b", "/", s3io.ReadOptions{}); err == nil {
		t.Errorf("chmod of the bucket's directory wrote an object")
	}
}

// A directory's attributes changed by another client are seen once the
// TTL has passed, as a file's are.
func TestAnotherClientsChmodOfADirectoryIsSeenAfterTheTTL(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	st.PutBytes("b", "d/", nil, map[string]string{"mode": strconv.Itoa(syscall.S_IFDIR | 0o755)})
	mnt := mountStore(t, Config{Bucket: "b", MetadataTTL: 200 * time.Millisecond}, st)
	if fi, err := os.Stat(filepath.Join(mnt, "d")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("d: %v, %v", fi.Mode(), err)
	}
	st.PutBytes("b", "d/", nil, map[string]string{"mode": strconv.Itoa(syscall.S_IFDIR | 0o700)})
	time.Sleep(300 * time.Millisecond)
	if fi, err := os.Stat(filepath.Join(mnt, "d")); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("d after another client's chmod and the TTL: %v, %v; want 0700", fi.Mode(), err)
	}
}
