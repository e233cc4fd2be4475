package awsstore

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

func TestSlowDownIsRetriedUntilItSucceeds(t *testing.T) {
	var n atomic.Int32
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) <= 2 {
			writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
			return
		}
		w.Header().Set("ETag", `"e"`)
	})
	s := newFakeStore(t, f.URL, nil)
	body := []byte("retried body")
	if _, err := s.PutObject(ctxT(t), "bkt", "k", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{}); err != nil {
		t.Fatalf("PutObject after two SlowDowns: %v", err)
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d attempts, want 3", len(reqs))
	}
	if !bytes.Equal(reqs[2].Body, body) {
		t.Fatalf("the retry sent body %q, want the whole body again", reqs[2].Body)
	}
}

func TestManyFailuresNeverExhaustARetryQuota(t *testing.T) {
	// The SDK's default retry quota (500 tokens, 5 to 14 a retry) would
	// refuse retries after a few dozen failures; a file system in a long
	// outage must retry every request its full count instead.
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, r, http.StatusInternalServerError, "InternalError")
	})
	s := newFakeStore(t, f.URL, nil) // 5 attempts
	const calls = 40
	for i := 0; i < calls; i++ {
		_, err := s.ReadRange(ctxT(t), "bkt", "k", 0, make([]byte, 4), s3io.ReadOptions{})
		if !errors.Is(err, s3io.ErrServer) || strings.Contains(err.Error(), "quota") {
			t.Fatalf("call %d: err = %v, want ErrServer after all attempts", i, err)
		}
	}
	if got := len(f.requests()); got != calls*5 {
		t.Fatalf("%d attempts for %d calls, want 5 each (%d)", got, calls, calls*5)
	}
}

func TestMaxAttemptsBoundsTheAttempts(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
	})
	s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 3 })
	_, err := s.HeadObject(ctxT(t), "bkt", "k", s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrThrottled) {
		t.Fatalf("err = %v, want ErrThrottled", err)
	}
	if got := len(f.requests()); got != 3 {
		t.Fatalf("%d attempts, want 3", got)
	}
}

func TestBrokenConnectionIsRetried(t *testing.T) {
	var n atomic.Int32
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			// Drop the connection without an answer.
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		writeHeadOK(w, "e", 1)
	})
	s := newFakeStore(t, f.URL, nil)
	if _, err := s.HeadObject(ctxT(t), "bkt", "k", s3io.ReadOptions{}); err != nil {
		t.Fatalf("HeadObject after a dropped connection: %v", err)
	}
	if n.Load() != 2 {
		t.Fatalf("%d attempts, want 2", n.Load())
	}
}

func TestProbesMakeAtMostTwoAttempts(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
	})
	s := newFakeStore(t, f.URL, nil)
	if err := s.ProbeBucket(ctxT(t), "bkt", "some/prefix/"); !errors.Is(err, s3io.ErrThrottled) {
		t.Fatalf("ProbeBucket: err = %v, want ErrThrottled", err)
	}
	if err := s.ProbeService(ctxT(t)); !errors.Is(err, s3io.ErrThrottled) {
		t.Fatalf("ProbeService: err = %v, want ErrThrottled", err)
	}
	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests for two probes, want 2 each", len(reqs))
	}
	if q := reqs[0].RawQuery; !strings.Contains(q, "max-keys=1") || !strings.Contains(q, "prefix=some%2Fprefix%2F") {
		t.Fatalf("probe query %q, want max-keys=1 and the prefix", q)
	}
}
