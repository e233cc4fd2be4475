package s3io_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
)

// Count tells of each call that sends a request: its S3 operation and
// how it ended, a store's own errors and injected ones alike.
func TestCountCountsEachRequestByOperationAndResult(t *testing.T) {
	faults := faultstore.New(newMem(t, "a"))
	faults.Fail(faultstore.Rule{Op: "PutObject", Nth: 2}, s3io.ErrServer)
	var mu sync.Mutex
	var got []string
	counted := s3io.Count(faults, func(r s3io.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Duration < 0 {
			t.Errorf("%s took %v", r.Op, r.Duration)
		}
		got = append(got, r.Op+" "+r.Result)
	})
	ctx := context.Background()
	put := func() { _, _ = counted.PutObject(ctx, "b", "k", bytes.NewReader(nil), 0, s3io.WriteOptions{}) }
	put()
	put()
	_, _ = counted.HeadObject(ctx, "b", "missing", s3io.ReadOptions{})
	_, _ = counted.ReadRange(ctx, "b", "a", 0, make([]byte, 2), s3io.ReadOptions{})
	_, _ = counted.List(ctx, s3io.ListRequest{Bucket: "b"})
	_ = counted.HeadBucket(ctx, "nope")
	_, _ = counted.PresignGetObject(ctx, "b", "a", time.Minute, s3io.ReadOptions{})
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, _ = counted.HeadObject(cctx, "b", "a", s3io.ReadOptions{})

	want := []string{"PutObject ok", "PutObject server_error", "HeadObject not_found", "GetObject ok",
		"ListObjectsV2 ok", "HeadBucket bucket_not_found", "HeadObject canceled"}
	if !slices.Equal(got, want) {
		t.Fatalf("counted\n %q\nwant\n %q", got, want)
	}
}

func TestResultOfNamesTheErrorClass(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{nil, "ok"},
		{&s3io.OpError{Op: "GetObject", Err: s3io.ErrNotFound}, "not_found"},
		{fmt.Errorf("wrapped: %w", &s3io.OpError{Err: s3io.ErrThrottled}), "throttled"},
		{&s3io.OpError{Err: s3io.ErrAccessDenied}, "access_denied"},
		{&s3io.OpError{Err: s3io.ErrServer}, "server_error"},
		{&s3io.OpError{Err: context.DeadlineExceeded}, "timeout"},
		{context.Canceled, "canceled"},
		{errors.New("something else"), "other"},
	} {
		if got := s3io.ResultOf(c.err); got != c.want {
			t.Errorf("ResultOf(%v) = %q, want %q", c.err, got, c.want)
		}
	}
}
