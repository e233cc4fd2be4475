package awsstore

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// headAnswer answers a HEAD with every header HeadObject reads, some in
// odd case and with odd spacing.
func headAnswer(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("ETag", `"0123456789abcdef0123456789abcdef"`)
	h.Set("Content-Length", "12345")
	h.Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
	h.Set("Content-Type", "text/x-go; charset=utf-8")
	h.Set("X-Amz-Storage-Class", "STANDARD_IA")
	h.Set("X-Amz-Version-Id", "v-42")
	h.Set("X-Amz-Server-Side-Encryption", "aws:kms")
	h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", "key-1")
	h["X-Amz-Meta-Mode"] = []string{"33188"}
	h["x-amz-meta-UID"] = []string{" 1000 "}
	h["X-AMZ-META-Mixed-Case"] = []string{"a", "b"}
	h["X-Amz-Meta-Symlink-Target"] = []string{"../a b/c"}
	h.Set("X-Amz-Request-Id", "REQ-1")
}

// A lean HEAD sends what the SDK sends and reads the same attributes from
// the same answer, for hostile keys, with and without If-Match and SSE-C;
// it is one request, not two.
func TestLeanHEADAnswersAsTheSDKDoes(t *testing.T) {
	keys := []string{"plain", "dir/a b+c.txt", "ü/ß é", "x%2Fy", "q?mark#hash&amp=", "emoji😀", "trailing/", "dir//double"}
	sdkSrv, leanSrv := newFakeS3(t, headAnswer), newFakeS3(t, headAnswer)
	sdk := newFakeStore(t, sdkSrv.URL+"/api/v1/s3", nil)
	sdk.lean = nil
	lean := newFakeStore(t, leanSrv.URL+"/api/v1/s3", nil)
	sseKey := s3io.SSECustomerKey([]byte("0123456789abcdef0123456789abcdef"))
	for _, key := range keys {
		for _, opts := range []s3io.ReadOptions{{}, {IfMatch: "etag-1", SSEC: sseKey}} {
			want, err := sdk.HeadObject(ctxT(t), "bkt", key, opts)
			if err != nil {
				t.Fatal(err)
			}
			got, err := lean.HeadObject(ctxT(t), "bkt", key, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%q: lean %+v\n  SDK %+v", key, got, want)
			}
		}
	}
	a, b := sdkSrv.requests(), leanSrv.requests()
	if len(a) != len(b) {
		t.Fatalf("the SDK sent %d requests, the lean path %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Method != b[i].Method || a[i].Path != b[i].Path || a[i].RawQuery != b[i].RawQuery {
			t.Errorf("SDK %s %s?%s, lean %s %s?%s", a[i].Method, a[i].Path, a[i].RawQuery, b[i].Method, b[i].Path, b[i].RawQuery)
		}
		for _, h := range []string{"If-Match", "X-Amz-Server-Side-Encryption-Customer-Algorithm",
			"X-Amz-Server-Side-Encryption-Customer-Key", "X-Amz-Server-Side-Encryption-Customer-Key-Md5",
			"X-Amz-Content-Sha256", "Accept-Encoding"} {
			if a[i].Header.Get(h) != b[i].Header.Get(h) {
				t.Errorf("%s: %s is %q from the SDK, %q lean", a[i].Path, h, a[i].Header.Get(h), b[i].Header.Get(h))
			}
		}
		_, signed, _ := strings.Cut(b[i].Header.Get("Authorization"), "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		for _, h := range []string{"host", "x-amz-content-sha256", "x-amz-date"} {
			if !strings.Contains(";"+signed+";", ";"+h+";") {
				t.Errorf("%s: lean signature leaves out %s (signed: %s)", b[i].Path, h, signed)
			}
		}
	}
}

// A lean HEAD of a missing key fails as the SDK's does, in one request
// (lookups of names that do not exist are common: every create makes one);
// any other error status is sent again through the SDK, whose error it
// then is; the metrics count the lean 404 as a failed attempt.
func TestALeanHEADFailsAsTheSDKDoes(t *testing.T) {
	for _, tc := range []struct {
		status   int
		requests int // lean
	}{{http.StatusNotFound, 1}, {http.StatusForbidden, 2}, {http.StatusBadRequest, 2},
		{http.StatusPreconditionFailed, 2}, {http.StatusMovedPermanently, 2}} {
		answer := func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, tc.status, "") }
		sdkSrv, leanSrv := newFakeS3(t, answer), newFakeS3(t, answer)
		sdk := newFakeStore(t, sdkSrv.URL, func(c *Config) { c.MaxAttempts = 1 })
		sdk.lean = nil
		var attempts []s3io.Attempt
		lean := newFakeStore(t, leanSrv.URL, func(c *Config) {
			c.MaxAttempts = 1
			c.Observe = func(a s3io.Attempt) { attempts = append(attempts, a) }
		})
		_, want := sdk.HeadObject(ctxT(t), "bkt", "dir/k", s3io.ReadOptions{IfMatch: "e"})
		_, got := lean.HeadObject(ctxT(t), "bkt", "dir/k", s3io.ReadOptions{IfMatch: "e"})
		if want == nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%d: lean %#v, SDK %#v", tc.status, got, want)
		}
		if n := len(leanSrv.requests()); n != tc.requests {
			t.Errorf("%d: %d lean requests, want %d", tc.status, n, tc.requests)
		}
		if len(attempts) == 0 || !attempts[0].Err || attempts[0].Status != tc.status {
			t.Errorf("%d: attempts observed %+v, want the first a failure with its status", tc.status, attempts)
		}
	}
}
