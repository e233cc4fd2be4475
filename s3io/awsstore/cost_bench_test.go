package awsstore

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// The CPU and allocations a request costs the daemon on top of the
// network: a ranged GET of 16 KiB and a PUT of 16 KiB against a server
// that answers at once.
func BenchmarkRequestCost(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Range", "bytes 0-16383/16384")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body)
			return
		}
		r.Body.Close()
	}))
	defer srv.Close()
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	s, err := New(context.Background(), Config{Endpoint: srv.URL, ForcePathStyle: true,
		AccessKeyID: fakeAccessKey, SecretAccessKey: fakeSecret})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := make([]byte, len(body))
	b.Run("GET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.ReadRange(ctx, "bkt", "dir/key", 0, p, s3io.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PUT", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.PutObject(ctx, "bkt", "dir/key", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
