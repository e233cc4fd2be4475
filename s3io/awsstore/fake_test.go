package awsstore

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Credentials the fake-server tests sign with. fakeSecret must never
// appear in a log line.
const (
	fakeAccessKey = "AKIAFAKEFAKEFAKE"
	fakeSecret    = "fake/secret+KEY/do-not-log-0123456789"
)

// recorded is one request the fake server saw.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

// fakeS3 is an httptest server that records requests and answers with a
// handler the test supplies.
type fakeS3 struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newFakeS3(t *testing.T, handler http.HandlerFunc) *fakeS3 {
	t.Helper()
	f := &fakeS3{}
	f.Server = httptest.NewServer(f.wrap(handler))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeS3) wrap(handler http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body := make([]byte, 0)
		if r.Body != nil {
			buf := make([]byte, 32<<10)
			for {
				n, err := r.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil {
					break
				}
			}
		}
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler(w, r)
	}
}

func (f *fakeS3) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

// newFakeStore returns a Store for endpoint with static fake credentials,
// path style, and backoff short enough for tests.
func newFakeStore(t *testing.T, endpoint string, tweak func(*Config)) *Store {
	t.Helper()
	isolateAWSEnv(t)
	cfg := Config{
		Endpoint:        endpoint,
		ForcePathStyle:  true,
		AccessKeyID:     fakeAccessKey,
		SecretAccessKey: fakeSecret,
		MaxBackoff:      time.Millisecond,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeS3Error answers like S3 does: an XML error document, or for HEAD
// only the status.
func writeS3Error(w http.ResponseWriter, r *http.Request, status int, code string) {
	w.Header().Set("X-Amz-Request-Id", "REQ-"+code)
	if r.Method == http.MethodHead || code == "" {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>%s</Code><Message>message for %s</Message><RequestId>REQ-%s</RequestId></Error>`, code, code, code)
}

// writeHeadOK answers a HeadObject.
func writeHeadOK(w http.ResponseWriter, etag string, size int) {
	w.Header().Set("ETag", `"`+etag+`"`)
	w.Header().Set("Content-Length", fmt.Sprint(size))
	w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	w.Header().Set("X-Amz-Request-Id", "REQ-HEAD")
	w.WriteHeader(http.StatusOK)
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
