package awsstore

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// Listing answers as servers give them: MinIO's with metadata, URL-encoded
// hostile keys and prefixes; S3's plain one, truncated; a gateway's that
// ignores encoding-type and leaves out ETags and dates.
var listAnswers = map[string]string{
	"minio": `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>dir%2F</Prefix><KeyCount>4</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>` +
		`<Contents><Key>dir%2F</Key><LastModified>2024-05-06T07:08:09.123Z</LastModified><ETag>&#34;d41d8cd98f00b204e9800998ecf8427e&#34;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass><UserMetadata><X-Amz-Meta-Mode>16877</X-Amz-Meta-Mode><content-type>application/x-directory</content-type></UserMetadata></Contents>` +
		`<Contents><Key>dir%2Fa+b%2Bc%C3%BC%01</Key><LastModified>2024-05-06T07:08:09.999Z</LastModified><ETag>&#34;0123456789abcdef0123456789abcdef-3&#34;</ETag><Size>123456789012</Size><StorageClass>STANDARD_IA</StorageClass><UserMetadata><X-Amz-Meta-Mode>41471</X-Amz-Meta-Mode><X-Amz-Meta-Mixed-Case>v w</X-Amz-Meta-Mixed-Case><content-type>text/plain</content-type><X-Amz-Server-Side-Encryption>aws:kms</X-Amz-Server-Side-Encryption><X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id>key-1</X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id></UserMetadata></Contents>` +
		`<Contents><Key>dir%2Fplain</Key><LastModified>2024-05-06T07:08:09Z</LastModified><ETag>&#34;e&#34;</ETag><Size>5</Size><StorageClass>STANDARD</StorageClass><UserMetadata></UserMetadata></Contents>` +
		`<CommonPrefixes><Prefix>dir%2Fsub+dir%2F</Prefix></CommonPrefixes><CommonPrefixes><Prefix>dir%2F%E2%9C%93%2F</Prefix></CommonPrefixes></ListBucketResult>`,
	"s3 truncated": `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bkt</Name>
  <Prefix></Prefix>
  <NextContinuationToken>1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=</NextContinuationToken>
  <KeyCount>2</KeyCount>
  <MaxKeys>2</MaxKeys>
  <EncodingType>url</EncodingType>
  <IsTruncated>true</IsTruncated>
  <Contents>
    <Key>a</Key>
    <LastModified>2009-10-12T17:50:30.000Z</LastModified>
    <ETag>"fba9dede5f27731c9771645a39863328"</ETag>
    <Size>434234</Size>
    <StorageClass>GLACIER</StorageClass>
  </Contents>
  <Contents>
    <Key>b%20c</Key>
    <LastModified>2009-10-12T17:50:31.000Z</LastModified>
    <ETag>"e"</ETag>
    <Size>1</Size>
  </Contents>
</ListBucketResult>`,
	"gateway": `<ListBucketResult><IsTruncated>false</IsTruncated>` +
		`<Contents><Key>a+b%20c</Key><Size>3</Size></Contents><Contents><Key>x</Key><ETag></ETag></Contents>` +
		`<CommonPrefixes><Prefix>d%2F/</Prefix></CommonPrefixes></ListBucketResult>`,
}

// A lean listing sends the query the SDK sends and makes the same page of
// the same answer: keys decoded only when the answer says they were
// encoded, metadata where it came, ETags unquoted, dates to the second.
func TestLeanListAnswersAsTheSDKDoes(t *testing.T) {
	reqs := []s3io.ListRequest{
		{Bucket: "bkt", Prefix: "dir/", Delimiter: "/", WithMetadata: true},
		{Bucket: "bkt", Prefix: "a b+c/ü~*'()!&=?#", Delimiter: "/", MaxKeys: 1, WithMetadata: true},
		{Bucket: "bkt", StartAfter: "x y", ContinuationToken: "1ueGcxLPRx1Tr/XYExHnhbYLgveDs2J/wm36Hy4vbOwM=", MaxKeys: 2},
		{Bucket: "bkt"},
	}
	for name, body := range listAnswers {
		answer := func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte(body))
		}
		sdkSrv, leanSrv := newFakeS3(t, answer), newFakeS3(t, answer)
		sdk := newFakeStore(t, sdkSrv.URL+"/api/v1/s3", nil)
		sdk.lean = nil
		lean := newFakeStore(t, leanSrv.URL+"/api/v1/s3", nil)
		for _, req := range reqs {
			want, err := sdk.List(ctxT(t), req)
			if err != nil {
				t.Fatalf("%s: SDK: %v", name, err)
			}
			got, err := lean.List(ctxT(t), req)
			if err != nil {
				t.Fatalf("%s: lean: %v", name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, %+v:\n lean %+v\n  SDK %+v", name, req, got, want)
			}
		}
		a, b := sdkSrv.requests(), leanSrv.requests()
		if len(a) != len(b) {
			t.Fatalf("%s: the SDK sent %d requests, the lean path %d", name, len(a), len(b))
		}
		for i := range a {
			if a[i].Method != b[i].Method || a[i].Path != b[i].Path || a[i].RawQuery != b[i].RawQuery {
				t.Errorf("%s: SDK %s %s?%s, lean %s %s?%s", name, a[i].Method, a[i].Path, a[i].RawQuery,
					b[i].Method, b[i].Path, b[i].RawQuery)
			}
			for _, h := range []string{"X-Amz-Content-Sha256", "Accept-Encoding"} {
				if a[i].Header.Get(h) != b[i].Header.Get(h) {
					t.Errorf("%s: %s is %q from the SDK, %q lean", name, h, a[i].Header.Get(h), b[i].Header.Get(h))
				}
			}
		}
	}
}

// A lean listing that the server refuses, or whose answer cannot be read,
// is sent again through the SDK, whose error it then is.
func TestALeanListingThatFailsIsSentThroughTheSDK(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer http.HandlerFunc
	}{
		{"NoSuchBucket", func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, http.StatusNotFound, "NoSuchBucket") }},
		{"AccessDenied", func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, http.StatusForbidden, "AccessDenied") }},
		{"not XML", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("<html>proxy error")) }},
		{"bad size", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<ListBucketResult><Contents><Key>a</Key><Size>big</Size></Contents></ListBucketResult>`))
		}},
		{"empty date", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<ListBucketResult><Contents><Key>a</Key><LastModified></LastModified></Contents></ListBucketResult>`))
		}},
		{"empty flag", func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`<ListBucketResult><IsTruncated></IsTruncated></ListBucketResult>`))
		}},
	} {
		sdkSrv, leanSrv := newFakeS3(t, tc.answer), newFakeS3(t, tc.answer)
		sdk := newFakeStore(t, sdkSrv.URL, func(c *Config) { c.MaxAttempts = 1 })
		sdk.lean = nil
		lean := newFakeStore(t, leanSrv.URL, func(c *Config) { c.MaxAttempts = 1 })
		req := s3io.ListRequest{Bucket: "bkt", Prefix: "p/", Delimiter: "/"}
		_, want := sdk.List(ctxT(t), req)
		_, got := lean.List(ctxT(t), req)
		if want == nil || got == nil || got.Error() != want.Error() {
			t.Errorf("%s: lean %v, SDK %v", tc.name, got, want)
		}
		if n := len(leanSrv.requests()); n != 2 {
			t.Errorf("%s: %d requests, want the lean one and the SDK's", tc.name, n)
		}
	}
}
