package awsstore

import (
	"context"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync/atomic"
	"testing"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/s3io"
)

var credentialScope = regexp.MustCompile(`Credential=([^/]+)/\d{8}/([^/]+)/s3/aws4_request`)

// signedAs returns the access key and region a request was signed with.
func signedAs(t *testing.T, r recorded) (accessKey, region string) {
	t.Helper()
	m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization"))
	if m == nil {
		t.Fatalf("Authorization %q has no SigV4 credential scope", r.Header.Get("Authorization"))
	}
	return m[1], m[2]
}

func headOK(w http.ResponseWriter, r *http.Request) { writeHeadOK(w, "e", 1) }

func TestRegionComesFromConfigThenEnvironmentThenUSEast1(t *testing.T) {
	f := newFakeS3(t, headOK)
	head := func(s *Store) string {
		t.Helper()
		if _, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{}); err != nil {
			t.Fatal(err)
		}
		reqs := f.requests()
		_, region := signedAs(t, reqs[len(reqs)-1])
		return region
	}
	if got := head(newFakeStore(t, f.URL, nil)); got != "us-east-1" {
		t.Errorf("no region anywhere: signed for %q, want us-east-1", got)
	}
	// newFakeStore isolated the environment; now set a region in it.
	t.Setenv("AWS_REGION", "eu-west-3")
	s := newFakeStore2(t, f.URL, Config{})
	if got := head(s); got != "eu-west-3" {
		t.Errorf("AWS_REGION=eu-west-3: signed for %q", got)
	}
	if got := head(newFakeStore2(t, f.URL, Config{Region: "ap-south-1"})); got != "ap-south-1" {
		t.Errorf("Config.Region wins over AWS_REGION: signed for %q", got)
	}
}

// newFakeStore2 builds a Store in the current environment (which the test
// has already isolated and then adjusted), with fake static keys unless
// cfg names others.
func newFakeStore2(t *testing.T, endpoint string, cfg Config) *Store {
	t.Helper()
	cfg.Endpoint, cfg.ForcePathStyle = endpoint, true
	if cfg.AccessKeyID == "" && cfg.Profile == "" && !cfg.NoSignRequest {
		cfg.AccessKeyID, cfg.SecretAccessKey = fakeAccessKey, fakeSecret
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestProfileSuppliesRegionAndCredentials(t *testing.T) {
	f := newFakeS3(t, headOK)
	isolateAWSEnv(t)
	writeFile(t, os.Getenv("AWS_CONFIG_FILE"), "[profile other]\nregion = eu-central-1\n")
	writeFile(t, os.Getenv("AWS_SHARED_CREDENTIALS_FILE"),
		"[other]\naws_access_key_id = AKIAPROFILE\naws_secret_access_key = profilesecret\n")
	s := newFakeStore2(t, f.URL, Config{Profile: "other"})
	if _, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if ak, region := signedAs(t, f.requests()[0]); ak != "AKIAPROFILE" || region != "eu-central-1" {
		t.Fatalf("signed as %s in %s, want the profile's AKIAPROFILE in eu-central-1", ak, region)
	}
}

func TestMissingProfileIsInvalidCredentials(t *testing.T) {
	isolateAWSEnv(t)
	_, err := New(ctxT(t), Config{Profile: "nope"})
	if !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
}

func TestMissingCredentialsAreInvalidCredentialsWithoutARequest(t *testing.T) {
	f := newFakeS3(t, headOK)
	isolateAWSEnv(t)
	s, err := New(ctxT(t), Config{Endpoint: f.URL, ForcePathStyle: true, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrInvalidCredentials) {
		t.Fatalf("err = %v, want ErrInvalidCredentials", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests reached the server without credentials", n)
	}
}

func TestNoSignRequestSendsAnonymousRequests(t *testing.T) {
	f := newFakeS3(t, headOK)
	isolateAWSEnv(t)
	s := newFakeStore2(t, f.URL, Config{NoSignRequest: true})
	if _, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if auth := f.requests()[0].Header.Get("Authorization"); auth != "" {
		t.Fatalf("anonymous request carries Authorization %q", auth)
	}
}

// newTLSFake starts an HTTPS fake S3 and writes its certificate as a PEM
// CA bundle.
func newTLSFake(t *testing.T) (srv *httptest.Server, bundle string) {
	t.Helper()
	srv = httptest.NewTLSServer(http.HandlerFunc(headOK))
	t.Cleanup(srv.Close)
	bundle = filepath.Join(t.TempDir(), "ca.pem")
	writeFile(t, bundle, string(pemCert(srv.Certificate().Raw)))
	return srv, bundle
}

func TestAWSCABundleIsHonouredWithAWrappedTransport(t *testing.T) {
	srv, bundle := newTLSFake(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_CA_BUNDLE", bundle)
	var wrapped atomic.Int32
	s := newFakeStore2(t, srv.URL, Config{WrapTransport: countingTransport(&wrapped)})
	if _, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{}); err != nil {
		t.Fatalf("HeadObject over TLS with AWS_CA_BUNDLE: %v", err)
	}
	if wrapped.Load() == 0 {
		t.Fatal("WrapTransport's round tripper saw no request")
	}
}

func TestCABundleOptionIsHonoured(t *testing.T) {
	srv, bundle := newTLSFake(t)
	isolateAWSEnv(t)
	s := newFakeStore2(t, srv.URL, Config{CABundle: bundle})
	if _, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{}); err != nil {
		t.Fatalf("HeadObject over TLS with CABundle: %v", err)
	}
}

func TestUntrustedCertificateIsUnreachable(t *testing.T) {
	srv, _ := newTLSFake(t)
	isolateAWSEnv(t)
	s := newFakeStore2(t, srv.URL, Config{MaxAttempts: 1})
	_, err := s.HeadObject(ctxT(t), "b", "k", s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
}

func TestCABundleWithoutCertificatesIsRejected(t *testing.T) {
	isolateAWSEnv(t)
	bad := filepath.Join(t.TempDir(), "bad.pem")
	writeFile(t, bad, "not a certificate\n")
	if _, err := New(ctxT(t), Config{CABundle: bad, AccessKeyID: "a", SecretAccessKey: "b"}); !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Errorf("CABundle without certificates: err = %v, want ErrInvalidArgument", err)
	}
	t.Setenv("AWS_CA_BUNDLE", bad)
	if _, err := New(ctxT(t), Config{AccessKeyID: "a", SecretAccessKey: "b"}); !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Errorf("AWS_CA_BUNDLE without certificates: err = %v, want ErrInvalidArgument", err)
	}
	_, err := New(ctxT(t), Config{AccessKeyID: "a", SecretAccessKey: "b", CABundle: filepath.Join(t.TempDir(), "missing.pem")})
	if !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Errorf("missing CABundle file: err = %v, want ErrInvalidArgument", err)
	}
}

func TestGeneratedCertWorksAsAWSCABundle(t *testing.T) {
	// The same PEM that miniotest hands MinIO must load as AWS_CA_BUNDLE.
	certFile, _ := miniotest.GenerateCert(t)
	isolateAWSEnv(t)
	t.Setenv("AWS_CA_BUNDLE", certFile)
	if _, err := New(ctxT(t), Config{AccessKeyID: "a", SecretAccessKey: "b", WrapTransport: countingTransport(new(atomic.Int32))}); err != nil {
		t.Fatal(err)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func countingTransport(n *atomic.Int32) func(http.RoundTripper) http.RoundTripper {
	return func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return next.RoundTrip(r)
		})
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}
