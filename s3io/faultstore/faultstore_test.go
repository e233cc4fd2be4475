package faultstore_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
	"github.com/s3mount/s3mount/s3io/storetest"
)

func TestFaultstoreWithoutFaultsPassesTheConformanceSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (s3io.Store, string) {
		m := memstore.New()
		m.AddBucket("bucket")
		return faultstore.New(m), "bucket"
	})
}

func newStore(t *testing.T) (*faultstore.Store, *memstore.Store) {
	m := memstore.New()
	m.AddBucket("b")
	return faultstore.New(m), m
}

func put(s s3io.Store, key string) error {
	_, err := s.PutObject(context.Background(), "b", key, bytes.NewReader([]byte("x")), 1, s3io.WriteOptions{})
	return err
}

// An injected error is what awsstore returns for the same answer: an
// *OpError naming the call, wrapping the sentinel, with an S3 code.
func TestInjectedErrorIsTheStoresOpError(t *testing.T) {
	s, _ := newStore(t)
	s.Fail(faultstore.Rule{Op: "GetObject"}, s3io.ErrAccessDenied)
	_, err := s.ReadRange(context.Background(), "b", "k", 0, make([]byte, 1), s3io.ReadOptions{})
	var oe *s3io.OpError
	if !errors.As(err, &oe) || !errors.Is(err, s3io.ErrAccessDenied) {
		t.Fatalf("err = %#v, want an *OpError wrapping ErrAccessDenied", err)
	}
	if oe.Op != "GetObject" || oe.Bucket != "b" || oe.Key != "k" || oe.Code != "AccessDenied" {
		t.Fatalf("OpError = %+v, want GetObject b/k with code AccessDenied", oe)
	}
}

// "Fail the Nth": only the second PutObject fails, with a 500-class
// error; the first and third are written.
func TestFailOnlyTheNthCall(t *testing.T) {
	s, m := newStore(t)
	s.Fail(faultstore.Rule{Op: "PutObject", Nth: 2}, s3io.ErrServer)
	for i, want := range []error{nil, s3io.ErrServer, nil} {
		key := []string{"k1", "k2", "k3"}[i]
		if err := put(s, key); !errors.Is(err, want) {
			t.Fatalf("PutObject %d: %v, want %v", i+1, err, want)
		}
		if _, ok := m.Bytes("b", key); ok != (want == nil) {
			t.Fatalf("PutObject %d: stored %v", i+1, ok)
		}
	}
	if n := s.Calls("PutObject"); n != 3 {
		t.Fatalf("Calls(PutObject) = %d, want 3", n)
	}
}

func TestFaultMatchesKeyPrefixAndEndsWhenRemoved(t *testing.T) {
	s, _ := newStore(t)
	f := s.Fail(faultstore.Rule{KeyPrefix: "dir/"}, s3io.ErrQuotaExceeded)
	if err := put(s, "dir/a"); !errors.Is(err, s3io.ErrQuotaExceeded) {
		t.Fatalf("dir/a: %v", err)
	}
	if err := put(s, "other"); err != nil {
		t.Fatalf("other: %v", err)
	}
	f.Remove()
	if err := put(s, "dir/a"); err != nil {
		t.Fatalf("dir/a after Remove: %v", err)
	}
}

// A lost answer: the upload exists, the caller sees an error.
func TestLoseAnswerMakesTheCallAndFailsIt(t *testing.T) {
	s, m := newStore(t)
	s.LoseAnswer(faultstore.Rule{Op: "CreateMultipartUpload"}, s3io.ErrUnreachable)
	_, err := s.CreateMultipartUpload(context.Background(), "b", "k", s3io.WriteOptions{})
	if !errors.Is(err, s3io.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	ups, _ := m.ListMultipartUploads(context.Background(), "b", "")
	if len(ups) != 1 {
		t.Fatalf("%d uploads in the store, want the one whose answer was lost", len(ups))
	}
}

// "Hold CreateMultipartUpload until released": it waits, other calls
// pass, and it proceeds on Release; a held call whose context ends
// leaves with a context error.
func TestHoldWaitsUntilReleasedOrCancelled(t *testing.T) {
	s, _ := newStore(t)
	h := s.Hold(faultstore.Rule{Op: "CreateMultipartUpload", Key: "k"})
	done := make(chan error, 1)
	go func() {
		_, err := s.CreateMultipartUpload(context.Background(), "b", "k", s3io.WriteOptions{})
		done <- err
	}()
	<-h.Entered()
	if err := put(s, "k"); err != nil {
		t.Fatalf("a PutObject beside the held call: %v", err)
	}
	select {
	case err := <-done:
		t.Fatalf("the held call returned before Release: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := make(chan error, 1)
	go func() {
		_, err := s.CreateMultipartUpload(ctx, "b", "k", s3io.WriteOptions{})
		cancelled <- err
	}()
	cancel()
	if err := <-cancelled; !errors.Is(err, context.Canceled) {
		t.Fatalf("a cancelled held call: %v, want context.Canceled", err)
	}
	h.Release()
	if err := <-done; err != nil {
		t.Fatalf("the released call: %v", err)
	}
}
