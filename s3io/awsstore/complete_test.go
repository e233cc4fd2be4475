package awsstore

import (
	"errors"
	"net/http"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// A CompleteMultipartUpload whose first answer was lost is retried and gets
// NoSuchUpload. If the object is there with these parts' multipart ETag and
// size, the upload did complete: success, not ENOENT. Any other object
// (another writer's, or an older one) keeps the error.
func TestRetriedCompleteThatFindsTheUploadDoneSucceeds(t *testing.T) {
	parts := []s3io.Part{
		{Number: 1, ETag: "0cc175b9c0f1b6a831c399e269772661", Size: 5 << 20},
		{Number: 2, ETag: "92eb5ffee6ae2fec3ad71c777531578f", Size: 3},
	}
	want, _ := multipartETag(parts)
	for _, tc := range []struct {
		name     string
		headETag string
		headSize int
		ok       bool
	}{
		{"the object has these parts' ETag", want, 5<<20 + 3, true},
		{"another object is there", "d41d8cd98f00b204e9800998ecf8427e", 5<<20 + 3, false},
		{"the size differs", want, 7, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
				switch r.Method {
				case http.MethodPost:
					writeS3Error(w, r, http.StatusNotFound, "NoSuchUpload")
				case http.MethodHead:
					writeHeadOK(w, tc.headETag, tc.headSize)
				}
			})
			s := newFakeStore(t, f.URL, nil)
			info, err := s.CompleteMultipartUpload(ctxT(t), s3io.Upload{Bucket: "bkt", Key: "k", ID: "up"}, parts)
			if tc.ok && (err != nil || info.ETag != want) {
				t.Fatalf("Complete = %+v, %v; want success with ETag %s", info, err, want)
			}
			if !tc.ok && !errors.Is(err, s3io.ErrNotFound) {
				t.Fatalf("Complete = %v, want the NoSuchUpload error kept", err)
			}
		})
	}
}
