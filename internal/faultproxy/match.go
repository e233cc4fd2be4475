package faultproxy

import (
	"net/http"
	"net/url"
	"strings"
)

// The helpers below classify path-style S3 requests for Rule.Match. They
// look only at the method, path, query and headers, never at the body.

// objectSubresources are query parameters that turn a request on an object
// into a request on something else about it (its ACL, its tags, the parts
// of an upload, …).
var objectSubresources = []string{
	"acl", "attributes", "legal-hold", "restore", "retention", "select",
	"tagging", "torrent", "uploadId", "uploads",
}

// IsUploadPart reports whether r is an UploadPart: a PUT with partNumber
// and uploadId query parameters. UploadPartCopy has them too (and an
// x-amz-copy-source header); combine with IsCopy to tell the two apart.
func IsUploadPart(r *http.Request) bool {
	q := r.URL.Query()
	return r.Method == http.MethodPut && q.Has("partNumber") && q.Has("uploadId")
}

// IsPutObject reports whether r is a PutObject: a PUT on an object, not
// part of a multipart upload, not a copy, not on a subresource such as
// ?tagging.
func IsPutObject(r *http.Request) bool {
	return r.Method == http.MethodPut && hasKey(r) && !isCopy(r) &&
		!r.URL.Query().Has("partNumber") && !onSubresource(r)
}

// IsCreateMultipart reports whether r is a CreateMultipartUpload: a POST
// with the uploads query parameter.
func IsCreateMultipart(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploads")
}

// IsCompleteMultipart reports whether r is a CompleteMultipartUpload: a
// POST with an uploadId query parameter.
func IsCompleteMultipart(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Query().Has("uploadId")
}

// IsGet reports whether r is a GetObject: a GET on an object, not on a
// subresource (so ListParts, GET ?uploadId=, is not one).
func IsGet(r *http.Request) bool {
	return r.Method == http.MethodGet && hasKey(r) && !onSubresource(r)
}

// IsCopy reports whether r is a CopyObject or UploadPartCopy: a PUT with an
// x-amz-copy-source header.
func IsCopy(r *http.Request) bool {
	return r.Method == http.MethodPut && isCopy(r)
}

// IsCopyOntoItself matches a CopyObject whose source is its destination:
// a change of the object's metadata, not a rename's copy.
func IsCopyOntoItself(r *http.Request) bool {
	if !IsCopy(r) {
		return false
	}
	src, _, _ := strings.Cut(r.Header.Get("X-Amz-Copy-Source"), "?")
	if unescaped, err := url.PathUnescape(src); err == nil {
		src = unescaped
	}
	return strings.TrimPrefix(src, "/") == strings.TrimPrefix(r.URL.Path, "/")
}

func isCopy(r *http.Request) bool {
	return r.Header.Get("X-Amz-Copy-Source") != ""
}

// hasKey reports whether the path-style path names an object, that is
// "/bucket/key" with a key of at least one byte.
func hasKey(r *http.Request) bool {
	p := strings.TrimPrefix(r.URL.Path, "/")
	i := strings.IndexByte(p, '/')
	return i > 0 && i < len(p)-1
}

func onSubresource(r *http.Request) bool {
	q := r.URL.Query()
	for _, s := range objectSubresources {
		if q.Has(s) {
			return true
		}
	}
	return false
}
