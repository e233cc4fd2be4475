package miniotest

import (
	"context"
	"fmt"
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
	return s.keys().Do(ctx, s.client, method, s.Endpoint, path, nil, body)
}

func (s *Server) keys() sigv4.Keys {
	return sigv4.Keys{AccessKey: s.AccessKey, SecretKey: s.SecretKey, Region: s.Region}
}

// CreateBucket creates a bucket.
func (s *Server) CreateBucket(ctx context.Context, name string) error {
	return s.keys().CreateBucket(ctx, s.client, s.Endpoint, name)
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
