package fs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// opLog records the operations a store was asked for.
type opLog struct {
	mu  sync.Mutex
	ops []string
}

func (l *opLog) observe(r s3io.Request) {
	l.mu.Lock()
	l.ops = append(l.ops, r.Op)
	l.mu.Unlock()
}

// settle waits until no request has ended for 50 ms (a lookup of a
// directory cancels its HEAD without waiting for it, and the count comes
// when it ends) and returns how many there were.
func (l *opLog) settle() int {
	_, n := l.since(0)
	for {
		time.Sleep(50 * time.Millisecond)
		_, m := l.since(0)
		if m == n {
			return n
		}
		n = m
	}
}

// since returns the operations after the first n, and how many there are.
func (l *opLog) since(n int) ([]string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ops[n:]), len(l.ops)
}

func countedMount(t *testing.T, st *memstore.Store) (string, *opLog) {
	log := &opLog{}
	return mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute, NegativeTTL: 5 * time.Second}, s3io.Count(st, log.observe)), log
}

// New files in a directory just listed cost their PUT only: the listing
// says the names are free. Elsewhere a stat and an exclusive create of a
// new name (cp, rsync: the kernel looks the name up again before O_EXCL)
// cost one lookup, not two.
func TestCreatingNewNamesAsksNothingTheListingOrALookupAnswered(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	st.PutBytes("b", "listed/old", []byte("x"), nil)
	st.PutBytes("b", "unlisted/old", []byte("x"), nil)
	mnt, log := countedMount(t, st)
	create := func(path string) {
		t.Helper()
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Fatalf("stat %s: %v, want ENOENT", path, err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("new"); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := os.ReadDir(filepath.Join(mnt, "listed")); err != nil {
		t.Fatal(err)
	}
	n := log.settle()
	for _, name := range []string{"a", "b", "c"} {
		create(filepath.Join(mnt, "listed", name))
	}
	if ops, _ := log.since(n); !slices.Equal(ops, []string{"PutObject", "PutObject", "PutObject"}) {
		t.Errorf("three new files in a directory just listed sent %v, want three PUTs only", ops)
	}
	_, n = log.since(0)
	if err := os.Rename(filepath.Join(mnt, "listed", "a"), filepath.Join(mnt, "listed", "z")); err != nil {
		t.Fatal(err)
	}
	if ops, _ := log.since(n); !slices.Equal(ops, []string{"CopyObject", "DeleteObject"}) {
		t.Errorf("a rename to a name the listing lacks sent %v, want the copy and the delete only", ops)
	}
	if _, err := os.Stat(filepath.Join(mnt, "unlisted")); err != nil {
		t.Fatal(err)
	}
	n = log.settle()
	create(filepath.Join(mnt, "unlisted", "a"))
	ops, _ := log.since(n)
	heads := 0
	for _, op := range ops {
		if op == "HeadObject" {
			heads++
		}
	}
	if heads != 1 || ops[len(ops)-1] != "PutObject" {
		t.Errorf("stat and exclusive create of a new name sent %v, want one lookup (one HEAD) and the PUT", ops)
	}
}

// A name a lookup found missing is not trusted past the negative TTL: an
// object made there by another client then appears.
func TestAMissingNameIsTrustedOnlyForTheNegativeTTL(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	mnt := mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute, NegativeTTL: 300 * time.Millisecond}, st)
	path := filepath.Join(mnt, "later")
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("stat: %v, want ENOENT", err)
	}
	st.PutBytes("b", "later", []byte("made elsewhere"), nil)
	time.Sleep(400 * time.Millisecond)
	if got, err := os.ReadFile(path); err != nil || string(got) != "made elsewhere" {
		t.Fatalf("after the negative TTL: %q, %v; want the other client's object", got, err)
	}
}

// touch and chmod of a file this mount just wrote copy it once each,
// without reading its tags and ACL first; once tags are put on it, they
// are read (and kept) again.
func TestMetadataChangesOfAFileJustWrittenAreOneCopyEach(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	mnt, log := countedMount(t, st)
	path := filepath.Join(mnt, "f")
	if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, n := log.since(0)
	stamp := time.Date(2022, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := os.Chtimes(path, stamp, stamp); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		t.Fatal(err)
	}
	if ops, _ := log.since(n); !slices.Equal(ops, []string{"CopyObject", "CopyObject"}) {
		t.Errorf("touch and chmod after a close sent %v, want one CopyObject each", ops)
	}
	if err := syscall.Setxattr(path, "s3.tags", []byte("k=v"), 0); err != nil {
		t.Fatalf("set tags: %v", err)
	}
	_, n = log.since(0)
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	ops, _ := log.since(n)
	if !slices.Contains(ops, "GetObjectTagging") {
		t.Errorf("chmod after tags were put sent %v, want the tags read to keep them", ops)
	}
	// That copy kept the tags: the next change must read them again too
	// (Ceph RGW drops tags on a copy; CI caught this there).
	_, n = log.since(0)
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if ops, _ := log.since(n); !slices.Contains(ops, "GetObjectTagging") {
		t.Errorf("a second chmod of an object with tags sent %v, want the tags read again", ops)
	}
	if err := os.Chmod(path, 0o640); err != nil {
		t.Fatal(err)
	}
	if tags, err := st.GetObjectTagging(t.Context(), "b", "f"); err != nil || len(tags) != 1 {
		t.Errorf("tags after the chmod: %v, %v", tags, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o640 || !fi.ModTime().Equal(stamp) {
		t.Errorf("after the changes: %v, %v", fi, err)
	}
}

// rmdir of a directory holding a file still being written (S3 has no key
// under it yet) gives ENOTEMPTY, as on a local disk.
func TestRmdirOfADirectoryWithAFileBeingWrittenFails(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	mnt := mountStore(t, Config{Bucket: "b"}, st)
	dir := filepath.Join(mnt, "d")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(dir); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir over a file being written: %v, want ENOTEMPTY", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Errorf("the file after its close: %v", err)
	}
}

// A file S3 has no object for yet, renamed (rsync's temporary file in
// asynchronous mode, or any file renamed while still open for writing),
// is uploaded once, at its new name: no copy, no delete, nothing left at
// the old name.
func TestRenameOfAFileNotInS3YetIsItsUploadAtTheNewName(t *testing.T) {
	for _, async := range []bool{false, true} {
		st := memstore.New()
		st.AddBucket("b")
		st.PutBytes("b", "d/target", []byte("old"), nil)
		log := &opLog{}
		fsys, mnt := mountStoreFS(t, Config{Bucket: "b", AsyncUpload: async}, s3io.Count(st, log.observe))
		if _, err := os.Stat(filepath.Join(mnt, "d", "target")); err != nil {
			t.Fatal(err)
		}
		n := log.settle()
		tmp, dst := filepath.Join(mnt, "d", ".target.XXXX"), filepath.Join(mnt, "d", "target")
		var f *os.File
		var err error
		if f, err = os.Create(tmp); err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString("new bytes"); err != nil {
			t.Fatal(err)
		}
		if async {
			if err := f.Close(); err != nil { // queued: still not in S3
				t.Fatal(err)
			}
		}
		if err := os.Rename(tmp, dst); err != nil {
			t.Fatalf("async %v: rename: %v", async, err)
		}
		if got, err := os.ReadFile(dst); err != nil || string(got) != "new bytes" {
			t.Fatalf("async %v: the new name reads %q, %v", async, got, err)
		}
		if !async {
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		}
		if err := fsys.SyncAll(t.Context()); err != nil {
			t.Fatal(err)
		}
		ops, _ := log.since(n)
		puts := 0
		for _, op := range ops {
			switch op {
			case "PutObject":
				puts++
			case "HeadObject", "ListObjectsV2", "GetObject": // the lookup of the new name; the read
			default:
				t.Errorf("async %v: create, rename over an existing file and close sent %s: %v", async, op, ops)
			}
		}
		if puts != 1 {
			t.Errorf("async %v: %d PUTs: %v, want the one at the new name", async, puts, ops)
		}
		if got, ok := st.Bytes("b", "d/target"); !ok || string(got) != "new bytes" {
			t.Errorf("async %v: S3 holds %q (%v) at the new name", async, got, ok)
		}
		if _, err := st.HeadObject(t.Context(), "b", "d/.target.XXXX", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
			t.Errorf("async %v: the old name is in S3: %v", async, err)
		}
	}
}
