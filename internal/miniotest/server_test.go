package miniotest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
)

func TestStartAnswersSignedRequestsAndCreatesBuckets(t *testing.T) {
	srv := Start(t)
	bucket := srv.NewBucket(t)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := srv.Do(ctx, http.MethodGet, "/", nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "<Name>"+bucket+"</Name>") {
		t.Fatalf("ListBuckets: HTTP %d, body %s; want bucket %s listed", resp.StatusCode, body, bucket)
	}
	if !strings.HasPrefix(srv.Endpoint, "http://127.0.0.1:") {
		t.Fatalf("Endpoint = %q, want a plain-HTTP loopback URL", srv.Endpoint)
	}
	if fi, err := os.Stat(srv.DataDir); err != nil || !fi.IsDir() {
		t.Fatalf("DataDir %q: %v", srv.DataDir, err)
	}
}

func TestStopKillsTheServer(t *testing.T) {
	srv := Start(t)
	srv.Stop()
	resp, err := http.Get(srv.Endpoint + "/minio/health/live")
	if err == nil {
		resp.Body.Close()
		t.Fatalf("server still answers after Stop: HTTP %d", resp.StatusCode)
	}
	srv.Stop() // a second Stop (and the cleanup's) must be harmless
}

func TestStartTLSServesTheGivenCertificate(t *testing.T) {
	certFile, keyFile := GenerateCert(t)
	srv := StartTLS(t, certFile, keyFile)
	if !strings.HasPrefix(srv.Endpoint, "https://") {
		t.Fatalf("Endpoint = %q, want https", srv.Endpoint)
	}
	pemBytes, err := os.ReadFile(srv.CertFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("CertFile holds no certificate")
	}
	// Verification against only our certificate proves MinIO serves it.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(srv.Endpoint + "/minio/health/live")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health: HTTP %d", resp.StatusCode)
	}
}

func TestSharedLaunchesOneServer(t *testing.T) {
	var shared Shared
	defer shared.Stop()
	a := shared.Get(t)
	b := shared.Get(t)
	if a != b {
		t.Fatal("Get started a second server")
	}
	if a.removeOn == "" {
		t.Fatal("a shared server must remove its temporary directory on Stop")
	}
	dir := a.removeOn
	shared.Stop()
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("directory %s survives Stop: %v", dir, err)
	}
}

func TestSetUserCreatesAUserAndChangesItsSecret(t *testing.T) {
	srv := Start(t)
	bucket := srv.NewBucket(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	list := func(secret string) int {
		user := sigv4.Keys{AccessKey: "rotating-user", SecretKey: secret, Region: srv.Region}
		resp, err := user.Do(ctx, srv.client, http.MethodGet, srv.Endpoint, "/"+bucket+"?list-type=2", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if err := srv.SetUser(ctx, "rotating-user", "first-secret-123", "readwrite"); err != nil {
		t.Fatal(err)
	}
	if code := list("first-secret-123"); code != http.StatusOK {
		t.Fatalf("the new user's list: HTTP %d", code)
	}
	if err := srv.SetUser(ctx, "rotating-user", "second-secret-456", ""); err != nil {
		t.Fatal(err)
	}
	if code := list("first-secret-123"); code != http.StatusForbidden {
		t.Fatalf("the old secret after the change: HTTP %d, want 403", code)
	}
	if code := list("second-secret-456"); code != http.StatusOK {
		t.Fatalf("the new secret: HTTP %d", code)
	}
}
