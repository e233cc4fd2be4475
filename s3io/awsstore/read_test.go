package awsstore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// objectServer serves one object with real Range and If-Match handling
// (http.ServeContent), and lets a test replace it.
type objectServer struct {
	mu   sync.Mutex
	data []byte
	etag string
}

func (o *objectServer) set(data []byte, etag string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data, o.etag = data, etag
}

func (o *objectServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	data, etag := o.data, o.etag
	o.mu.Unlock()
	w.Header().Set("ETag", `"`+etag+`"`)
	http.ServeContent(w, r, "", time.Unix(1700000000, 0), bytes.NewReader(data))
}

// breakBodies wraps the transport so that the i-th GET's body (from 0)
// fails with io.ErrUnexpectedEOF after cut(i) bytes; cut returning -1
// leaves the body whole. onBreak, if set, runs when a body breaks.
func breakBodies(cut func(i int) int, onBreak func()) func(http.RoundTripper) http.RoundTripper {
	var gets atomic.Int32
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			resp, err := next.RoundTrip(r)
			if err != nil || r.Method != http.MethodGet {
				return resp, err
			}
			if n := cut(int(gets.Add(1)) - 1); n >= 0 {
				resp.Body = &breakingBody{ReadCloser: resp.Body, left: n, onBreak: onBreak}
			}
			return resp, nil
		})
	}
}

type breakingBody struct {
	io.ReadCloser
	left    int
	onBreak func()
	broken  bool
}

func (b *breakingBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		if !b.broken && b.onBreak != nil {
			b.onBreak()
		}
		b.broken = true
		return 0, io.ErrUnexpectedEOF
	}
	if len(p) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= n
	return n, err
}

func randomData(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func getRequests(f *fakeS3) []recorded {
	var gets []recorded
	for _, r := range f.requests() {
		if r.Method == http.MethodGet {
			gets = append(gets, r)
		}
	}
	return gets
}

func TestReadRangeResumesABrokenBodyWhereItStopped(t *testing.T) {
	data := randomData(1 << 20)
	obj := &objectServer{data: data, etag: "v1"}
	f := newFakeS3(t, obj.ServeHTTP)
	cut := func(i int) int {
		if i == 0 {
			return 100000
		}
		return -1
	}
	s := newFakeStore(t, f.URL, func(c *Config) { c.WrapTransport = breakBodies(cut, nil) })
	p := make([]byte, 500000)
	n, err := s.ReadRange(ctxT(t), "bkt", "k", 1000, p, s3io.ReadOptions{})
	if err != nil || n != len(p) {
		t.Fatalf("ReadRange = %d, %v; want %d, nil", n, err, len(p))
	}
	if !bytes.Equal(p, data[1000:501000]) {
		t.Fatal("the resumed read returned wrong bytes")
	}
	gets := getRequests(f)
	if len(gets) != 2 {
		t.Fatalf("%d GETs, want 2", len(gets))
	}
	if r := gets[1].Header.Get("Range"); r != "bytes=101000-500999" {
		t.Errorf("resumed Range = %q, want the missing bytes only", r)
	}
	if m := gets[1].Header.Get("If-Match"); m != `"v1"` {
		t.Errorf("resumed If-Match = %q, want the first answer's ETag", m)
	}
	if m := gets[0].Header.Get("If-Match"); m != "" {
		t.Errorf("first GET has If-Match %q though the caller gave none", m)
	}
}

func TestReadRangeFailsRatherThanMixTwoVersions(t *testing.T) {
	obj := &objectServer{data: randomData(100000), etag: "v1"}
	f := newFakeS3(t, obj.ServeHTTP)
	cut := func(i int) int {
		if i == 0 {
			return 1000
		}
		return -1
	}
	replace := func() { obj.set(randomData(100000)[1:], "v2") }
	s := newFakeStore(t, f.URL, func(c *Config) { c.WrapTransport = breakBodies(cut, replace) })
	_, err := s.ReadRange(ctxT(t), "bkt", "k", 0, make([]byte, 50000), s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrPreconditionFailed) {
		t.Fatalf("err = %v, want ErrPreconditionFailed: the object changed between the two GETs", err)
	}
}

func TestReadRangeGivesUpAfterMaxAttemptsBrokenBodies(t *testing.T) {
	obj := &objectServer{data: randomData(100000), etag: "v1"}
	f := newFakeS3(t, obj.ServeHTTP)
	s := newFakeStore(t, f.URL, func(c *Config) {
		c.MaxAttempts = 3
		c.WrapTransport = breakBodies(func(int) int { return 10 }, nil)
	})
	n, err := s.ReadRange(ctxT(t), "bkt", "k", 0, make([]byte, 50000), s3io.ReadOptions{})
	var oe *s3io.OpError
	if err == nil || !errors.As(err, &oe) {
		t.Fatalf("err = %v, want an OpError", err)
	}
	if got := len(getRequests(f)); got != 3 || n != 30 {
		t.Fatalf("%d GETs and %d bytes, want 3 GETs of 10 bytes each", got, n)
	}
}

func TestReadRangeCopesWithAServerThatIgnoresRange(t *testing.T) {
	data := randomData(1000)
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		w.Write(data) // 200 with the whole object, Range or not
	})
	s := newFakeStore(t, f.URL, nil)
	p := make([]byte, 100)
	n, err := s.ReadRange(ctxT(t), "bkt", "k", 950, p, s3io.ReadOptions{})
	if err != nil || n != 50 || !bytes.Equal(p[:n], data[950:]) {
		t.Fatalf("ReadRange(950, 100) = %d, %v; want the last 50 bytes", n, err)
	}
	n, err = s.ReadRange(ctxT(t), "bkt", "k", 2000, p, s3io.ReadOptions{})
	if err != nil || n != 0 {
		t.Fatalf("ReadRange past the end = %d, %v; want 0, nil", n, err)
	}
}

func TestReadRangeAsksAgainWhenTheServerSendsLessThanAsked(t *testing.T) {
	data := randomData(1000)
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		// A gateway that caps every answer at 100 bytes.
		var a, b int
		fmt.Sscanf(r.Header.Get("Range"), "bytes=%d-%d", &a, &b)
		b = min(b, a+99, len(data)-1)
		w.Header().Set("ETag", `"e"`)
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", a, b, len(data)))
		w.Header().Set("Content-Length", fmt.Sprint(b-a+1))
		w.WriteHeader(http.StatusPartialContent)
		w.Write(data[a : b+1])
	})
	s := newFakeStore(t, f.URL, nil)
	p := make([]byte, 350)
	n, err := s.ReadRange(ctxT(t), "bkt", "k", 600, p, s3io.ReadOptions{})
	if err != nil || n != 350 || !bytes.Equal(p, data[600:950]) {
		t.Fatalf("ReadRange(600, 350) = %d, %v; want all 350 bytes", n, err)
	}
	gets := getRequests(f)
	if len(gets) != 4 {
		t.Fatalf("%d GETs, want 4 of at most 100 bytes", len(gets))
	}
	if m := gets[3].Header.Get("If-Match"); m != `"e"` {
		t.Fatalf("follow-up GET If-Match = %q, want the first answer's ETag", m)
	}
	n, err = s.ReadRange(ctxT(t), "bkt", "k", 950, p, s3io.ReadOptions{})
	if err != nil || n != 50 {
		t.Fatalf("ReadRange(950, 350) = %d, %v; want the last 50 bytes and no error", n, err)
	}
}

// Filled is told, read by read and across a resumed body, how much of p
// is in; each count covers bytes that are final by then.
func TestReadRangeTellsFilledAsTheBytesArrive(t *testing.T) {
	data := randomData(3 << 20)
	obj := &objectServer{data: data, etag: "v1"}
	f := newFakeS3(t, obj.ServeHTTP)
	cut := func(i int) int {
		if i == 0 {
			return 1<<20 + 12345
		}
		return -1
	}
	s := newFakeStore(t, f.URL, func(c *Config) { c.WrapTransport = breakBodies(cut, nil) })
	p := make([]byte, 2<<20)
	var counts []int
	filled := func(n int) {
		if !bytes.Equal(p[:n], data[1000:1000+n]) {
			t.Errorf("told %d bytes are in before they are", n)
		}
		counts = append(counts, n)
	}
	n, err := s.ReadRange(ctxT(t), "bkt", "k", 1000, p, s3io.ReadOptions{Filled: filled})
	if err != nil || n != len(p) || !bytes.Equal(p, data[1000:1000+len(p)]) {
		t.Fatalf("ReadRange = %d, %v, or wrong bytes", n, err)
	}
	for i := 1; i < len(counts); i++ {
		if counts[i] <= counts[i-1] || counts[i]-counts[i-1] > filledRead {
			t.Fatalf("counts %d then %d: want growing, by at most %d", counts[i-1], counts[i], filledRead)
		}
	}
	if len(counts) == 0 || counts[len(counts)-1] != len(p) {
		t.Fatalf("last count %v, want %d", counts, len(p))
	}
}
