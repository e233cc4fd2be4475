package writeback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
)

// restart is a new Manager on the same staging directory and store, as
// the next mount would have.
func (fx *fixture) restart(t *testing.T) *Manager {
	fx.m.Close() // the earlier mount is gone: its staging directory is free
	m, err := New(fx.store, fx.m.opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func TestRecoverUploadsWhatAFailedCloseKept(t *testing.T) {
	fx := newFixture(t)
	failing := fx.failWhile("PutObject", "UploadPart")
	f, _ := fx.m.Create(testBucket, "new", Meta{ContentType: "text/plain"})
	data := randomBytes(9, 12<<20)
	writeAll(t, f, data, 1<<20)
	if _, err := f.Commit(context.Background()); err == nil {
		t.Fatal("commit succeeded against a failing store")
	}
	if err := f.Close(); err == nil {
		t.Fatal("close kept data without an error")
	}
	*failing = false
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || len(rep.Kept)+len(rep.Failed) != 0 {
		t.Fatalf("recover: %+v, %v", rep, err)
	}
	if !bytes.Equal(fx.object(t, "new"), data) {
		t.Fatal("recovered object differs from what was written")
	}
	if left := fx.stagingFiles(t); len(left) != 0 {
		t.Fatalf("staging not cleaned after recovery: %v", left)
	}
	fx.noUploadsLeft(t)
}

func TestRecoverRebuildsAChangedObjectFromStagedAndBaseBytes(t *testing.T) {
	fx := newFixture(t)
	base := randomBytes(10, 11<<20)
	fx.mem.PutBytes(testBucket, "obj", base, nil)
	info, _ := fx.mem.HeadObject(context.Background(), testBucket, "obj", s3io.ReadOptions{})
	fx.store.fail = func(op string, part int32) error {
		if op == "UploadPart" {
			return errors.New("injected")
		}
		return nil
	}
	f, _ := fx.m.Open(testBucket, "obj", info)
	want := bytes.Clone(base)
	copy(want[6<<20:], "patched")
	if _, err := f.WriteAt(context.Background(), []byte("patched"), 6<<20); err != nil {
		t.Fatal(err)
	}
	f.Commit(context.Background())
	f.Close()
	fx.store.fail = nil
	fx.m.Close() // mount A is gone
	rep, _ := fx.restart(t).Recover(context.Background())
	if len(rep.Uploaded) != 1 {
		t.Fatalf("recover: %+v", rep)
	}
	if !bytes.Equal(fx.object(t, "obj"), want) {
		t.Fatal("recovered object is not the base with the staged change")
	}
}

func TestRecoverKeepsAsideWhenTheObjectChanged(t *testing.T) {
	fx := newFixture(t)
	fx.mem.PutBytes(testBucket, "obj", []byte("old"), nil)
	info, _ := fx.mem.HeadObject(context.Background(), testBucket, "obj", s3io.ReadOptions{})
	fx.store.fail = func(op string, part int32) error { return errors.New("injected") }
	f, _ := fx.m.Open(testBucket, "obj", info)
	f.WriteAt(context.Background(), []byte("mine"), 0)
	f.Commit(context.Background())
	f.Close()
	fx.store.fail = nil
	fx.m.Close() // mount A is gone
	fx.mem.PutBytes(testBucket, "obj", []byte("theirs"), nil)
	rep, _ := fx.restart(t).Recover(context.Background())
	if len(rep.Kept) != 1 || len(rep.Uploaded) != 0 {
		t.Fatalf("recover: %+v", rep)
	}
	if string(fx.object(t, "obj")) != "theirs" {
		t.Fatal("recovery overwrote another client's change")
	}
	kept, err := os.ReadFile(rep.Kept[0])
	if err != nil || string(kept) != "mine" {
		t.Fatalf("kept data: %q, %v", kept, err)
	}
	if filepath.Base(filepath.Dir(rep.Kept[0])) != keptDir {
		t.Fatalf("kept at %s, not under %s/", rep.Kept[0], keptDir)
	}
}

// crash plays the death of the mount (kill -9) while f is open: no
// commit, no Close; the process's file locks go with it.
func crash(f *File) {
	f.waitIdle()
	f.staging.Close()
}

// A file whose program never got an answer from close (the mount was
// killed while it wrote) is not what the program meant to write: the next
// mount keeps it aside and never publishes it. (Staged on disk: one
// staged in memory leaves nothing; see TestCrashLosesAnOpenMemoryStagedFile.)
func TestRecoverKeepsAsideAFileItsProgramNeverClosed(t *testing.T) {
	fx := newFixtureWith(t, func(o *Options) { o.MemoryStagingBytes = -1 })
	f, _ := fx.m.Create(testBucket, "crash", Meta{})
	writeAll(t, f, []byte("the first half of what the program writes"), 8)
	crash(f)
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 0 || len(rep.Kept) != 1 {
		t.Fatalf("recover after a crash mid-write: %+v, %v; want the file kept aside, not uploaded", rep, err)
	}
	if _, err := fx.mem.HeadObject(context.Background(), testBucket, "crash", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("a file its program never closed was published: %v", err)
	}
	kept, err := os.ReadFile(rep.Kept[0])
	if err != nil || string(kept) != "the first half of what the program writes" {
		t.Fatalf("kept data: %q, %v", kept, err)
	}
	if filepath.Base(filepath.Dir(rep.Kept[0])) != keptDir {
		t.Fatalf("kept at %s, not under %s/", rep.Kept[0], keptDir)
	}
	if _, err := os.Stat(manifestPath(rep.Kept[0])); err != nil {
		t.Fatalf("manifest not kept beside the data: %v", err)
	}
}

// A close that failed is sealed before the program hears of it: the
// mount may die before the kernel's release reaches it, and the next
// mount still uploads what the program closed.
func TestRecoverUploadsAFailedCloseEvenIfTheMountDiedRightAfter(t *testing.T) {
	fx := newFixture(t)
	failing := fx.failWhile("PutObject")
	f, _ := fx.m.Create(testBucket, "f", Meta{})
	writeAll(t, f, []byte("closed, upload failed"), 4)
	if _, err := f.CommitClose(context.Background()); err == nil {
		t.Fatal("commit succeeded against a failing store")
	}
	crash(f) // before Close
	*failing = false
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || len(rep.Kept) != 0 {
		t.Fatalf("recover: %+v, %v; want the closed file uploaded", rep, err)
	}
	if got := string(fx.object(t, "f")); got != "closed, upload failed" {
		t.Fatalf("recovered %q", got)
	}
}

// Written again after a failed close (through another descriptor), the
// file is no longer what its program closed: kept aside after a crash.
func TestRecoverKeepsAsideAFileWrittenAgainAfterAFailedClose(t *testing.T) {
	fx := newFixture(t)
	fx.store.fail = func(op string, _ int32) error {
		if op == "PutObject" {
			return errors.New("injected")
		}
		return nil
	}
	f, _ := fx.m.Create(testBucket, "f", Meta{})
	writeAll(t, f, []byte("version one"), 4)
	f.CommitClose(context.Background())
	if _, err := f.WriteAt(context.Background(), []byte("TWO, half"), 8); err != nil {
		t.Fatal(err)
	}
	crash(f)
	fx.store.fail = nil
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 0 || len(rep.Kept) != 1 {
		t.Fatalf("recover: %+v, %v; want the file kept aside", rep, err)
	}
	if _, err := fx.mem.HeadObject(context.Background(), testBucket, "f", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("a file written again after its failed close was published: %v", err)
	}
}

// Manifests of older versions have no state: theirs wrote the staged
// block list only at a failed close, so that list tells a closed file.
func TestRecoverReadsManifestsOfOlderVersions(t *testing.T) {
	fx := newFixture(t)
	dir := filepath.Join(fx.staging, "mount-old")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, known := range map[string]bool{"closed": true, "open": false} {
		data := filepath.Join(dir, "s3mount-"+name+".data")
		if err := os.WriteFile(data, []byte(name+" by an older version"), 0o600); err != nil {
			t.Fatal(err)
		}
		man := fmt.Sprintf(`{"bucket": %q, "key": %q, "size": 1, "block_size": %d, "staged_known": %t, "identity": {}}`,
			testBucket, name, testBlock, known)
		if err := os.WriteFile(manifestPath(data), []byte(man), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || len(rep.Kept) != 1 {
		t.Fatalf("recover: %+v, %v; want the closed file uploaded and the open one kept", rep, err)
	}
	if got := string(fx.object(t, "closed")); got != "closed by an older version" {
		t.Fatalf("recovered %q", got)
	}
	if _, err := fx.mem.HeadObject(context.Background(), testBucket, "open", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("an older version's unclosed file was published: %v", err)
	}
}

// The manifest names a file's multipart upload from its start until it
// is completed or aborted.
func TestManifestRecordsAMultipartUploadUntilItEnds(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "big", Meta{})
	data := randomBytes(12, 12<<20)
	writeAll(t, f, data, 1<<20)
	f.waitIdle()
	ups, _ := fx.mem.ListMultipartUploads(context.Background(), testBucket, "")
	man, err := readManifest(manifestPath(f.path))
	if err != nil || len(ups) != 1 || len(man.Uploads) != 1 || man.Uploads[0].ID != ups[0].ID || man.Uploads[0].Key != "big" {
		t.Fatalf("streaming: manifest uploads %+v (%v), server's %+v", man.Uploads, err, ups)
	}
	failing := fx.failWhile("CompleteMultipartUpload")
	if _, err := f.Commit(context.Background()); err == nil {
		t.Fatal("commit succeeded against a failing store")
	}
	fx.noUploadsLeft(t)
	if man, err := readManifest(manifestPath(f.path)); err != nil || len(man.Uploads) != 0 {
		t.Fatalf("after the abort: manifest uploads %+v, %v; want none", man.Uploads, err)
	}
	*failing = false
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(manifestPath(f.path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("manifest after the upload completed: %v", err)
	}
	f.Close()
}

// A dead mount leaves no incomplete multipart upload: recovery aborts the
// ones it recorded, for files it keeps aside (killed mid-write) and for
// files it uploads (a failed close whose abort failed too).
func TestRecoverAbortsTheMultipartUploadsOfADeadMount(t *testing.T) {
	fx := newFixture(t)
	fx.store.fail = func(op string, part int32) error {
		if op == "UploadPart" && part == 3 || op == "AbortMultipartUpload" {
			return errors.New("injected")
		}
		return nil
	}
	failed, _ := fx.m.Create(testBucket, "failed", Meta{})
	want := randomBytes(13, 12<<20)
	writeAll(t, failed, want, 1<<20)
	if _, err := failed.Commit(context.Background()); err == nil {
		t.Fatal("commit succeeded against a failing store")
	}
	if err := failed.Close(); err == nil {
		t.Fatal("close kept data without an error")
	}
	fx.store.fail = nil
	streaming, _ := fx.m.Create(testBucket, "streaming", Meta{})
	writeAll(t, streaming, randomBytes(14, 12<<20), 1<<20)
	crash(streaming)
	if ups, _ := fx.mem.ListMultipartUploads(context.Background(), testBucket, ""); len(ups) != 2 {
		t.Fatalf("%d multipart uploads before recovery, want the 2 the test set up", len(ups))
	}
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || len(rep.Kept) != 1 {
		t.Fatalf("recover: %+v, %v", rep, err)
	}
	fx.noUploadsLeft(t)
	if !bytes.Equal(fx.object(t, "failed"), want) {
		t.Fatal("recovered object differs from what was closed")
	}
	kept, err := readManifest(manifestPath(rep.Kept[0]))
	if err != nil || len(kept.Uploads) != 0 {
		t.Fatalf("kept manifest still lists uploads %+v (%v)", kept.Uploads, err)
	}
}

// A mount that dies while the server creates an upload never learns its
// ID; the record made before the request lets recovery find and abort it.
func TestRecoverAbortsAnUploadWhoseCreationTheMountDidNotSeeEnd(t *testing.T) {
	fx := newFixture(t)
	lost := fx.faults.LoseAnswer(faultstore.Rule{Op: "CreateMultipartUpload"}, s3io.ErrUnreachable)
	f, _ := fx.m.Create(testBucket, "big", Meta{})
	writeAll(t, f, randomBytes(15, 12<<20), 1<<20)
	crash(f)
	if ups, _ := fx.mem.ListMultipartUploads(context.Background(), testBucket, ""); len(ups) == 0 {
		t.Fatal("no upload was created: the test proves nothing")
	}
	lost.Remove()
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Kept) != 1 {
		t.Fatalf("recover: %+v, %v", rep, err)
	}
	fx.noUploadsLeft(t)
}

// The server may carry out a CreateMultipartUpload that a mount sent just
// before it died only after the next mount has listed the key's uploads
// (the crash test saw it through its proxy): recovery lists a pending
// record's uploads only once it is pendingSettle old.
func TestRecoverAbortsAnUploadTheServerCreatedAfterTheMountDied(t *testing.T) {
	fx := newFixtureWith(t, func(o *Options) { o.MemoryStagingBytes = -1 })
	f, _ := fx.m.Create(testBucket, "late", Meta{})
	writeAll(t, f, []byte("bytes of a file still being written"), 8)
	crash(f)
	// The dead mount had recorded an upload it was about to create.
	mpath := manifestPath(f.path)
	man, err := readManifest(mpath)
	if err != nil {
		t.Fatal(err)
	}
	man.Uploads = append(man.Uploads, uploadRef{Bucket: testBucket, Key: "late", Started: time.Now().UTC()})
	if err := saveManifest(mpath, man, false); err != nil {
		t.Fatal(err)
	}
	created := make(chan error, 1)
	go func() {
		time.Sleep(300 * time.Millisecond) // the server gets to it late
		_, err := fx.mem.CreateMultipartUpload(context.Background(), testBucket, "late", s3io.WriteOptions{})
		created <- err
	}()
	if _, err := fx.restart(t).Recover(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := <-created; err != nil {
		t.Fatal(err)
	}
	fx.noUploadsLeft(t)
}

func TestRecoverSkipsFilesOfARunningMount(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "live", Meta{})
	writeAll(t, f, []byte("still being written"), 8)
	rep, _ := fx.restart(t).Recover(context.Background())
	if len(rep.Uploaded)+len(rep.Kept)+len(rep.Failed) != 0 {
		t.Fatalf("recover touched a live file: %+v", rep)
	}
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
}

// Data whose upload to one server failed must not go to another server or
// account that later mounts with the same staging directory: it is kept
// aside, with a log line saying how to upload it. The same identity
// uploads it.
func TestRecoverUploadsOnlyToTheServerAndAccountTheDataWasStagedFor(t *testing.T) {
	fx := newFixture(t)
	fx.m.opts.Identity = Identity{Endpoint: "https://server-a.example", AccessKeyID: "AKIA-A"}
	fx.store.fail = func(op string, _ int32) error {
		if op == "PutObject" {
			return errors.New("injected")
		}
		return nil
	}
	f, _ := fx.m.Create(testBucket, "new", Meta{})
	writeAll(t, f, []byte("staged for A"), 1<<20)
	f.Commit(context.Background())
	f.Close()
	fx.store.fail = nil
	fx.m.Close() // mount A is gone

	for _, other := range []Identity{
		{Endpoint: "https://server-b.example", AccessKeyID: "AKIA-A"},
		{Endpoint: "https://server-a.example", AccessKeyID: "AKIA-B"},
	} {
		opts := fx.m.opts
		opts.Identity = other
		m, err := New(fx.store, opts)
		if err != nil {
			t.Fatal(err)
		}
		rep, err := m.Recover(context.Background())
		m.Close()
		if err != nil || len(rep.Uploaded) != 0 || len(rep.Kept) != 1 {
			t.Fatalf("recovery as %+v: %+v, %v; want the data kept aside, not uploaded", other, rep, err)
		}
		if _, err := fx.mem.HeadObject(context.Background(), testBucket, "new", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
			t.Fatalf("recovery as %+v uploaded another identity's data: %v", other, err)
		}
		// Put it back for the next identity.
		kept, _ := filepath.Glob(filepath.Join(fx.m.opts.StagingDir, "kept", "*"))
		for _, k := range kept {
			os.Rename(k, filepath.Join(fx.m.opts.StagingDir, filepath.Base(k)))
		}
	}
	rep, err := fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 {
		t.Fatalf("recovery as the same identity: %+v, %v", rep, err)
	}
	if string(fx.object(t, "new")) != "staged for A" {
		t.Fatal("recovered object differs")
	}
}

// Two live mounts sharing a staging directory never touch each other's
// files: a mount's recovery leaves another live mount's kept data alone
// (it is that mount's to retry), and recovers it once that mount is gone.
func TestRecoverLeavesALiveMountsStagedDataAlone(t *testing.T) {
	fx := newFixture(t)
	fx.store.fail = func(op string, _ int32) error {
		if op == "PutObject" {
			return errors.New("injected")
		}
		return nil
	}
	f, _ := fx.m.Create(testBucket, "a", Meta{})
	writeAll(t, f, []byte("mount A's bytes"), 1<<20)
	f.Commit(context.Background())
	f.Close() // failed: kept, and mount A lives on
	fx.store.fail = nil

	b, err := New(fx.store, fx.m.opts)
	if err != nil {
		t.Fatal(err)
	}
	rep, err := b.Recover(context.Background())
	if err != nil || len(rep.Uploaded)+len(rep.Kept)+len(rep.Failed) != 0 {
		t.Fatalf("mount B's recovery while A lives: %+v, %v; want A's data untouched", rep, err)
	}
	if _, err := fx.mem.HeadObject(context.Background(), testBucket, "a", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("mount B uploaded live mount A's data: %v", err)
	}
	b.Close()
	fx.m.Close()
	rep, err = fx.restart(t).Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 || string(fx.object(t, "a")) != "mount A's bytes" {
		t.Fatalf("recovery after A is gone: %+v, %v", rep, err)
	}
	if left := fx.stagingFiles(t); len(left) != 0 {
		t.Fatalf("staging files left: %v", left)
	}
}

// A file retargeted by a rename before its upload (closed, not yet in S3)
// is published by the next mount under its new key after a crash, never
// under the old one; a retarget of a file S3 has is refused.
func TestRecoverPublishesARetargetedFileAtItsNewKey(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "tmp/.f.XXXX", Meta{})
	data := randomBytes(31, 300<<10)
	writeAll(t, f, data, 64<<10)
	if err := f.SealAsync(); err != nil {
		t.Fatal(err)
	}
	if done, err := f.Retarget(testBucket, "final/f"); err != nil || !done {
		t.Fatalf("Retarget: %v, %v", done, err)
	}
	crash(f)
	m2 := fx.restart(t)
	rep, err := m2.Recover(context.Background())
	if err != nil || len(rep.Uploaded) != 1 {
		t.Fatalf("recover: %+v, %v; want the file uploaded", rep, err)
	}
	if got := fx.object(t, "final/f"); !bytes.Equal(got, data) {
		t.Fatal("the new key holds other bytes")
	}
	if _, ok := fx.mem.Bytes(testBucket, "tmp/.f.XXXX"); ok {
		t.Fatal("the old key was published")
	}

	g, _ := m2.Create(testBucket, "other", Meta{})
	writeAll(t, g, []byte("x"), 1)
	if _, err := g.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if done, err := g.Retarget(testBucket, "elsewhere"); done || err != nil {
		t.Fatalf("Retarget of a file S3 has: %v, %v; want false, nil", done, err)
	}
	g.Close()
}
