package awsstore

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// A gateway that answers an encrypted PUT with 200 and no encryption
// header is asked again with a HEAD; when that shows none either, the
// write fails with ErrEncryptionIgnored and the plaintext is deleted.
func TestWriteThatTheServerDidNotEncryptFailsAndIsDeleted(t *testing.T) {
	for _, tc := range []struct {
		name       string
		headEchoes bool
		wantErr    error
	}{
		{"HEAD shows no encryption", false, s3io.ErrEncryptionIgnored},
		{"HEAD shows the encryption (MinIO on copies)", true, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.Method {
				case http.MethodHead:
					if tc.headEchoes {
						w.Header().Set("X-Amz-Server-Side-Encryption", "AES256")
					}
					writeHeadOK(w, "e", 4)
				case http.MethodPut:
					w.Header().Set("ETag", `"e"`)
				case http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				}
			})
			s := newFakeStore(t, f.URL, nil)
			_, err := s.PutObject(ctxT(t), "bkt", "k", bytes.NewReader([]byte("data")), 4, s3io.WriteOptions{SSE: "AES256"})
			if !errors.Is(err, tc.wantErr) && !(tc.wantErr == nil && err == nil) {
				t.Fatalf("PutObject: err = %v, want %v", err, tc.wantErr)
			}
			var methods []string
			for _, r := range f.requests() {
				methods = append(methods, r.Method)
			}
			want := "PUT HEAD"
			if tc.wantErr != nil {
				want = "PUT HEAD DELETE"
			}
			if got := strings.Join(methods, " "); got != want {
				t.Errorf("requests %q, want %q", got, want)
			}
		})
	}
}

func TestWriteWithoutEncryptionIsNotChecked(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { w.Header().Set("ETag", `"e"`) })
	s := newFakeStore(t, f.URL, nil)
	if _, err := s.PutObject(ctxT(t), "bkt", "k", bytes.NewReader([]byte("data")), 4, s3io.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if n := len(f.requests()); n != 1 {
		t.Fatalf("%d requests for a plain PUT, want 1", n)
	}
}

// Ceph RGW answers a read with the wrong SSE-C key with a bare
// 400 InvalidArgument; it must reach the file system as EACCES, like
// MinIO's AccessDenied, and only when a key was sent.
func TestWrongSSECKeyAsRGWAnswersItIsErrSSECKey(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		writeS3Error(w, r, http.StatusBadRequest, "InvalidArgument")
	})
	s := newFakeStore(t, f.URL, nil)
	key := s3io.SSECustomerKey(bytes.Repeat([]byte{1}, 32))
	p := make([]byte, 10)
	if _, err := s.ReadRange(ctxT(t), "bkt", "k", 0, p, s3io.ReadOptions{SSEC: key}); !errors.Is(err, s3io.ErrSSECKey) {
		t.Errorf("GET with an SSE-C key answered 400 InvalidArgument: err = %v, want ErrSSECKey", err)
	}
	if _, err := s.HeadObject(ctxT(t), "bkt", "k", s3io.ReadOptions{SSEC: key}); !errors.Is(err, s3io.ErrSSECKey) {
		t.Errorf("HEAD with an SSE-C key answered 400: err = %v, want ErrSSECKey", err)
	}
	if _, err := s.ReadRange(ctxT(t), "bkt", "k", 0, p, s3io.ReadOptions{}); errors.Is(err, s3io.ErrSSECKey) || !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Errorf("GET without a key answered 400 InvalidArgument: err = %v, want ErrInvalidArgument", err)
	}
}
