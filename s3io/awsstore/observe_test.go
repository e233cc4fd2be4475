package awsstore

import (
	"bytes"
	"net/http"
	"sync"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// TestObserveSeesEveryAttemptWithoutKeys: each HTTP attempt, retries
// included, reaches the observer with its operation, status, attempt
// number and body sizes (a HEAD's Content-Length is not counted as received), and nothing of the bucket or key.
func TestObserveSeesEveryAttemptWithoutKeys(t *testing.T) {
	var puts int
	fake := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			puts++
			if puts == 1 {
				writeS3Error(w, r, http.StatusInternalServerError, "InternalError")
				return
			}
			w.Header().Set("ETag", `"e1"`)
			w.WriteHeader(http.StatusOK)
			return
		}
		writeHeadOK(w, "e1", 5)
	})
	var mu sync.Mutex
	var got []s3io.Attempt
	s := newFakeStore(t, fake.URL, func(c *Config) {
		c.Observe = func(a s3io.Attempt) {
			mu.Lock()
			got = append(got, a)
			mu.Unlock()
		}
	})
	ctx := ctxT(t)
	if _, err := s.PutObject(ctx, "bkt", "secret/key.txt", bytes.NewReader([]byte("hello")), 5, s3io.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.HeadObject(ctx, "bkt", "secret/key.txt", s3io.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []s3io.Attempt{
		{Op: "PutObject", Status: 500, Attempt: 1, BytesSent: 5, Err: true},
		{Op: "PutObject", Status: 200, Attempt: 2, BytesSent: 5},
		{Op: "HeadObject", Status: 200, Attempt: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("observed %d attempts, want %d: %+v", len(got), len(want), got)
	}
	for i, a := range got {
		if a.Duration <= 0 {
			t.Errorf("attempt %d: no duration", i)
		}
		a.Duration = 0
		if i == 0 && a.BytesReceived > 0 { // the error document
			a.BytesReceived = 0
		}
		if a != want[i] {
			t.Errorf("attempt %d = %+v, want %+v", i, a, want[i])
		}
	}
}
