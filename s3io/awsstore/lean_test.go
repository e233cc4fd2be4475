package awsstore

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// A lean GET is the request the SDK sends: the same escaped path under the
// endpoint's base path, the same range, condition and SSE-C headers, and a
// signature over them (the server here checks that the signed headers
// cover what S3 needs signed); it is one request, not two.
func TestLeanGETSendsWhatTheSDKSends(t *testing.T) {
	keys := []string{"plain", "dir/a b+c.txt", "ü/ß é", "x%2Fy", "semi;colon,comma", "q?mark#hash&amp=",
		"tilde~star*(paren)'quote'", "dir//double", "a/./b/../c", "emoji😀", "trailing/", "=eq@at$dollar!"}
	answer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		w.Header().Set("Content-Range", "bytes 2-5/10")
		w.WriteHeader(http.StatusPartialContent)
		w.Write([]byte("abcd"))
	}
	sdkSrv := newFakeS3(t, answer)
	leanSrv := newFakeS3(t, answer)
	sdk := newFakeStore(t, sdkSrv.URL+"/api/v1/s3", nil)
	sdk.lean = nil
	lean := newFakeStore(t, leanSrv.URL+"/api/v1/s3", nil)
	if lean.lean == nil {
		t.Fatal("a path-style store with an endpoint sends no lean GETs")
	}
	sseKey := s3io.SSECustomerKey([]byte("0123456789abcdef0123456789abcdef"))
	for _, key := range keys {
		for _, opts := range []s3io.ReadOptions{{}, {IfMatch: "etag-1", SSEC: sseKey}} {
			for _, s := range []*Store{sdk, lean} {
				p := make([]byte, 4)
				if n, err := s.ReadRange(ctxT(t), "bkt", key, 2, p, opts); err != nil || string(p[:n]) != "abcd" {
					t.Fatalf("%q: read %q, %v", key, p[:n], err)
				}
			}
		}
	}
	a, b := sdkSrv.requests(), leanSrv.requests()
	if len(a) != len(b) {
		t.Fatalf("the SDK sent %d requests, the lean path %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Method != b[i].Method || a[i].Path != b[i].Path {
			t.Errorf("SDK %s %s, lean %s %s", a[i].Method, a[i].Path, b[i].Method, b[i].Path)
		}
		for _, h := range []string{"Range", "If-Match", "X-Amz-Server-Side-Encryption-Customer-Algorithm",
			"X-Amz-Server-Side-Encryption-Customer-Key", "X-Amz-Server-Side-Encryption-Customer-Key-Md5",
			"X-Amz-Content-Sha256"} {
			if a[i].Header.Get(h) != b[i].Header.Get(h) {
				t.Errorf("%s: %s is %q from the SDK, %q lean", a[i].Path, h, a[i].Header.Get(h), b[i].Header.Get(h))
			}
		}
		auth := b[i].Header.Get("Authorization")
		_, signed, _ := strings.Cut(auth, "SignedHeaders=")
		signed, _, _ = strings.Cut(signed, ",")
		for _, h := range []string{"host", "range", "x-amz-content-sha256", "x-amz-date"} {
			if !strings.Contains(";"+signed+";", ";"+h+";") {
				t.Errorf("%s: lean signature leaves out %s (signed: %s)", b[i].Path, h, signed)
			}
		}
		if opts := b[i].Header.Get("If-Match"); opts != "" && !strings.Contains(signed, "if-match") {
			t.Errorf("%s: If-Match not signed", b[i].Path)
		}
	}
}

// A lean GET the server refuses is sent again through the SDK, which maps
// the error as ever; the lean attempt counts as the first of its attempts.
func TestALeanGETThatFailsIsSentThroughTheSDK(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, r, http.StatusNotFound, "NoSuchKey")
	})
	s := newFakeStore(t, f.URL, nil)
	_, err := s.ReadRange(ctxT(t), "bkt", "gone", 0, make([]byte, 4), s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
	var oe *s3io.OpError
	if !errors.As(err, &oe) || oe.Code != "NoSuchKey" || oe.Op != "GetObject" {
		t.Fatalf("err = %#v, want the SDK's OpError with NoSuchKey", err)
	}
	if got := len(f.requests()); got != 2 {
		t.Fatalf("%d requests, want the lean one and the SDK's", got)
	}
}

// A lean PUT is the PutObject the SDK sends with Content-MD5: the same
// path, body and headers (metadata, content type, storage class, ACL,
// each kind of encryption, If-None-Match), signed as UNSIGNED-PAYLOAD.
func TestLeanPUTSendsWhatTheSDKSends(t *testing.T) {
	answer := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"e"`)
		w.Header().Set("X-Amz-Version-Id", "v1")
		if v := r.Header.Get("X-Amz-Server-Side-Encryption"); v != "" {
			w.Header().Set("X-Amz-Server-Side-Encryption", v)
			w.Header().Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", r.Header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"))
		}
		if v := r.Header.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm"); v != "" {
			w.Header().Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", v)
		}
	}
	sdkSrv, leanSrv := newFakeS3(t, answer), newFakeS3(t, answer)
	sdk := newFakeStore(t, sdkSrv.URL+"/base", nil)
	sdk.lean = nil
	lean := newFakeStore(t, leanSrv.URL+"/base", nil)
	meta := map[string]string{"mode": "33188", "uid": "1000", "Mixed-Case": "v", "mtime": "1700000000"}
	optsList := []s3io.WriteOptions{
		{ContentMD5: true},
		{ContentMD5: true, Metadata: meta, ContentType: "text/plain", StorageClass: "STANDARD_IA", ACL: "private"},
		{ContentMD5: true, SSE: "AES256", IfNoneMatch: "*"},
		{ContentMD5: true, SSE: "aws:kms", SSEKMSKeyID: "key-1"},
		{ContentMD5: true, SSEC: s3io.SSECustomerKey([]byte("0123456789abcdef0123456789abcdef"))},
	}
	bodies := [][]byte{nil, []byte("x"), []byte(strings.Repeat("0123456789abcdef", 1024))}
	for _, key := range []string{"k", "dir/a b+c", "ü?#"} {
		for _, opts := range optsList {
			for _, body := range bodies {
				for _, s := range []*Store{sdk, lean} {
					info, err := s.PutObject(ctxT(t), "bkt", key, bytes.NewReader(body), int64(len(body)), opts)
					if err != nil || info.ETag != "e" || info.VersionID != "v1" {
						t.Fatalf("%q: %+v, %v", key, info, err)
					}
				}
			}
		}
	}
	a, b := sdkSrv.requests(), leanSrv.requests()
	if len(a) != len(b) {
		t.Fatalf("the SDK sent %d requests, the lean path %d", len(a), len(b))
	}
	skip := map[string]bool{"Authorization": true, "X-Amz-Date": true, "User-Agent": true, "Amz-Sdk-Invocation-Id": true,
		"Amz-Sdk-Request": true, "X-Amz-User-Agent": true}
	for i := range a {
		if a[i].Method != b[i].Method || a[i].Path != b[i].Path || !bytes.Equal(a[i].Body, b[i].Body) {
			t.Errorf("SDK %s %s (%d bytes), lean %s %s (%d bytes)", a[i].Method, a[i].Path, len(a[i].Body),
				b[i].Method, b[i].Path, len(b[i].Body))
		}
		for h := range a[i].Header {
			if !skip[h] && a[i].Header.Get(h) != b[i].Header.Get(h) {
				t.Errorf("%s: %s is %q from the SDK, %q lean", a[i].Path, h, a[i].Header.Get(h), b[i].Header.Get(h))
			}
		}
		for h := range b[i].Header {
			if !skip[h] && a[i].Header.Get(h) == "" {
				t.Errorf("%s: lean sends %s, the SDK does not", b[i].Path, h)
			}
		}
	}
}

// A lean PUT the server refuses is sent again, whole, through the SDK.
func TestALeanPUTThatFailsIsSentAgainWhole(t *testing.T) {
	var n int
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if n++; n == 1 {
			writeS3Error(w, r, http.StatusServiceUnavailable, "SlowDown")
			return
		}
		w.Header().Set("ETag", `"e"`)
	})
	s := newFakeStore(t, f.URL, nil)
	body := []byte(strings.Repeat("b", 5000))
	if _, err := s.PutObject(ctxT(t), "bkt", "k", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{ContentMD5: true}); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 2 || !bytes.Equal(reqs[0].Body, body) || !bytes.Equal(reqs[1].Body, body) {
		t.Fatalf("%d requests; want the lean one and the SDK's, each with the whole body", len(reqs))
	}
}
