package s3io_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
)

func newMem(t *testing.T, keys ...string) *memstore.Store {
	t.Helper()
	m := memstore.New()
	m.AddBucket("b")
	for _, k := range keys {
		m.PutBytes("b", k, []byte("data of "+k), nil)
	}
	return m
}

// eventually fails the test unless cond holds within 5 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// Reads, writes, listings, HEADs and copies share one limit: with two
// slots and every call held below the limit, two reach the store and
// the others wait, whatever their kind.
func TestLimitRunsAtMostNRequestsOfEveryKindAtOnce(t *testing.T) {
	faults := faultstore.New(newMem(t, "a", "b"))
	hold := faults.Hold(faultstore.Rule{})
	l := s3io.Limit(faults, 2)
	ctx := context.Background()
	calls := map[string]func() error{
		"HeadObject": func() error { _, err := l.HeadObject(ctx, "b", "a", s3io.ReadOptions{}); return err },
		"List":       func() error { _, err := l.List(ctx, s3io.ListRequest{Bucket: "b"}); return err },
		"ReadRange": func() error {
			_, err := l.ReadRange(ctx, "b", "a", 0, make([]byte, 4), s3io.ReadOptions{})
			return err
		},
		"PutObject": func() error {
			_, err := l.PutObject(ctx, "b", "c", bytes.NewReader([]byte("x")), 1, s3io.WriteOptions{})
			return err
		},
		"CopyObject": func() error {
			_, err := l.CopyObject(ctx, s3io.CopySource{Bucket: "b", Key: "b"}, "b", "d", s3io.CopyOptions{})
			return err
		},
		"DeleteObject": func() error { return l.DeleteObject(ctx, "b", "zz") },
		"HeadBucket":   func() error { return l.HeadBucket(ctx, "b") },
	}
	var wg sync.WaitGroup
	errs := make(chan error, len(calls))
	for name, call := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := call(); err != nil {
				errs <- errors.New(name + ": " + err.Error())
			}
		}()
	}
	eventually(t, "two in flight and the rest waiting", func() bool {
		return l.InFlight() == 2 && l.Waiting() == len(calls)-2
	})
	time.Sleep(20 * time.Millisecond) // room for a third to slip through, if it could
	seen := 0
	for _, op := range []string{"HeadObject", "ListObjectsV2", "GetObject", "PutObject", "CopyObject", "DeleteObject", "HeadBucket"} {
		seen += faults.Calls(op)
	}
	if seen != 2 || l.InFlight() != 2 {
		t.Fatalf("%d calls reached the store (%d in flight) under a limit of 2", seen, l.InFlight())
	}
	hold.Release()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if l.InFlight() != 0 || l.Waiting() != 0 {
		t.Fatalf("after the calls: %d in flight, %d waiting", l.InFlight(), l.Waiting())
	}
}

// A call waiting for a slot leaves when its context ends, with the
// OpError a store gives for a cancelled request, and sends nothing.
func TestLimitedCallGivesUpWhenItsContextEnds(t *testing.T) {
	faults := faultstore.New(newMem(t, "a"))
	hold := faults.Hold(faultstore.Rule{Op: "GetObject"})
	defer hold.Release()
	l := s3io.Limit(faults, 1)
	go func() { _, _ = l.ReadRange(context.Background(), "b", "a", 0, make([]byte, 1), s3io.ReadOptions{}) }()
	<-hold.Entered()

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := l.HeadObject(ctx, "b", "a", s3io.ReadOptions{})
		done <- err
	}()
	eventually(t, "the HEAD to wait", func() bool { return l.Waiting() == 1 })
	cancel()
	var err error
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("a cancelled call still waits for a slot")
	}
	var oe *s3io.OpError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) || oe.Op != "HeadObject" || oe.Key != "a" {
		t.Fatalf("err = %#v, want an *OpError for HeadObject b/a wrapping context.Canceled", err)
	}
	if n := faults.Calls("HeadObject"); n != 0 || l.Waiting() != 0 {
		t.Fatalf("%d HEADs reached the store, %d still waiting", n, l.Waiting())
	}
}

// Slots are per call: with one slot, a multipart upload whose parts run
// in parallel completes, because no call holds a slot while another waits.
func TestLimitOfOneCompletesAParallelMultipartUpload(t *testing.T) {
	l := s3io.Limit(newMem(t), 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	id, err := l.CreateMultipartUpload(ctx, "b", "big", s3io.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	up := s3io.Upload{Bucket: "b", Key: "big", ID: id}
	parts := make([]s3io.Part, 3)
	var wg sync.WaitGroup
	for i := range parts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			size := int64(5 << 20)
			if i == len(parts)-1 {
				size = 10
			}
			p, err := l.UploadPart(ctx, up, int32(i+1), bytes.NewReader(make([]byte, size)), size)
			if err != nil {
				t.Error(err)
			}
			parts[i] = p
		}()
	}
	wg.Wait()
	if _, err := l.CompleteMultipartUpload(ctx, up, parts); err != nil {
		t.Fatal(err)
	}
}

// PresignGetObject sends no request: it takes no slot, even when all are
// taken.
func TestPresignTakesNoSlot(t *testing.T) {
	faults := faultstore.New(newMem(t, "a"))
	hold := faults.Hold(faultstore.Rule{Op: "HeadObject"})
	defer hold.Release()
	l := s3io.Limit(faults, 1)
	go func() { _, _ = l.HeadObject(context.Background(), "b", "a", s3io.ReadOptions{}) }()
	<-hold.Entered()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.PresignGetObject(ctx, "b", "a", time.Minute, s3io.ReadOptions{}); err != nil {
		t.Fatalf("presign with every slot taken: %v", err)
	}
}
