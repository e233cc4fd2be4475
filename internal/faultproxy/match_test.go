package faultproxy

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestMatchersClassifyPathStyleS3Requests(t *testing.T) {
	matchers := []struct {
		name string
		f    func(*http.Request) bool
	}{
		{"UploadPart", IsUploadPart},
		{"PutObject", IsPutObject},
		{"CreateMultipart", IsCreateMultipart},
		{"CompleteMultipart", IsCompleteMultipart},
		{"Get", IsGet},
		{"Copy", IsCopy},
	}
	tests := []struct {
		what, method, target string
		copySource           bool
		want                 []string // names of the matchers that match
	}{
		{"UploadPart", "PUT", "/b/k?partNumber=1&uploadId=u&x-id=UploadPart", false, []string{"UploadPart"}},
		{"UploadPartCopy", "PUT", "/b/k?partNumber=1&uploadId=u", true, []string{"UploadPart", "Copy"}},
		{"PutObject", "PUT", "/b/dir/k?x-id=PutObject", false, []string{"PutObject"}},
		{"PutObject of a directory marker", "PUT", "/b/dir/", false, []string{"PutObject"}},
		{"CopyObject", "PUT", "/b/k?x-id=CopyObject", true, []string{"Copy"}},
		{"CreateBucket", "PUT", "/b", false, nil},
		{"PutObjectTagging", "PUT", "/b/k?tagging", false, nil},
		{"CreateMultipartUpload", "POST", "/b/k?uploads&x-id=CreateMultipartUpload", false, []string{"CreateMultipart"}},
		{"CompleteMultipartUpload", "POST", "/b/k?uploadId=u", false, []string{"CompleteMultipart"}},
		{"GetObject", "GET", "/b/k?x-id=GetObject", false, []string{"Get"}},
		{"GetObject of a nested key", "GET", "/b/a/b/c", false, []string{"Get"}},
		{"ListParts", "GET", "/b/k?uploadId=u", false, nil},
		{"ListObjectsV2", "GET", "/b?list-type=2", false, nil},
		{"ListObjectsV2 with a trailing slash", "GET", "/b/?list-type=2", false, nil},
		{"HeadObject", "HEAD", "/b/k", false, nil},
		{"AbortMultipartUpload", "DELETE", "/b/k?uploadId=u", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.what, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.copySource {
				r.Header.Set("X-Amz-Copy-Source", "/b/src")
			}
			want := map[string]bool{}
			for _, n := range tt.want {
				want[n] = true
			}
			for _, m := range matchers {
				if got := m.f(r); got != want[m.name] {
					t.Errorf("Is%s(%s %s) = %v, want %v", m.name, tt.method, tt.target, got, want[m.name])
				}
			}
		})
	}
}

func TestPartOfBodyStopsInTheMiddle(t *testing.T) {
	tests := []struct{ length, want int64 }{
		{-1, minPartRead}, // unknown length: read a little
		{0, 0},            // nothing to read
		{1, 0},
		{100, 99},           // short bodies: all but the last byte
		{6 << 10, 4 << 10},  // at least minPartRead
		{16 << 10, 8 << 10}, // long bodies: half
		{1 << 20, 512 << 10},
	}
	for _, tt := range tests {
		if got := partOfBody(tt.length); got != tt.want {
			t.Errorf("partOfBody(%d) = %d, want %d", tt.length, got, tt.want)
		}
	}
}

func TestCopyOntoItselfIsToldFromARenamesCopy(t *testing.T) {
	for _, tt := range []struct {
		source, target string
		want           bool
	}{
		{"/b/d/k", "/b/d/k?x-id=CopyObject", true},
		{"b/d/k", "/b/d/k", true},
		{"/b/a%20b", "/b/a%20b", true},
		{"/b/d/k?versionId=v1", "/b/d/k", true},
		{"/b/d/k", "/b/e/k", false},
		{"/b/d/k", "/b/d/k2", false},
	} {
		r := httptest.NewRequest("PUT", tt.target, nil)
		r.Header.Set("X-Amz-Copy-Source", tt.source)
		if got := IsCopyOntoItself(r); got != tt.want {
			t.Errorf("copy of %s to %s: onto itself %v, want %v", tt.source, tt.target, got, tt.want)
		}
	}
	if IsCopyOntoItself(httptest.NewRequest("PUT", "/b/k", nil)) {
		t.Error("a PUT without a copy source is no copy")
	}
}
