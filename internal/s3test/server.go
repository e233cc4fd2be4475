package s3test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
)

// Server is a running S3 server of some Kind.
type Server struct {
	Kind Kind
	// Version is the server's version as it reports it (or as pinned).
	Version   string
	Endpoint  string // http://127.0.0.1:PORT, https://…, or an external URL
	AccessKey string
	SecretKey string
	Region    string
	// CertFile is the certificate clients must trust for an HTTPS server,
	// empty for plain HTTP (or a publicly trusted external server).
	CertFile string
	// KMSKeyID names a key the server encrypts SSE-KMS objects with, empty
	// when the server has none.
	KMSKeyID string

	proc   process
	client *http.Client
}

// process is what a started server can be asked to do; an external
// server has none.
type process interface {
	Stop()
	Restart(pause time.Duration) error
	LogTail(n int) string
}

// Options configure Launch.
type Options struct {
	// CertFile and KeyFile (PEM), when set, make the server speak HTTPS.
	CertFile, KeyFile string
	// KMS gives the server a key for SSE-S3 and SSE-KMS where it can have
	// one (MinIO's built-in KMS key; RGW's testing KMS always has one).
	KMS bool
}

// Launch starts a server of kind k (or reaches the external one).
func Launch(k Kind, opts Options) (*Server, error) {
	var (
		srv *Server
		err error
	)
	switch k {
	case MinIO:
		srv, err = launchMinIO(opts)
	case Ceph:
		srv, err = launchCeph(opts)
	case VersityGW:
		srv, err = launchVersityGW(opts)
	case External:
		srv, err = external()
	default:
		err = fmt.Errorf("unknown server kind %q", k)
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", k, err)
	}
	srv.client = &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			// Bucket creation only: the credentials prove the server is ours.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test helper, see above
		},
	}
	return srv, nil
}

// Missing names what this machine lacks to run a server of kind k, or
// returns nil.
func Missing(k Kind) error {
	switch k {
	case MinIO:
		return minioMissing()
	case Ceph:
		return cephMissing()
	case VersityGW:
		return versityGWMissing()
	case External:
		return externalMissing()
	}
	return fmt.Errorf("unknown server kind %q", k)
}

// Stop stops a server this package started; an external one is left alone.
func (s *Server) Stop() {
	if s.proc != nil {
		s.proc.Stop()
	}
}

// ErrCannotRestart says that the server is not ours to restart.
var ErrCannotRestart = errors.New("an external server cannot be restarted by the tests")

// Restart kills the server and starts it again on the same address with
// the same data, after pause: what clients see when a server restarts.
func (s *Server) Restart(pause time.Duration) error {
	if s.proc == nil {
		return ErrCannotRestart
	}
	return s.proc.Restart(pause)
}

// LogTail returns the last n bytes of the server's log, for failures.
func (s *Server) LogTail(n int) string {
	if s.proc == nil {
		return "(external server: no log)"
	}
	return s.proc.LogTail(n)
}

// Do sends one request signed with the server's credentials. path is the
// escaped, path-style resource, such as "/bucket"; the caller closes the
// body.
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
	name = fmt.Sprintf("t%d-%d-%s", time.Now().UnixNano()%1e6, bucketSeq.Add(1), name)
	if len(name) > 63 {
		name = name[:63]
	}
	name = strings.TrimRight(name, "-")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.CreateBucket(ctx, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.CleanupBucket(t, name) })
	return name
}

// CleanupBucket removes bucket and what it holds at the end of a test,
// logging (not failing) when that is impossible: a test may have deleted
// the bucket itself, or left it to a mount that is still unmounting.
func (s *Server) CleanupBucket(t testing.TB, bucket string) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.RemoveBucket(ctx, bucket); err != nil && !strings.Contains(err.Error(), "NoSuchBucket") {
		t.Logf("cleanup: %v", err)
	}
}
