package awsstore

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestDebugLogHasOneLinePerAttemptAndNoSecrets(t *testing.T) {
	var heads atomic.Int32
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodHead && heads.Add(1) == 1:
			writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
		case r.Method == http.MethodHead:
			writeHeadOK(w, "e", 1)
		case r.Method == http.MethodPut:
			w.Header().Set("X-Amz-Request-Id", "REQ-PUT")
			w.Header().Set("ETag", `"e"`)
			w.Header().Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", "AES256")
		default:
			w.Header().Set("X-Amz-Request-Id", "REQ-LIST")
			w.Write([]byte(`<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>`))
		}
	})
	var out syncBuffer
	log := slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newFakeStore(t, f.URL, func(c *Config) {
		c.Logger = log
		c.SessionToken = "session-token-do-not-log"
	})
	sseKey := s3io.SSECustomerKey(bytes.Repeat([]byte("k"), 32))
	ctx := ctxT(t)
	if _, err := s.HeadObject(ctx, "bkt", "dir/secret file", s3io.ReadOptions{SSEC: sseKey}); err != nil {
		t.Fatal(err)
	}
	body := []byte("body")
	if _, err := s.PutObject(ctx, "bkt", "put key", bytes.NewReader(body), 4, s3io.WriteOptions{SSEC: sseKey}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, s3io.ListRequest{Bucket: "bkt", Prefix: "dir/"}); err != nil {
		t.Fatal(err)
	}

	if got := f.requests()[0].Header.Get("X-Amz-Server-Side-Encryption-Customer-Key"); got != base64.StdEncoding.EncodeToString(sseKey) {
		t.Fatalf("the SSE-C key was not sent (%q), so its absence from the log proves nothing", got)
	}
	logged := out.String()
	for _, secret := range []string{
		fakeSecret, "session-token-do-not-log", base64.StdEncoding.EncodeToString(sseKey),
		"Signature=", "Authorization", "X-Amz-Security-Token", "x-amz-server-side-encryption-customer-key",
	} {
		if strings.Contains(logged, secret) {
			t.Errorf("the log contains %q:\n%s", secret, logged)
		}
	}

	type line struct {
		Msg, Op, Bucket, Key, Prefix, RequestID string
		Attempt, Status                         int
	}
	var lines []line
	for _, raw := range strings.Split(strings.TrimSpace(logged), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(raw), &m); err != nil {
			t.Fatalf("log line %q: %v", raw, err)
		}
		if m["msg"] != "s3 request" {
			continue
		}
		if _, ok := m["duration"]; !ok {
			t.Errorf("line without duration: %s", raw)
		}
		str := func(k string) string { v, _ := m[k].(string); return v }
		num := func(k string) int { v, _ := m[k].(float64); return int(v) }
		lines = append(lines, line{str("msg"), str("op"), str("bucket"), str("key"), str("prefix"),
			str("request_id"), num("attempt"), num("status")})
	}
	want := []line{
		{"s3 request", "HeadObject", "bkt", "dir/secret file", "", "REQ-SlowDown", 1, 503},
		{"s3 request", "HeadObject", "bkt", "dir/secret file", "", "REQ-HEAD", 2, 200},
		{"s3 request", "PutObject", "bkt", "put key", "", "REQ-PUT", 1, 200},
		{"s3 request", "ListObjectsV2", "bkt", "", "dir/", "REQ-LIST", 1, 200},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d request lines, want %d:\n%s", len(lines), len(want), logged)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d = %+v, want %+v", i, lines[i], want[i])
		}
	}
}
