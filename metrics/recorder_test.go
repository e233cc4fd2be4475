package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/s3mount/s3mount/s3io"
)

// TestObserveCountsByOperationAndStatus: each attempt is counted under its
// operation and status, bytes only for successful object transfers, and
// the totals for status agree.
func TestObserveCountsByOperationAndStatus(t *testing.T) {
	r := New()
	r.Observe(s3io.Attempt{Op: "GetObject", Status: 206, Attempt: 1, Duration: 3 * time.Millisecond, BytesReceived: 100})
	r.Observe(s3io.Attempt{Op: "GetObject", Status: 206, Attempt: 1, BytesReceived: 50})
	r.Observe(s3io.Attempt{Op: "PutObject", Status: 500, Attempt: 1, BytesSent: 7, BytesReceived: 160, Err: true})
	r.Observe(s3io.Attempt{Op: "PutObject", Status: 200, Attempt: 2, BytesSent: 7})
	r.Observe(s3io.Attempt{Op: "HeadObject", Attempt: 1, Err: true})              // no response
	r.Observe(s3io.Attempt{Op: "HeadObject", Status: 404, Attempt: 1, Err: true}) // a missing name: no error

	for _, c := range []struct {
		op, status string
		want       float64
	}{
		{"GetObject", "206", 2}, {"PutObject", "500", 1}, {"PutObject", "200", 1}, {"HeadObject", "error", 1}, {"HeadObject", "404", 1},
	} {
		if got := testutil.ToFloat64(r.requests.WithLabelValues(c.op, c.status)); got != c.want {
			t.Errorf("requests{%s,%s} = %v, want %v", c.op, c.status, got, c.want)
		}
	}
	if got := testutil.ToFloat64(r.readBytes); got != 150 {
		t.Errorf("read bytes = %v, want 150", got)
	}
	if got := testutil.ToFloat64(r.writtenBytes); got != 7 {
		t.Errorf("written bytes = %v, want 7 (the failed attempt's body is not in S3)", got)
	}
	if n := testutil.CollectAndCount(r.latency); n != 3 {
		t.Errorf("latency histograms = %d, want one per operation (3)", n)
	}
	want := []OpTotals{
		{Op: "GetObject", Requests: 2},
		{Op: "HeadObject", Requests: 2, Errors: 1},
		{Op: "PutObject", Requests: 2, Errors: 1, Retries: 1},
	}
	got := r.Totals()
	if len(got) != len(want) {
		t.Fatalf("totals = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("totals[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestRecentForgetsAttemptsOlderThanAMinute: the last-minute window
// counts what happened in the last 60 seconds only, with constant memory.
func TestRecentForgetsAttemptsOlderThanAMinute(t *testing.T) {
	r := New()
	now := time.Unix(1_000_000, 0)
	r.now = func() time.Time { return now }
	r.Observe(s3io.Attempt{Op: "GetObject", Status: 503, Attempt: 1, Err: true})
	now = now.Add(30 * time.Second)
	r.Observe(s3io.Attempt{Op: "GetObject", Status: 200, Attempt: 2})
	if w := r.Recent(); w != (Window{Requests: 2, Errors: 1, Retries: 1}) {
		t.Errorf("after 30 s: %+v", w)
	}
	now = now.Add(45 * time.Second) // the first is 75 s old, the second 45 s
	if w := r.Recent(); w != (Window{Requests: 1, Retries: 1}) {
		t.Errorf("after 75 s: %+v", w)
	}
	now = now.Add(2 * time.Hour)
	r.Observe(s3io.Attempt{Op: "GetObject", Status: 200, Attempt: 1}) // reuses an old bucket
	if w := r.Recent(); w != (Window{Requests: 1}) {
		t.Errorf("2 h later: %+v", w)
	}
}

// TestHandlerServesOwnRegistry: the endpoint shows this recorder's
// metrics and the funcs registered on it, and two recorders coexist (no
// global registry).
func TestHandlerServesOwnRegistry(t *testing.T) {
	a, b := New(), New()
	a.CounterFunc("cache_hits_total", "hits", func() float64 { return 42 })
	b.CounterFunc("cache_hits_total", "hits", func() float64 { return 1 })
	a.GaugeFunc("uploads_pending", "pending", func() float64 { return 3 })
	a.Observe(s3io.Attempt{Op: "GetObject", Status: 200, Attempt: 1, BytesReceived: 10})
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range []string{
		`s3mount_cache_hits_total 42`,
		`s3mount_uploads_pending 3`,
		`s3mount_s3_requests_total{operation="GetObject",status="200"} 1`,
		`s3mount_s3_read_bytes_total 10`,
		`s3mount_s3_request_duration_seconds_count{operation="GetObject"} 1`,
		`go_goroutines `,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}

// Requests counted by s3io.Count appear once each, by operation and
// result, beside the attempts (a request retried twice is one request and
// three attempts).
func TestObserveRequestCountsByOperationAndResult(t *testing.T) {
	r := New()
	for i := 1; i <= 3; i++ {
		r.Observe(s3io.Attempt{Op: "PutObject", Status: 503, Attempt: i, Err: i < 3})
	}
	r.ObserveRequest(s3io.Request{Op: "PutObject", Result: "ok"})
	r.ObserveRequest(s3io.Request{Op: "HeadObject", Result: "not_found"})
	r.ObserveRequest(s3io.Request{Op: "HeadObject", Result: "not_found"})
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range []string{
		`s3mount_store_requests_total{operation="PutObject",result="ok"} 1`,
		`s3mount_store_requests_total{operation="HeadObject",result="not_found"} 2`,
		`s3mount_s3_requests_total{operation="PutObject",status="503"} 3`,
	} {
		if !strings.Contains(string(body), line) {
			t.Errorf("/metrics lacks %q", line)
		}
	}
}
