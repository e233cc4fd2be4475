package awsstore

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

func TestEndpointBasePathIsKeptInPathStyleURLs(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodHead:
			writeHeadOK(w, "abc", 3)
		case r.URL.Query().Get("list-type") == "2":
			w.Write([]byte(`<ListBucketResult><Name>bkt</Name><IsTruncated>false</IsTruncated></ListBucketResult>`))
		default:
			w.Header().Set("ETag", `"abc"`)
		}
	})
	s := newFakeStore(t, f.URL+"/api/v1/s3", nil)
	ctx := ctxT(t)
	if _, err := s.HeadObject(ctx, "bkt", "dir/a b+c.txt", s3io.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, s3io.ListRequest{Bucket: "bkt", Prefix: "dir/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "bkt", "k", bytes.NewReader([]byte("abc")), 3, s3io.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range f.requests() {
		got = append(got, r.Method+" "+r.Path)
	}
	want := []string{
		"HEAD /api/v1/s3/bkt/dir/a%20b%2Bc.txt",
		"GET /api/v1/s3/bkt",
		"PUT /api/v1/s3/bkt/k",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("request paths:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestEndpointWithoutSchemeIsRejected(t *testing.T) {
	isolateAWSEnv(t)
	for _, ep := range []string{"minio:9000", "ftp://host/", "http://", "http://host/?x=1"} {
		_, err := New(ctxT(t), Config{Endpoint: ep, AccessKeyID: "a", SecretAccessKey: "b"})
		if !errors.Is(err, s3io.ErrInvalidArgument) {
			t.Errorf("endpoint %q: err = %v, want ErrInvalidArgument", ep, err)
		}
	}
}

// checksumHeaders are the SDK's newer integrity headers that many
// S3-compatible servers reject.
func checksumHeaders(h http.Header) []string {
	var found []string
	for name := range h {
		n := strings.ToLower(name)
		if strings.HasPrefix(n, "x-amz-checksum-") || n == "x-amz-sdk-checksum-algorithm" || n == "x-amz-trailer" {
			found = append(found, name)
		}
	}
	return found
}

func TestWritesSendNoChecksumHeadersAndContentMD5OnlyWhenAsked(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"abc"`)
	})
	s := newFakeStore(t, f.URL, nil)
	body := []byte("some body to upload")
	ctx := ctxT(t)
	if _, err := s.PutObject(ctx, "bkt", "plain", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "bkt", "md5", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{ContentMD5: true}); err != nil {
		t.Fatal(err)
	}
	up := s3io.Upload{Bucket: "bkt", Key: "mp", ID: "id"}
	if _, err := s.UploadPart(ctx, up, 1, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	up.ContentMD5 = true
	if _, err := s.UploadPart(ctx, up, 2, bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatal(err)
	}
	reqs := f.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests, want 4", len(reqs))
	}
	sum := md5.Sum(body)
	wantMD5 := base64.StdEncoding.EncodeToString(sum[:])
	sha := sha256.Sum256(body)
	for i, r := range reqs {
		if h := checksumHeaders(r.Header); len(h) != 0 {
			t.Errorf("request %d sends checksum headers %v", i, h)
		}
		if !bytes.Equal(r.Body, body) {
			t.Errorf("request %d body = %q (aws-chunked?), want the plain body", i, r.Body)
		}
		// Over plain HTTP the payload is signed, unless Content-MD5
		// protects it (see doc.go).
		want := hex.EncodeToString(sha[:])
		if r.Header.Get("Content-MD5") != "" {
			want = "UNSIGNED-PAYLOAD"
		}
		if got := r.Header.Get("X-Amz-Content-Sha256"); got != want {
			t.Errorf("request %d X-Amz-Content-Sha256 = %q, want %q", i, got, want)
		}
	}
	if got := reqs[0].Header.Get("Content-MD5"); got != "" {
		t.Errorf("plain put sends Content-MD5 %q", got)
	}
	if got := reqs[1].Header.Get("Content-MD5"); got != wantMD5 {
		t.Errorf("put with ContentMD5 sends Content-MD5 %q, want %q", got, wantMD5)
	}
	if got := reqs[2].Header.Get("Content-MD5"); got != "" {
		t.Errorf("plain part sends Content-MD5 %q", got)
	}
	if got := reqs[3].Header.Get("Content-MD5"); got != wantMD5 {
		t.Errorf("part with ContentMD5 sends Content-MD5 %q, want %q", got, wantMD5)
	}
}

func TestListDecodesURLEncodedKeysOnlyWhenTheServerEncoded(t *testing.T) {
	encoded := true
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("encoding-type") != "url" {
			t.Errorf("listing without encoding-type=url: %s", r.URL.RawQuery)
		}
		enc := ""
		if encoded {
			enc = "<EncodingType>url</EncodingType>"
		}
		w.Write([]byte(`<ListBucketResult>` + enc + `<IsTruncated>false</IsTruncated>
<Contents><Key>a+b%2Bc%01d</Key><Size>1</Size></Contents>
<CommonPrefixes><Prefix>dir%20x/</Prefix></CommonPrefixes></ListBucketResult>`))
	})
	s := newFakeStore(t, f.URL, nil)
	page, err := s.List(ctxT(t), s3io.ListRequest{Bucket: "bkt", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Objects[0].Key != "a b+c\x01d" || page.CommonPrefixes[0] != "dir x/" {
		t.Fatalf("decoded listing = %q, %q", page.Objects[0].Key, page.CommonPrefixes)
	}
	encoded = false
	page, err = s.List(ctxT(t), s3io.ListRequest{Bucket: "bkt", Delimiter: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if page.Objects[0].Key != "a+b%2Bc%01d" || page.CommonPrefixes[0] != "dir%20x/" {
		t.Fatalf("a gateway that ignores encoding-type: keys must stay as sent, got %q, %q", page.Objects[0].Key, page.CommonPrefixes)
	}
}

func TestListToleratesObjectsWithoutETagOrLastModified(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<ListBucketResult><IsTruncated>false</IsTruncated>
<Contents><Key>bare</Key><Size>7</Size></Contents></ListBucketResult>`))
	})
	s := newFakeStore(t, f.URL, nil)
	page, err := s.List(ctxT(t), s3io.ListRequest{Bucket: "bkt"})
	if err != nil {
		t.Fatal(err)
	}
	o := page.Objects[0]
	if o.Key != "bare" || o.Size != 7 || o.ETag != "" || !o.ModTime.IsZero() {
		t.Fatalf("object = %+v, want key, size and nothing else", o)
	}
}

func TestListRefusesATruncatedPageWithoutToken(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<ListBucketResult><IsTruncated>true</IsTruncated><Contents><Key>k</Key></Contents></ListBucketResult>`))
	})
	s := newFakeStore(t, f.URL, nil)
	_, err := s.List(ctxT(t), s3io.ListRequest{Bucket: "bkt"})
	if !errors.Is(err, s3io.ErrServer) {
		t.Fatalf("err = %v, want ErrServer (a client paging on would loop forever)", err)
	}
}

func TestCompleteWithoutETagReadsTheETagBack(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead:
			writeHeadOK(w, "0123456789abcdef-2", 42)
		case http.MethodPost:
			w.Write([]byte(`<CompleteMultipartUploadResult><Bucket>bkt</Bucket><Key>k</Key></CompleteMultipartUploadResult>`))
		}
	})
	s := newFakeStore(t, f.URL, nil)
	info, err := s.CompleteMultipartUpload(ctxT(t), s3io.Upload{Bucket: "bkt", Key: "k", ID: "up"},
		[]s3io.Part{{Number: 1, ETag: "aa", Size: 40}, {Number: 2, ETag: "bb", Size: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if info.ETag != "0123456789abcdef-2" || info.Size != 42 {
		t.Fatalf("info = %+v, want the ETag and size from HeadObject", info)
	}
	reqs := f.requests()
	if len(reqs) != 2 || reqs[1].Method != http.MethodHead {
		t.Fatalf("requests = %+v, want the complete then a HEAD", reqs)
	}
	var doc struct {
		Parts []struct{ ETag string } `xml:"Part"`
	}
	if err := xml.Unmarshal(reqs[0].Body, &doc); err != nil || len(doc.Parts) != 2 || doc.Parts[0].ETag != `"aa"` {
		t.Fatalf("complete body %s: part ETags must be sent quoted", reqs[0].Body)
	}
}

func TestCopySourceEscapesEveryReservedByte(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`<CopyObjectResult><ETag>"e"</ETag></CopyObjectResult>`))
	})
	s := newFakeStore(t, f.URL, nil)
	_, err := s.CopyObject(ctxT(t), s3io.CopySource{Bucket: "src", Key: "a b/c+d?é"}, "dst", "k", s3io.CopyOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := f.requests()[0].Header.Get("X-Amz-Copy-Source"); got != "src/a%20b/c%2Bd%3F%C3%A9" {
		t.Fatalf("x-amz-copy-source = %q", got)
	}
}
