package integration

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
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

// A directory larger than --max-rename-keys is not renamed on the server:
// rename gives EXDEV before any copy, and mv copies it file by file.
func TestDirectoryOverTheRenameLimitIsMovedByMv(t *testing.T) {
	s := newBucketSession(t)
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mount(s.bucket, "--max-rename-keys", "5", "--log-file", logFile)
	if err := os.Mkdir(s.path("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if err := os.WriteFile(s.path(fmt.Sprintf("d/f%d", i)), []byte{byte(i)}, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(s.path("d"), s.path("e")); !errors.Is(err, syscall.EXDEV) {
		t.Fatalf("rename of a 9-key directory with --max-rename-keys 5: %v, want EXDEV", err)
	}
	if keys := s.list("e/"); len(keys) != 0 {
		t.Fatalf("the refused rename copied %v", keys)
	}
	run(t, "mv", s.path("d"), s.path("e"))
	for i := 0; i < 8; i++ {
		if got := s.get(fmt.Sprintf("e/f%d", i)); len(got) != 1 || got[0] != byte(i) {
			t.Fatalf("e/f%d after mv: %v", i, got)
		}
	}
	if keys := s.list("d/"); len(keys) != 0 {
		t.Fatalf("keys left under d/ after mv: %v", keys)
	}
	logged, _ := os.ReadFile(logFile)
	if !strings.Contains(string(logged), "too large to rename on the server") {
		t.Fatalf("no log line for the refused rename:\n%s", logged)
	}
}
