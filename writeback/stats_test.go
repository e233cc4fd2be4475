package writeback

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// TestStatsCountFailedAndRetriedUploads: a failed commit counts as a
// failed upload and shows in the file's state with its error and staging
// path; background retries count as retried; the success that follows
// clears the file's failures, and the staged bytes are counted while the
// file is staged.
func TestStatsCountFailedAndRetriedUploads(t *testing.T) {
	fx := newFixture(t)
	fx.m.opts.RetryDelay = 10 * time.Millisecond
	var mu sync.Mutex
	failing := true
	fx.store.fail = func(op string, _ int32) error {
		mu.Lock()
		defer mu.Unlock()
		if op == "PutObject" && failing {
			return errors.New("injected 500")
		}
		return nil
	}
	ctx := context.Background()
	f, err := fx.m.Create(testBucket, "k", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(ctx, []byte("hello"), 0); err != nil {
		t.Fatal(err)
	}
	if st := fx.m.Stats(); st.StagedBytes == 0 || st.UploadsFailed != 0 {
		t.Fatalf("before the commit: %+v", st)
	}
	if _, err := f.CommitClose(ctx); err == nil {
		t.Fatal("commit succeeded while PutObject fails")
	}
	st := f.State()
	if st.Failures != 1 || !strings.Contains(st.LastError, "injected 500") || !strings.HasPrefix(st.StagingPath, fx.staging) ||
		st.Size != 5 || st.Key != "k" {
		t.Fatalf("state after a failed commit: %+v", st)
	}
	if got := fx.m.Stats().UploadsFailed; got != 1 {
		t.Fatalf("failed uploads %d, want 1", got)
	}

	done := make(chan struct{})
	f.RetryInBackground(fx.m.RetryDelay(), func(s3io.ObjectInfo, bool) { close(done) })
	deadline := time.Now().Add(5 * time.Second)
	for fx.m.Stats().UploadsRetried < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("retries not counted: %+v", fx.m.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the retry never succeeded")
	}
	if st := f.State(); st.Failures != 0 || st.LastError != "" {
		t.Errorf("state after the upload succeeded: %+v", st)
	}
	stats := fx.m.Stats()
	if stats.UploadsFailed < 2 || stats.UploadsRetried < 2 {
		t.Errorf("stats after the retries: %+v", stats)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fx.m.Stats().StagedBytes; got != 0 {
		t.Errorf("staged bytes %d after the file is closed", got)
	}
}

// TestStatePartBytesFollowsTheMultipartUpload: parts streamed while a
// big file is written show as uploaded bytes, and the count ends with the
// commit.
func TestStatePartBytesFollowsTheMultipartUpload(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	f, err := fx.m.Create(testBucket, "big", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(7, 3*testPart)
	for off := 0; off < len(data); off += testBlock {
		if _, err := f.WriteAt(ctx, data[off:off+testBlock], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.State().PartBytes < testPart {
		if time.Now().After(deadline) {
			t.Fatalf("no streamed part counted: %+v", f.State())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := f.CommitClose(ctx); err != nil {
		t.Fatal(err)
	}
	if got := f.State().PartBytes; got != 0 {
		t.Errorf("part bytes %d after the commit", got)
	}
	f.Close()
}
