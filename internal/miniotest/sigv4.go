package miniotest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
)

// Do sends one request signed with the server's credentials (AWS
// Signature Version 4). path is the escaped, path-style resource, such as
// "/" or "/bucket". It exists so that tests can create buckets without
// depending on the package under test; the caller closes the body.
func (s *Server) Do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	s.sign(req, body, time.Now().UTC())
	return s.client.Do(req)
}

// sign adds SigV4 headers for a request whose query string is empty.
func (s *Server) sign(req *http.Request, body []byte, now time.Time) {
	sigv4.Keys{AccessKey: s.AccessKey, SecretKey: s.SecretKey, Region: s.Region}.Sign(req, body, now)
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	resp, err := s.Do(ctx, http.MethodPut, "/"+name, nil)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("create bucket %s: HTTP %d: %s", name, resp.StatusCode, b)
	}
	return nil
}

var bucketSeq atomic.Int64

var notBucketChars = regexp.MustCompile(`[^a-z0-9-]+`)

// NewBucket creates a bucket with a fresh name derived from the test's
// name, so that tests sharing a server never see each other's objects.
func (s *Server) NewBucket(t testing.TB) string {
	t.Helper()
	name := notBucketChars.ReplaceAllString(strings.ToLower(t.Name()), "-")
	name = fmt.Sprintf("t%d-%s", bucketSeq.Add(1), name)
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateBucket(ctx, name); err != nil {
		t.Fatal(err)
	}
	return name
}
