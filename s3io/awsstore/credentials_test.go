package awsstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
	"github.com/s3mount/s3mount/s3io"
)

// keyCheckingS3 answers like S3 for the one set of keys it holds now
// (which a test rotates), after checking each request's signature and
// payload hash; other keys get InvalidAccessKeyId or
// SignatureDoesNotMatch, and for HEAD a bare 403.
type keyCheckingS3 struct {
	mu         sync.Mutex
	access     string
	secret     string
	accepted   int
	rejected   int
	minioStyle bool // HEAD errors name their code in X-Minio-Error-Code
}

func (k *keyCheckingS3) rotate(access, secret string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.access, k.secret = access, secret
}

func (k *keyCheckingS3) counts() (accepted, rejected int) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.accepted, k.rejected
}

func (k *keyCheckingS3) handler(t *testing.T) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		k.mu.Lock()
		access, secret := k.access, k.secret
		k.mu.Unlock()
		body, _ := io.ReadAll(r.Body)
		code := ""
		ak, err := sigv4.Verify(r, secret)
		switch {
		case ak != access:
			code = "InvalidAccessKeyId"
		case err != nil:
			code = "SignatureDoesNotMatch"
		}
		if h := r.Header.Get("X-Amz-Content-Sha256"); code == "" && h != "UNSIGNED-PAYLOAD" {
			sum := sha256.Sum256(body)
			if h != hex.EncodeToString(sum[:]) {
				t.Errorf("%s %s: payload hash %s does not match the body", r.Method, r.URL.Path, h)
				code = "XAmzContentSHA256Mismatch"
			}
		}
		k.mu.Lock()
		if code == "" {
			k.accepted++
		} else {
			k.rejected++
		}
		k.mu.Unlock()
		switch {
		case code != "" && r.Method == http.MethodHead:
			if k.minioStyle {
				w.Header().Set("X-Minio-Error-Code", code)
			}
			w.WriteHeader(http.StatusForbidden)
		case code != "":
			writeS3Error(w, r, http.StatusForbidden, code)
		case r.Method == http.MethodHead:
			writeHeadOK(w, "e", 1)
		case r.Method == http.MethodPut:
			w.Header().Set("ETag", `"e"`)
		default:
			w.Write([]byte(`<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>`))
		}
	}
}

// keyFile is a credentials source whose keys a test sets, counting fetches.
type keyFile struct {
	mu      sync.Mutex
	creds   s3io.Credentials
	err     error
	fetches int
	delay   time.Duration
}

func (f *keyFile) set(c s3io.Credentials, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.creds, f.err = c, err
}

func (f *keyFile) fetch(ctx context.Context) (s3io.Credentials, error) {
	f.mu.Lock()
	f.fetches++
	c, err, d := f.creds, f.err, f.delay
	f.mu.Unlock()
	time.Sleep(d)
	return c, err
}

func (f *keyFile) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fetches
}

func TestAnEmptySecretIsUsedToSign(t *testing.T) {
	srv := &keyCheckingS3{access: "TOKENKEY", secret: ""}
	f := newFakeS3(t, srv.handler(t))
	s := newFakeStore(t, f.URL, func(c *Config) { c.AccessKeyID, c.SecretAccessKey = "TOKENKEY", "" })
	ctx := ctxT(t)
	if err := s.ProbeBucket(ctx, "bkt", ""); err != nil {
		t.Fatalf("probe with an empty secret: %v", err)
	}
	body := []byte("signed body")
	if _, err := s.PutObject(ctx, "bkt", "k", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{}); err != nil {
		t.Fatalf("put with an empty secret: %v", err)
	}
	if _, err := s.HeadObject(ctx, "bkt", "k", s3io.ReadOptions{}); err != nil {
		t.Fatalf("head with an empty secret: %v", err)
	}
	if ok, bad := srv.counts(); ok != 3 || bad != 0 {
		t.Fatalf("%d requests accepted, %d rejected; want 3 and 0", ok, bad)
	}
	// The same keys with a secret are refused: the fake checks the secret.
	s2 := newFakeStore(t, f.URL, func(c *Config) { c.AccessKeyID, c.SecretAccessKey = "TOKENKEY", "x" })
	if err := s2.ProbeBucket(ctx, "bkt", ""); !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("probe with a wrong secret: %v, want ErrInvalidCredentials", err)
	}
}

func TestAnEmptySecretInTheEnvironmentIsUsedToSign(t *testing.T) {
	srv := &keyCheckingS3{access: "ENVTOKEN", secret: ""}
	f := newFakeS3(t, srv.handler(t))
	isolateAWSEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "ENVTOKEN")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	s, err := New(context.Background(), Config{Endpoint: f.URL, ForcePathStyle: true, MaxBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ProbeBucket(ctxT(t), "bkt", ""); err != nil {
		t.Fatalf("probe with AWS_SECRET_ACCESS_KEY empty: %v", err)
	}
	if got := s.AccessKeyID(ctxT(t)); got != "ENVTOKEN" {
		t.Fatalf("AccessKeyID = %q", got)
	}
}

func TestRotatedKeysAreFetchedAgainAndTheRequestResentOnce(t *testing.T) {
	for _, minio := range []bool{false, true} {
		t.Run(fmt.Sprintf("minio-style=%v", minio), func(t *testing.T) {
			srv := &keyCheckingS3{access: "AK1", secret: "secret-1", minioStyle: minio}
			f := newFakeS3(t, srv.handler(t))
			keys := &keyFile{creds: s3io.Credentials{AccessKeyID: "AK1", SecretAccessKey: "secret-1"}}
			var logs syncBuffer
			s := newFakeStore(t, f.URL, func(c *Config) {
				c.AccessKeyID, c.SecretAccessKey = "", ""
				c.Credentials = keys.fetch
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			ctx := ctxT(t)
			if err := s.CheckCredentials(ctx); err != nil {
				t.Fatal(err)
			}
			body := bytes.Repeat([]byte("b"), 100<<10)
			put := func(i int) error {
				_, err := s.PutObject(ctx, "bkt", fmt.Sprint("k", i), bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{})
				return err
			}
			if err := put(0); err != nil {
				t.Fatal(err)
			}
			// Rotation: the server accepts only the new keys, which the
			// source gives from now on.
			srv.rotate("AK2", "secret-2")
			keys.set(s3io.Credentials{AccessKeyID: "AK2", SecretAccessKey: "secret-2"}, nil)
			if err := put(1); err != nil {
				t.Fatalf("put after rotation: %v", err)
			}
			if n := keys.count(); n != 2 {
				t.Fatalf("%d fetches, want 2 (mount, rotation)", n)
			}
			// A new secret for the same access key: the SDK's signer caches
			// the derived key by access key and day.
			srv.rotate("AK2", "secret-3")
			keys.set(s3io.Credentials{AccessKeyID: "AK2", SecretAccessKey: "secret-3"}, nil)
			// A HEAD's rejection has no body: a bare 403, which keys
			// younger than a minute do not count as a rejection, unless
			// MinIO names the code in a header.
			_, err := s.HeadObject(ctx, "bkt", "k0", s3io.ReadOptions{})
			if minio && err != nil {
				t.Fatalf("HEAD after rotation, MinIO-style: %v", err)
			}
			if !minio && !errors.Is(err, s3io.ErrAccessDenied) {
				t.Fatalf("HEAD after rotation with young keys: %v, want ErrAccessDenied", err)
			}
			if err := put(2); err != nil {
				t.Fatalf("put after the second rotation: %v", err)
			}
			if n := keys.count(); n != 3 {
				t.Fatalf("%d fetches, want 3", n)
			}
			for _, secret := range []string{"secret-1", "secret-2", "secret-3", "Signature="} {
				if strings.Contains(logs.String(), secret) {
					t.Fatalf("the log shows %q", secret)
				}
			}
			if !strings.Contains(logs.String(), "S3 rejected the keys") {
				t.Fatalf("no log line says the keys were rejected:\n%s", logs.String())
			}
		})
	}
}

func TestKeysRejectedAgainFailWithoutMoreFetches(t *testing.T) {
	srv := &keyCheckingS3{access: "OTHER", secret: "x"}
	f := newFakeS3(t, srv.handler(t))
	keys := &keyFile{creds: s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "s"}}
	s := newFakeStore(t, f.URL, func(c *Config) { c.Credentials = keys.fetch })
	err := s.ProbeBucket(ctxT(t), "bkt", "")
	if !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("probe: %v, want ErrInvalidCredentials", err)
	}
	if _, bad := srv.counts(); bad != 2 || keys.count() != 2 {
		t.Fatalf("%d requests and %d fetches, want 2 and 2 (one resend with fresh keys)", bad, keys.count())
	}
}

func TestStaticKeysAreNotResentWhenRejected(t *testing.T) {
	srv := &keyCheckingS3{access: "OTHER", secret: "x"}
	f := newFakeS3(t, srv.handler(t))
	s := newFakeStore(t, f.URL, nil)
	if err := s.ProbeBucket(ctxT(t), "bkt", ""); !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("probe: %v", err)
	}
	if _, bad := srv.counts(); bad != 1 {
		t.Fatalf("%d requests, want 1", bad)
	}
}

func TestManyRequestsRejectedTogetherShareOneFetch(t *testing.T) {
	srv := &keyCheckingS3{access: "AK1", secret: "s1"}
	f := newFakeS3(t, srv.handler(t))
	keys := &keyFile{creds: s3io.Credentials{AccessKeyID: "AK1", SecretAccessKey: "s1"}, delay: 50 * time.Millisecond}
	s := newFakeStore(t, f.URL, func(c *Config) { c.Credentials = keys.fetch })
	ctx := ctxT(t)
	if err := s.CheckCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	srv.rotate("AK2", "s2")
	keys.set(s3io.Credentials{AccessKeyID: "AK2", SecretAccessKey: "s2"}, nil)
	var wg sync.WaitGroup
	var failed atomic.Int32
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.ProbeBucket(ctx, "bkt", ""); err != nil {
				failed.Add(1)
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	// Requests sent before the fetch began all drop the same old keys:
	// one fetch for them all.
	if n := keys.count(); n != 2 {
		t.Fatalf("%d fetches for 16 rejected requests, want 2 (mount, one rotation)", n)
	}
}

func TestAFailingSourceAfterRotationGivesInvalidCredentialsAndIsNotRunAgainAtOnce(t *testing.T) {
	srv := &keyCheckingS3{access: "AK", secret: "s"}
	f := newFakeS3(t, srv.handler(t))
	keys := &keyFile{err: errors.New("credentials command: exit status 3")}
	var logs syncBuffer
	s := newFakeStore(t, f.URL, func(c *Config) {
		c.Credentials = keys.fetch
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	ctx := ctxT(t)
	keys.set(s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "s"}, nil)
	if err := s.CheckCredentials(ctx); err != nil {
		t.Fatal(err)
	}
	srv.rotate("AK2", "s2")
	keys.set(s3io.Credentials{}, errors.New("credentials command: exit status 3"))
	err := s.ProbeBucket(ctx, "bkt", "")
	if !errors.Is(err, s3io.ErrInvalidCredentials) || !strings.Contains(err.Error(), "exit status 3") {
		t.Fatalf("probe after the keys were rotated and the command fails: %v", err)
	}
	for i := 0; i < 5; i++ {
		if _, err := s.HeadObject(ctx, "bkt", "k", s3io.ReadOptions{}); !errors.Is(err, s3io.ErrInvalidCredentials) {
			t.Fatalf("head without keys: %v, want ErrInvalidCredentials", err)
		}
	}
	if n := keys.count(); n != 2 {
		t.Fatalf("%d runs, want 2: none within %v of a failure", n, failedFetchPause)
	}
	if ok, bad := srv.counts(); ok+bad != 1 {
		t.Fatalf("%d requests sent, want 1 (rejected; none without keys)", ok+bad)
	}
	if !strings.Contains(logs.String(), "EACCES") {
		t.Fatalf("no log line for the failure:\n%s", logs.String())
	}
}

// fakeClock is a time source tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func TestExpiringKeysAreFetchedAgainBeforeTheyExpire(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	for _, c := range []struct {
		lifetime, refreshAfter time.Duration
	}{
		{time.Hour, 55 * time.Minute},        // 5 min before
		{20 * time.Second, 18 * time.Second}, // a tenth before
		{10 * time.Hour, 9*time.Hour + 55*time.Minute},
	} {
		keys := &keyFile{}
		p := newRefreshingProvider(keys.fetch, slog.New(slog.DiscardHandler))
		p.now = clock.Now
		keys.set(s3io.Credentials{AccessKeyID: "A", SecretAccessKey: "S", Expires: clock.Now().Add(c.lifetime)}, nil)
		ctx := ctxT(t)
		if _, err := p.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
		clock.advance(c.refreshAfter - time.Millisecond)
		p.Retrieve(ctx)
		if n := keys.count(); n != 1 {
			t.Fatalf("lifetime %v: %d fetches before %v, want 1", c.lifetime, n, c.refreshAfter)
		}
		clock.advance(time.Millisecond)
		keys.set(s3io.Credentials{AccessKeyID: "B", SecretAccessKey: "S", Expires: clock.Now().Add(c.lifetime)}, nil)
		got, err := p.Retrieve(ctx)
		if err != nil || got.AccessKeyID != "B" || keys.count() != 2 {
			t.Fatalf("lifetime %v at %v: %q, %v after %d fetches; want the new keys", c.lifetime, c.refreshAfter, got.AccessKeyID, err, keys.count())
		}
	}
}

func TestAFailedRefreshKeepsTheKeysUntilTheyExpire(t *testing.T) {
	clock := &fakeClock{now: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)}
	keys := &keyFile{}
	p := newRefreshingProvider(keys.fetch, slog.New(slog.DiscardHandler))
	p.now = clock.Now
	keys.set(s3io.Credentials{AccessKeyID: "A", SecretAccessKey: "S", Expires: clock.Now().Add(time.Hour)}, nil)
	ctx := ctxT(t)
	p.Retrieve(ctx)
	keys.set(s3io.Credentials{}, errors.New("site portal down"))
	clock.advance(56 * time.Minute) // due
	if got, err := p.Retrieve(ctx); err != nil || got.AccessKeyID != "A" {
		t.Fatalf("due keys, failing command: %q, %v; want the old keys", got.AccessKeyID, err)
	}
	clock.advance(time.Second) // within the pause: no run
	p.Retrieve(ctx)
	if n := keys.count(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
	clock.advance(4 * time.Minute) // expired, pause over
	if _, err := p.Retrieve(ctx); err == nil || !strings.Contains(err.Error(), "portal down") {
		t.Fatalf("expired keys, failing command: %v; want its error", err)
	}
	keys.set(s3io.Credentials{AccessKeyID: "B", SecretAccessKey: "S"}, nil)
	clock.advance(failedFetchPause)
	if got, err := p.Retrieve(ctx); err != nil || got.AccessKeyID != "B" {
		t.Fatalf("after the command recovers: %q, %v", got.AccessKeyID, err)
	}
}

func TestKeysThatExpiredAlreadyAreRefused(t *testing.T) {
	keys := &keyFile{}
	keys.set(s3io.Credentials{AccessKeyID: "A", SecretAccessKey: "S", Expires: time.Now().Add(-time.Minute)}, nil)
	p := newRefreshingProvider(keys.fetch, slog.New(slog.DiscardHandler))
	if _, err := p.Retrieve(ctxT(t)); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("Retrieve = %v, want an error about expired keys", err)
	}
}
