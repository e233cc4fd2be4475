package awsstore

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/storetest"
)

// server is one S3 server (chosen by $S3MOUNT_TEST_SERVER, MinIO unless
// told) for every test of the package that needs one.
var server s3test.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	server.Stop()
	os.Exit(code)
}

// serverConfig is a Config for srv with its credentials, path style.
func serverConfig(srv *s3test.Server) Config {
	return Config{
		Endpoint:        srv.Endpoint,
		Region:          srv.Region,
		ForcePathStyle:  true,
		AccessKeyID:     srv.AccessKey,
		SecretAccessKey: srv.SecretKey,
		CABundle:        srv.CertFile,
	}
}

func newServerStore(t *testing.T, srv *s3test.Server, tweak func(*Config)) *Store {
	t.Helper()
	cfg := serverConfig(srv)
	if tweak != nil {
		tweak(&cfg)
	}
	isolateAWSEnv(t)
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAWSStorePassesTheConformanceSuite(t *testing.T) {
	srv := server.Get(t)
	store := newServerStore(t, srv, nil)
	// What the server lacks is listed once, in internal/s3test/lacks.go.
	opts := storetest.Options{MayLack: srv.StoreLacks(), PresignedHTTP: true}
	storetest.RunWithOptions(t, func(t *testing.T) (s3io.Store, string) {
		return store, srv.NewBucket(t)
	}, opts)
}

// The mount's decorators around the real store change nothing a Store
// promises (cmd/s3mount builds Limit(Count(awsstore))).
func TestLimitedAndCountedAWSStorePassesTheConformanceSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("the conformance suite again, decorated: not in -short")
	}
	srv := server.Get(t)
	store := s3io.Limit(s3io.Count(newServerStore(t, srv, nil), func(s3io.Request) {}), 8)
	opts := storetest.Options{MayLack: srv.StoreLacks(), PresignedHTTP: true}
	storetest.RunWithOptions(t, func(t *testing.T) (s3io.Store, string) {
		return store, srv.NewBucket(t)
	}, opts)
}

func TestProbesReportEachFailureClearly(t *testing.T) {
	srv := server.Get(t)
	bucket := srv.NewBucket(t)
	ctx := ctxT(t)
	good := newServerStore(t, srv, nil)
	if err := good.ProbeBucket(ctx, bucket, "any/prefix/"); err != nil {
		t.Fatalf("ProbeBucket of an existing bucket: %v", err)
	}
	if err := good.ProbeService(ctx); err != nil {
		t.Fatalf("ProbeService: %v", err)
	}
	if err := good.ProbeBucket(ctx, "no-such-bucket-here", ""); !errors.Is(err, s3io.ErrBucketNotFound) {
		t.Fatalf("missing bucket: err = %v, want ErrBucketNotFound", err)
	}

	wrongSecret := newServerStore(t, srv, func(c *Config) { c.SecretAccessKey = "not-the-secret" })
	if err := wrongSecret.ProbeBucket(ctx, bucket, ""); !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("wrong secret: err = %v, want ErrInvalidCredentials", err)
	}
	wrongKey := newServerStore(t, srv, func(c *Config) { c.AccessKeyID = "nobody" })
	if err := wrongKey.ProbeService(ctx); !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("unknown access key: err = %v, want ErrInvalidCredentials", err)
	}
	anonymous := newServerStore(t, srv, func(c *Config) { c.NoSignRequest = true })
	if err := anonymous.ProbeBucket(ctx, bucket, ""); !errors.Is(err, s3io.ErrAccessDenied) {
		t.Fatalf("anonymous on a private bucket: err = %v, want ErrAccessDenied", err)
	}
}

func TestReadRangeResumesABrokenBody(t *testing.T) {
	srv := server.Get(t)
	bucket := srv.NewBucket(t)
	data := randomData(3 << 20)
	plain := newServerStore(t, srv, nil)
	ctx := ctxT(t)
	info, err := plain.PutObject(ctx, bucket, "big", bytes.NewReader(data), int64(len(data)), s3io.WriteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cut := func(i int) int {
		if i < 2 {
			return 256 << 10 // two bodies break after 256 KiB each
		}
		return -1
	}
	flaky := newServerStore(t, srv, func(c *Config) { c.WrapTransport = breakBodies(cut, nil) })
	p := make([]byte, 2<<20)
	n, err := flaky.ReadRange(ctx, bucket, "big", 1<<20, p, s3io.ReadOptions{IfMatch: info.ETag})
	if err != nil || n != len(p) || !bytes.Equal(p, data[1<<20:]) {
		t.Fatalf("ReadRange through two broken bodies = %d, %v (bytes equal: %v)", n, err, bytes.Equal(p[:n], data[1<<20:1<<20+n]))
	}

	// A body that breaks after the object changed must not be resumed
	// with the new version's bytes.
	replace := func() {
		if _, err := plain.PutObject(ctx, bucket, "big", bytes.NewReader(data[1:]), int64(len(data)-1), s3io.WriteOptions{}); err != nil {
			t.Error(err)
		}
	}
	changing := newServerStore(t, srv, func(c *Config) {
		c.WrapTransport = breakBodies(func(i int) int {
			if i == 0 {
				return 1000
			}
			return -1
		}, replace)
	})
	_, err = changing.ReadRange(ctx, bucket, "big", 0, p, s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrPreconditionFailed) {
		t.Fatalf("object replaced mid-read: err = %v, want ErrPreconditionFailed", err)
	}
}

func TestTLSServerWithCABundleAndSSEC(t *testing.T) {
	certFile, keyFile := miniotest.GenerateCert(t)
	srv := s3test.Start(t, s3test.Options{CertFile: certFile, KeyFile: keyFile})
	bucket := srv.NewBucket(t)
	s := newServerStore(t, srv, func(c *Config) { c.CABundle = srv.CertFile })
	ctx := ctxT(t)

	key := s3io.SSECustomerKey(bytes.Repeat([]byte{0x5a}, 32))
	other := s3io.SSECustomerKey(bytes.Repeat([]byte{0xa5}, 32))
	data := randomData(100000)
	if srv.Lacks(storetest.SSE) {
		// The server ignores SSE-C: the write must fail, and leave no
		// plaintext behind.
		_, err := s.PutObject(ctx, bucket, "secret", bytes.NewReader(data), int64(len(data)), s3io.WriteOptions{SSEC: key})
		if !errors.Is(err, s3io.ErrEncryptionIgnored) {
			t.Fatalf("PutObject with SSE-C on %s, which ignores it: err = %v, want ErrEncryptionIgnored", srv.Kind, err)
		}
		if _, err := s.HeadObject(ctx, bucket, "secret", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
			t.Fatalf("HeadObject after the refused SSE-C write: %v, want ErrNotFound (no plaintext left)", err)
		}
		// A multipart upload is checked when it completes (MinIO does not
		// echo encryption in CreateMultipartUpload's answer).
		id, err := s.CreateMultipartUpload(ctx, bucket, "mp", s3io.WriteOptions{SSE: "AES256"})
		if err != nil {
			t.Fatal(err)
		}
		up := s3io.Upload{Bucket: bucket, Key: "mp", ID: id}
		part, err := s.UploadPart(ctx, up, 1, bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CompleteMultipartUpload(ctx, up, []s3io.Part{part}); !errors.Is(err, s3io.ErrEncryptionIgnored) {
			t.Fatalf("CompleteMultipartUpload with SSE-S3 on %s: err = %v, want ErrEncryptionIgnored", srv.Kind, err)
		}
		if _, err := s.HeadObject(ctx, bucket, "mp", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrNotFound) {
			t.Fatalf("HeadObject after the refused multipart upload: %v, want ErrNotFound", err)
		}
		return
	}
	if _, err := s.PutObject(ctx, bucket, "secret", bytes.NewReader(data), int64(len(data)), s3io.WriteOptions{SSEC: key}); err != nil {
		t.Fatalf("PutObject with SSE-C over TLS: %v", err)
	}
	p := make([]byte, 1000)
	n, err := s.ReadRange(ctx, bucket, "secret", 500, p, s3io.ReadOptions{SSEC: key})
	if err != nil || n != 1000 || !bytes.Equal(p, data[500:1500]) {
		t.Fatalf("ReadRange with the SSE-C key = %d, %v", n, err)
	}
	checkPresignedSSEC(t, s, srv, bucket, "secret", key, data)

	// The same answers memstore gives (see its TestSSECObjectsNeedTheirKey).
	if _, err = s.HeadObject(ctx, bucket, "secret", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrSSECKey) {
		t.Fatalf("HeadObject of an SSE-C object without the key: err = %v, want ErrSSECKey", err)
	}
	// MinIO answers a wrong key with a plain AccessDenied, Ceph RGW with
	// 400 InvalidArgument; both must reach the file system as EACCES.
	if _, err = s.ReadRange(ctx, bucket, "secret", 0, p, s3io.ReadOptions{SSEC: other}); !errors.Is(err, s3io.ErrAccessDenied) && !errors.Is(err, s3io.ErrSSECKey) {
		t.Fatalf("ReadRange with the wrong SSE-C key: err = %v, want ErrAccessDenied or ErrSSECKey", err)
	}
	_, err = s.CopyObject(ctx, s3io.CopySource{Bucket: bucket, Key: "secret", SSEC: key}, bucket, "copy",
		s3io.CopyOptions{WriteOptions: s3io.WriteOptions{SSEC: other}})
	if errors.Is(err, s3io.ErrNotImplemented) && srv.Lacks(storetest.SSECCopy) {
		// Ceph RGW: 501; the file system copies such objects by reading
		// them (writeback's copy fallback).
		t.Logf("%s refuses the copy of an SSE-C object as documented: %v", srv.Kind, err)
		return
	}
	if err != nil {
		t.Fatalf("CopyObject re-encrypting with another SSE-C key: %v", err)
	}
	n, err = s.ReadRange(ctx, bucket, "copy", 500, p, s3io.ReadOptions{SSEC: other})
	if err != nil || n != 1000 || !bytes.Equal(p, data[500:1500]) {
		t.Fatalf("reading the re-encrypted copy = %d, %v", n, err)
	}

	// The same server through AWS_CA_BUNDLE, with a wrapped transport.
	isolateAWSEnv(t)
	t.Setenv("AWS_CA_BUNDLE", srv.CertFile)
	var seen atomic.Int32
	cfg := serverConfig(srv)
	cfg.WrapTransport = countingTransport(&seen)
	viaEnv, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := viaEnv.ProbeBucket(ctx, bucket, ""); err != nil || seen.Load() == 0 {
		t.Fatalf("ProbeBucket trusting the server through AWS_CA_BUNDLE: %v (%d requests seen)", err, seen.Load())
	}
}

// checkPresignedSSEC fetches a presigned URL of an SSE-C object: it works
// with the three SSE-C headers the URL's user must send, and not without.
func checkPresignedSSEC(t *testing.T, s *Store, srv *s3test.Server, bucket, key string,
	sseKey s3io.SSECustomerKey, data []byte) {
	t.Helper()
	ctx := ctxT(t)
	url, err := s.PresignGetObject(ctx, bucket, key, time.Minute, s3io.ReadOptions{SSEC: sseKey})
	if err != nil {
		t.Fatal(err)
	}
	pem, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(withKey bool) (int, []byte) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if withKey {
			alg, k, sum := ssec(sseKey)
			req.Header.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", *alg)
			req.Header.Set("X-Amz-Server-Side-Encryption-Customer-Key", *k)
			req.Header.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", *sum)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, body
	}
	if status, body := get(true); status != http.StatusOK || !bytes.Equal(body, data) {
		t.Fatalf("presigned SSE-C GET with the key headers: HTTP %d, %d bytes", status, len(body))
	}
	if status, _ := get(false); status == http.StatusOK {
		t.Fatal("presigned SSE-C GET without the key headers succeeded")
	}
}
