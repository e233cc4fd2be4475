package memstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/storetest"
)

func TestMemstorePassesTheConformanceSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (s3io.Store, string) {
		s := New()
		s.AddBucket("bucket")
		return s, "bucket"
	})
}

// The decorators the mount puts around its store change nothing a
// Store promises: memstore behind a limit and a counter passes too.
func TestLimitedAndCountedMemstorePassesTheConformanceSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (s3io.Store, string) {
		s := New()
		s.AddBucket("bucket")
		return s3io.Limit(s3io.Count(s, func(s3io.Request) {}), 4), "bucket"
	})
}

func newBucket(t *testing.T) (*Store, context.Context) {
	t.Helper()
	s := New()
	s.AddBucket("b")
	return s, context.Background()
}

func TestListDefaultsToAndCapsAt1000Keys(t *testing.T) {
	s, ctx := newBucket(t)
	for i := 0; i < 1001; i++ {
		s.PutBytes("b", fmt.Sprintf("k%04d", i), nil, nil)
	}
	for _, max := range []int32{0, 5000} {
		page, err := s.List(ctx, s3io.ListRequest{Bucket: "b", MaxKeys: max})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Objects) != 1000 || !page.IsTruncated {
			t.Fatalf("MaxKeys %d: %d objects, truncated %v; want 1000, true", max, len(page.Objects), page.IsTruncated)
		}
		next, err := s.List(ctx, s3io.ListRequest{Bucket: "b", ContinuationToken: page.NextContinuationToken})
		if err != nil {
			t.Fatal(err)
		}
		if len(next.Objects) != 1 || next.Objects[0].Key != "k1000" || next.IsTruncated {
			t.Fatalf("second page = %+v, want only k1000", next)
		}
	}
}

func TestListContinuationTokenWinsOverStartAfter(t *testing.T) {
	s, ctx := newBucket(t)
	for _, k := range []string{"a", "b", "c", "d"} {
		s.PutBytes("b", k, nil, nil)
	}
	page, _ := s.List(ctx, s3io.ListRequest{Bucket: "b", MaxKeys: 1})
	next, err := s.List(ctx, s3io.ListRequest{Bucket: "b", StartAfter: "c", ContinuationToken: page.NextContinuationToken})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Objects) != 3 || next.Objects[0].Key != "b" {
		t.Fatalf("page after token = %+v, want b, c, d (StartAfter ignored, as S3 does)", next.Objects)
	}
}

func TestListRejectsAForgedContinuationToken(t *testing.T) {
	s, ctx := newBucket(t)
	_, err := s.List(ctx, s3io.ListRequest{Bucket: "b", ContinuationToken: "not a token!"})
	if !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrInvalidArgument", err)
	}
}

func TestStoreNeverSharesBytesWithCallers(t *testing.T) {
	s, ctx := newBucket(t)
	data := []byte("original")
	s.PutBytes("b", "k", data, nil)
	data[0] = 'X'
	got, _ := s.Bytes("b", "k")
	got[1] = 'Y'
	p := make([]byte, 8)
	n, err := s.ReadRange(ctx, "b", "k", 0, p, s3io.ReadOptions{})
	if err != nil || string(p[:n]) != "original" {
		t.Fatalf("read %q, %v; want the bytes as put, untouched by callers' edits", p[:n], err)
	}
}

func TestSSECObjectsNeedTheirKey(t *testing.T) {
	s, ctx := newBucket(t)
	key := s3io.SSECustomerKey(bytes.Repeat([]byte{7}, 32))
	other := s3io.SSECustomerKey(bytes.Repeat([]byte{8}, 32))
	if _, err := s.PutObject(ctx, "b", "secret", bytes.NewReader([]byte("s")), 1, s3io.WriteOptions{SSEC: key}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		key  s3io.SSECustomerKey
		want error
	}{{nil, s3io.ErrSSECKey}, {other, s3io.ErrAccessDenied}, {key, nil}} {
		_, err := s.HeadObject(ctx, "b", "secret", s3io.ReadOptions{SSEC: tc.key})
		if !errors.Is(err, tc.want) && !(tc.want == nil && err == nil) {
			t.Fatalf("head with key %v: err = %v, want %v", tc.key, err, tc.want)
		}
	}
	_, err := s.PutObject(ctx, "b", "short", bytes.NewReader(nil), 0, s3io.WriteOptions{SSEC: key[:16]})
	if !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Fatalf("put with a 16-byte SSE-C key: err = %v, want ErrInvalidArgument", err)
	}
}

func TestCopyOntoItselfWithoutChangesIsInvalid(t *testing.T) {
	s, ctx := newBucket(t)
	s.PutBytes("b", "k", []byte("x"), nil)
	_, err := s.CopyObject(ctx, s3io.CopySource{Bucket: "b", Key: "k"}, "b", "k", s3io.CopyOptions{})
	if !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Fatalf("err = %v, want ErrInvalidArgument (S3's InvalidRequest)", err)
	}
}

func TestCanceledContextFailsWithTheContextError(t *testing.T) {
	s, _ := newBucket(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.HeadObject(ctx, "b", "k", s3io.ReadOptions{})
	var oe *s3io.OpError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) {
		t.Fatalf("err = %v, want an OpError wrapping context.Canceled", err)
	}
}

func TestConcurrentUseIsSafe(t *testing.T) {
	s, ctx := newBucket(t)
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				k := fmt.Sprintf("w%d/k%d", w, i)
				if _, err := s.PutObject(ctx, "b", k, bytes.NewReader([]byte(k)), int64(len(k)), s3io.WriteOptions{}); err != nil {
					t.Error(err)
					return
				}
				if _, err := s.List(ctx, s3io.ListRequest{Bucket: "b", Prefix: fmt.Sprintf("w%d/", w)}); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 0 {
					s.DeleteObject(ctx, "b", k)
				}
			}
		}()
	}
	wg.Wait()
	page, err := s.List(ctx, s3io.ListRequest{Bucket: "b"})
	if err != nil || len(page.Objects) != 8*25 {
		t.Fatalf("%d objects left, %v; want 200", len(page.Objects), err)
	}
}
