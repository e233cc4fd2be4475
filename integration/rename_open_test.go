package integration

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// A program keeps a file open for writing while its directory is renamed
// (mv of a job's output directory): its later writes, including ones that
// need bytes of the old object, work, its close commits at the new key,
// and nothing is left under the old one.
func TestWriterUnderARenamedDirectoryCommitsAtTheNewKey(t *testing.T) {
	s := newBucketSession(t)
	s.mnt = s.mount(s.bucket)
	if err := os.Mkdir(s.path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	// Written through the mount: a multipart object, whose copy may get
	// an ETag of its own.
	data := randomBytes(51, 20<<20)
	if err := os.WriteFile(s.path("d/f"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	fh, err := os.OpenFile(s.path("d/f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	data[1] ^= 0xff
	if _, err := fh.WriteAt(data[1:2], 1); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(s.path("d"), s.path("e")); err != nil {
		t.Fatalf("mv d e with d/f open for writing: %v", err)
	}
	// A write in the middle of an unstaged block needs the old bytes,
	// now under the new key.
	off := int64(15<<20 + 7)
	data[off] ^= 0xff
	if _, err := fh.WriteAt(data[off:off+1], off); err != nil {
		t.Fatalf("write after the directory rename: %v", err)
	}
	// Appending streams new parts: none may go to the old key.
	tail := randomBytes(52, 17<<20)
	if _, err := fh.WriteAt(tail, int64(len(data))); err != nil {
		t.Fatalf("append after the directory rename: %v", err)
	}
	data = append(data, tail...)
	if err := fh.Close(); err != nil {
		t.Fatalf("close after the directory rename: %v", err)
	}
	if got := s.get("e/f"); !bytes.Equal(got, data) {
		t.Fatalf("e/f has %d bytes, not the %d written", len(got), len(data))
	}
	for _, k := range s.allKeys() {
		if strings.HasPrefix(k, "d/") {
			t.Fatalf("key %q left under the old directory", k)
		}
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Fatalf("multipart uploads left: %v", ups)
	}
}
