package writeback

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

func readAll(t *testing.T, f *File) []byte {
	t.Helper()
	got := make([]byte, f.Size()+10)
	n, err := f.ReadAt(context.Background(), got, 0)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return got[:n]
}

// A small new file closed with a successful upload never touches the
// staging disk: no staging file, no manifest.
func TestSmallNewFileMakesNoStagingFile(t *testing.T) {
	fx := newFixture(t)
	data := randomBytes(1, 16<<10)
	f, _ := fx.m.Create(testBucket, "small", Meta{})
	writeAll(t, f, data, 4<<10)
	if st := fx.m.Stats(); st.MemStagedBytes < int64(len(data)) || st.StagedBytes < st.MemStagedBytes {
		t.Fatalf("staged bytes not counted while open: %+v", st)
	}
	if left := fx.stagingFiles(t); len(left) != 0 {
		t.Fatalf("an open small file has files on the staging disk: %v", left)
	}
	if _, err := f.CommitClose(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fx.object(t, "small"), data) {
		t.Fatal("uploaded object differs from what was written")
	}
	if st := fx.m.Stats(); st.StagingFilesCreated != 0 || st.StagedBytes != 0 || st.MemStagedBytes != 0 {
		t.Fatalf("stats after the close: %+v; want no staging file made and nothing staged", st)
	}
}

// Reads, overwrites and truncates of a memory-staged file see the bytes
// the program wrote, as on disk.
func TestMemoryStagedFileReadsOverwritesAndTruncates(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "edit", Meta{})
	want := []byte("hello, memory-staged world")
	writeAll(t, f, want, 5)
	if got := readAll(t, f); !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	if _, err := f.WriteAt(context.Background(), []byte("HELLO"), 0); err != nil {
		t.Fatal(err)
	}
	copy(want, "HELLO")
	if err := f.Truncate(context.Background(), 12); err != nil {
		t.Fatal(err)
	}
	want = want[:12]
	if err := f.Truncate(context.Background(), 20); err != nil {
		t.Fatal(err)
	}
	want = append(want, make([]byte, 8)...)
	if _, err := f.WriteAt(context.Background(), []byte("!"), 30); err != nil {
		t.Fatal(err)
	}
	want = append(want, make([]byte, 10)...)
	want = append(want, '!')
	if got := readAll(t, f); !bytes.Equal(got, want) {
		t.Fatalf("read %q, want %q", got, want)
	}
	if _, err := f.CommitClose(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(fx.object(t, "edit"), want) {
		t.Fatalf("uploaded %q, want %q", fx.object(t, "edit"), want)
	}
	f.Close()
	if n := fx.m.Stats().StagingFilesCreated; n != 0 {
		t.Fatalf("%d staging files made for a file of %d bytes", n, len(want))
	}
}

// A file that grows past memStageMax spills to a staging file with its
// bytes, and from then on is staged as any other (an open manifest).
func TestMemoryStagedFileSpillsWhenItGrows(t *testing.T) {
	fx := newFixture(t)
	data := randomBytes(2, memStageMax+(300<<10))
	f, _ := fx.m.Create(testBucket, "grows", Meta{})
	writeAll(t, f, data[:memStageMax], 64<<10)
	if n := fx.m.Stats().StagingFilesCreated; n != 0 {
		t.Fatalf("spilled at %d bytes", memStageMax)
	}
	writeAll2(t, f, data, memStageMax, 64<<10)
	if st := fx.m.Stats(); st.StagingFilesCreated != 1 || st.MemStagedBytes != 0 || st.StagedBytes < int64(len(data)) {
		t.Fatalf("stats after growing past %d bytes: %+v", memStageMax, st)
	}
	left := fx.stagingFiles(t)
	slices.Sort(left)
	if len(left) != 2 || !strings.HasSuffix(left[0], ".data") || !strings.HasSuffix(left[1], ".json") {
		t.Fatalf("staging files after the spill: %v; want the data and its manifest", left)
	}
	if got := readAll(t, f); !bytes.Equal(got, data) {
		t.Fatal("bytes changed by the spill")
	}
	if _, err := f.CommitClose(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if !bytes.Equal(fx.object(t, "grows"), data) {
		t.Fatal("uploaded object differs from what was written")
	}
	if left := fx.stagingFiles(t); len(left) != 0 {
		t.Fatalf("staging files left: %v", left)
	}
}

func writeAll2(t *testing.T, f *File, data []byte, from, chunk int) {
	t.Helper()
	for off := from; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if _, err := f.WriteAt(context.Background(), data[off:end], int64(off)); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
}

// A failed close of a memory-staged file spills and seals it before it
// returns, so a dead mount's successor uploads it.
func TestFailedCloseOfMemoryStagedFileIsRecovered(t *testing.T) {
	fx := newFixture(t)
	failing := fx.failWhile("PutObject")
	data := randomBytes(3, 16<<10)
	f, _ := fx.m.Create(testBucket, "failed", Meta{ContentType: "text/plain"})
	writeAll(t, f, data, 16<<10)
	if _, err := f.CommitClose(context.Background()); err == nil {
		t.Fatal("close succeeded against a failing store")
	}
	if st := fx.m.Stats(); st.StagingFilesCreated != 1 || st.MemStagedBytes != 0 {
		t.Fatalf("stats after a failed close: %+v; want the file spilled", st)
	}
	man, err := readManifest(manifestPath(f.path))
	if err != nil || !man.closed() {
		t.Fatalf("manifest after a failed close: %+v, %v; want it sealed", man, err)
	}
	crash(f) // the mount dies right after telling the program
	*failing = false
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || len(rep.Kept)+len(rep.Failed) != 0 {
		t.Fatalf("recover: %+v, %v", rep, err)
	}
	if !bytes.Equal(fx.object(t, "failed"), data) {
		t.Fatal("recovered object differs from what was written")
	}
}

// A mount killed while a memory-staged file is open leaves nothing to
// keep or upload: no close ever reported its bytes as kept.
func TestCrashLosesAnOpenMemoryStagedFile(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "open", Meta{})
	writeAll(t, f, []byte("never closed"), 4)
	crash(f)
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded)+len(rep.Kept)+len(rep.Failed) != 0 {
		t.Fatalf("recover: %+v, %v; want nothing", rep, err)
	}
	if _, err := fx.mem.HeadObject(context.Background(), testBucket, "open", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("a file its program never closed was published: %v", err)
	}
}

// An asynchronous close stages the file on disk: it must survive a kill
// -9 from then on.
func TestAsyncSealSpillsAMemoryStagedFile(t *testing.T) {
	fx := newFixtureWith(t, func(o *Options) { o.AsyncUpload = true })
	data := randomBytes(4, 20<<10)
	f, _ := fx.m.Create(testBucket, "async", Meta{})
	writeAll(t, f, data, 20<<10)
	if err := f.SealAsync(); err != nil {
		t.Fatal(err)
	}
	if n := fx.m.Stats().StagingFilesCreated; n != 1 {
		t.Fatalf("%d staging files after an asynchronous close, want 1", n)
	}
	crash(f)
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 {
		t.Fatalf("recover: %+v, %v", rep, err)
	}
	if !bytes.Equal(fx.object(t, "async"), data) {
		t.Fatal("recovered object differs from what was written")
	}
}

// The memory for staging is bounded per mount: beyond it new files go to
// disk at once, and what is held counts as staged.
func TestMemoryStagingIsBounded(t *testing.T) {
	fx := newFixtureWith(t, func(o *Options) { o.MemoryStagingBytes = 64 << 10 })
	var files []*File
	for i := range 5 {
		f, _ := fx.m.Create(testBucket, "f"+string(rune('a'+i)), Meta{})
		writeAll(t, f, randomBytes(uint64(i), 16<<10), 16<<10)
		files = append(files, f)
	}
	st := fx.m.Stats()
	if st.MemStagedBytes != 64<<10 || st.StagingFilesCreated != 1 || st.StagedBytes < 80<<10 {
		t.Fatalf("stats with 5 files of 16 KiB and 64 KiB of memory: %+v; want 4 in memory, 1 on disk", st)
	}
	for _, f := range files {
		if _, err := f.CommitClose(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if st := fx.m.Stats(); st.MemStagedBytes != 0 || st.StagedBytes != 0 {
		t.Fatalf("stats after the closes: %+v", st)
	}
}
