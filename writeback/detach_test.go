package writeback

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// openLarge opens a 40 MiB object and changes one byte of it.
func openLarge(t *testing.T, fx *fixture) (*File, []byte) {
	t.Helper()
	data := randomBytes(9, 40<<20+5)
	fx.mem.PutBytes(testBucket, "large", data, nil)
	base, _ := fx.mem.HeadObject(context.Background(), testBucket, "large", s3io.ReadOptions{})
	f, err := fx.m.Open(testBucket, "large", base)
	if err != nil {
		t.Fatal(err)
	}
	data[3] ^= 0xff
	if _, err := f.WriteAt(context.Background(), data[3:4], 3); err != nil {
		t.Fatal(err)
	}
	return f, data
}

// A removed file that is still open parks its base on the server instead
// of fetching it: the removal costs one copy, not 40 MiB of reads, and the
// open file still reads every byte after the object is gone.
func TestDetachOfALargeFileParksItsBaseOnTheServer(t *testing.T) {
	fx := newFixture(t)
	f, data := openLarge(t, fx)
	ctx := context.Background()
	readsBefore := fx.store.get("ReadRange")
	if err := f.Detach(ctx, "park/x"); err != nil {
		t.Fatal(err)
	}
	if reads := fx.store.get("ReadRange") - readsBefore; reads != 0 {
		t.Fatalf("detach fetched %d blocks, want none", reads)
	}
	if err := fx.mem.DeleteObject(ctx, testBucket, "large"); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(data))
	if n, err := f.ReadAt(ctx, got, 0); err != nil || n != len(data) || !bytes.Equal(got, data) {
		t.Fatalf("read of the removed file: %d bytes, %v; want its %d bytes", n, err, len(data))
	}
	if _, err := f.Commit(ctx); err != ErrDiscarded {
		t.Fatalf("commit of a removed file: %v, want ErrDiscarded", err)
	}
	records, _ := filepath.Glob(filepath.Join(fx.m.dir, "parked-*.json"))
	if len(records) != 1 {
		t.Fatalf("parked records: %v, want one", records)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := fx.mem.Bytes(testBucket, "park/x"); ok {
		t.Fatal("the parked copy outlived the file's close")
	}
	if _, ok := fx.mem.Bytes(testBucket, "large"); ok {
		t.Fatal("the removed object came back")
	}
	records, _ = filepath.Glob(filepath.Join(fx.m.dir, "parked-*.json"))
	if len(records) != 0 {
		t.Fatalf("parked records after close: %v", records)
	}
}

// When the removal fails after the base was parked, the file is the
// object's again and its close uploads the change there.
func TestReattachAfterParkingCommitsToTheObject(t *testing.T) {
	fx := newFixture(t)
	f, data := openLarge(t, fx)
	ctx := context.Background()
	if err := f.Detach(ctx, "park/y"); err != nil {
		t.Fatal(err)
	}
	if err := f.Reattach(); err != nil {
		t.Fatal(err)
	}
	if _, ok := fx.mem.Bytes(testBucket, "park/y"); ok {
		t.Fatal("the parked copy outlived the reattach")
	}
	if _, err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "large"); !bytes.Equal(got, data) {
		t.Fatal("object differs from the file after the reattach and commit")
	}
}

// A copy the server refuses falls back to fetching every byte.
func TestDetachFetchesWhenTheServerRefusesTheCopy(t *testing.T) {
	fx := newFixture(t)
	f, data := openLarge(t, fx)
	ctx := context.Background()
	fx.store.fail = func(op string, _ int32) error {
		if op == "CopyObject" {
			return s3io.ErrAccessDenied
		}
		return nil
	}
	if err := f.Detach(ctx, "park/z"); err != nil {
		t.Fatal(err)
	}
	fx.store.fail = nil
	fx.mem.DeleteObject(ctx, testBucket, "large")
	got := make([]byte, len(data))
	if n, err := f.ReadAt(ctx, got, 0); err != nil || !bytes.Equal(got[:n], data) {
		t.Fatalf("read after a fetching detach: %d bytes, %v", n, err)
	}
	f.Close()
}

// A mount that dies before the last close leaves a record; the next mount
// deletes the parked copy.
func TestRecoverDeletesCopiesADeadMountParked(t *testing.T) {
	fx := newFixture(t)
	f, _ := openLarge(t, fx)
	if err := f.Detach(context.Background(), "park/w"); err != nil {
		t.Fatal(err)
	}
	// The mount dies: its lock goes, the file is never closed.
	f.staging.Close()
	fx.m.Close()
	m2, err := New(fx.store, fx.m.opts)
	if err != nil {
		t.Fatal(err)
	}
	defer m2.Close()
	if _, err := m2.Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := fx.mem.Bytes(testBucket, "park/w"); ok {
		t.Fatal("the dead mount's parked copy is still there after recovery")
	}
}

// Parts streamed under the old key before a rename (a directory renamed
// while the file is written) never complete there: the commit goes to the
// new key and the old upload is aborted.
func TestCommitAfterRenameDropsPartsStreamedUnderTheOldKey(t *testing.T) {
	fx := newFixture(t)
	f, err := fx.m.Create(testBucket, "old/big", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(5, 12<<20)
	writeAll(t, f, data, 128<<10)
	f.waitIdle()
	if fx.store.get("UploadPart") == 0 {
		t.Fatal("no part streamed: the test proves nothing")
	}
	f.Rename(testBucket, "new/big", nil)
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "new/big"); !bytes.Equal(got, data) {
		t.Fatal("object at the new key differs from what was written")
	}
	if _, ok := fx.mem.Bytes(testBucket, "old/big"); ok {
		t.Fatal("the file was completed under its old key")
	}
	fx.noUploadsLeft(t)
}

// A removal whose DELETE failed leaves the object in S3: after Reattach
// the file is no longer "new" (a rename of it must copy and delete the old
// object, not just move its upload), and its commit replaces the object.
func TestReattachAfterAFetchingDetachKeepsTheBase(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.mem.PutBytes(testBucket, "small", []byte("old bytes"), nil)
	base, _ := fx.mem.HeadObject(ctx, testBucket, "small", s3io.ReadOptions{})
	f, err := fx.m.Open(testBucket, "small", base)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(ctx, []byte("new"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Detach(ctx, ""); err != nil { // fetches: the base is small
		t.Fatal(err)
	}
	if err := f.Reattach(); err != nil { // the DELETE failed
		t.Fatal(err)
	}
	if f.Pending() {
		t.Fatal("after a failed removal the file counts as never uploaded, though S3 still has its object")
	}
	if done, err := f.Retarget(testBucket, "elsewhere"); done || err != nil {
		t.Fatalf("Retarget moved the upload of a file S3 has an object for (%v, %v): the old object would stay", done, err)
	}
	if _, err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := fx.mem.Bytes(testBucket, "small"); string(got) != "new bytes" {
		t.Fatalf("S3 has %q, want %q", got, "new bytes")
	}
}
