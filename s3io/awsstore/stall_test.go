package awsstore

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// A server that stops reading an upload's body (a full Ceph OSD does) must
// not block the upload past the request timeout: each attempt fails after
// --request-timeout without progress and is retried, and when the
// attempts run out the error comes back, within attempts x timeout plus
// backoff. Before, only the wait for the answer's headers was bounded.
func TestUploadWhoseBodyTheServerStopsReadingFailsWithinTheTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.CopyN(io.Discard, r.Body, 64<<10) // take a little, then stall
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	const timeout = 300 * time.Millisecond
	s := newFakeStore(t, srv.URL, func(c *Config) {
		c.ResponseTimeout = timeout
		c.MaxAttempts = 2
		c.MaxBackoff = 50 * time.Millisecond
	})
	body := bytes.Repeat([]byte("x"), 64<<20) // more than loopback's socket buffers hold
	// Through the SDK, and with Content-MD5 (the default) through the lean
	// PUT first, whose failed attempt is the first of the two.
	for _, opts := range []s3io.WriteOptions{{}, {ContentMD5: true}} {
		start := time.Now()
		_, err := s.PutObject(ctxT(t), "bkt", "big", bytes.NewReader(body), int64(len(body)), opts)
		took := time.Since(start)
		if err == nil {
			t.Fatal("PutObject to a server that stopped reading succeeded")
		}
		if took > 2*timeout+2*time.Second {
			t.Fatalf("PutObject (Content-MD5 %v) failed after %v, want within 2 attempts x %v plus backoff", opts.ContentMD5, took, timeout)
		}
		t.Logf("Content-MD5 %v: failed after %v: %v", opts.ContentMD5, took.Round(time.Millisecond), err)
	}
}
