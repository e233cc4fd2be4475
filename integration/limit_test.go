package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// With a single slot for every S3 request of the mount, everything still
// works, one request at a time: a multipart write (its parts behind
// --upload-concurrency), a read with read-ahead, ls -l (listing HEADs) and
// a directory rename (its copies and deletes). No request waits for a
// slot while holding one.
func TestMountWithOneRequestSlotReadsWritesListsAndRenames(t *testing.T) {
	s := newBucketSession(t)
	for i := 0; i < 20; i++ {
		s.put(fmt.Sprintf("dir/f%02d", i), []byte(fmt.Sprintf("file %d", i)))
	}
	s.mnt = s.mount(s.bucket, "--max-requests", "1", "--block-size", "1MiB", "--part-size", "5MiB")

	data := randomBytes(77, 17<<20)
	if err := os.WriteFile(s.path("big"), data, 0o644); err != nil {
		t.Fatalf("write of a multipart file: %v", err)
	}
	if got := s.get("big"); !bytes.Equal(got, data) {
		t.Fatal("the object differs from what was written")
	}
	dropPageCache(t)
	if got, err := os.ReadFile(s.path("big")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read back: %d bytes, %v", len(got), err)
	}
	entries, err := os.ReadDir(s.path("dir"))
	if err != nil || len(entries) != 20 {
		t.Fatalf("ls dir: %d entries, %v", len(entries), err)
	}
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(s.path("dir"), e.Name())); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(s.path("dir"), s.path("moved")); err != nil {
		t.Fatalf("rename of a 20-key directory: %v", err)
	}
	if got, err := os.ReadFile(s.path("moved/f07")); err != nil || string(got) != "file 7" {
		t.Fatalf("moved/f07 = %q, %v", got, err)
	}
}
