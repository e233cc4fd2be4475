package awsstore

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// The CPU and allocations a request costs the daemon on top of the
// network: a ranged GET of 16 KiB and a PUT of 16 KiB against a server
// that answers at once.
func BenchmarkRequestCost(b *testing.B) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 1024)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"0123456789abcdef0123456789abcdef"`)
		if r.URL.Query().Get("list-type") == "2" {
			w.Header().Set("Content-Type", "application/xml")
			w.Write([]byte(oneKeyListing))
			return
		}
		if r.Method == http.MethodHead {
			w.Header().Set("Content-Length", "16384")
			w.Header().Set("Last-Modified", "Mon, 02 Jan 2006 15:04:05 GMT")
			w.Header().Set("X-Amz-Meta-Mode", "33188")
			w.Header().Set("X-Amz-Meta-Mtime", "1136214245")
			return
		}
		if r.Method == http.MethodGet {
			w.Header().Set("Content-Range", "bytes 0-16383/16384")
			w.WriteHeader(http.StatusPartialContent)
			w.Write(body)
			return
		}
		r.Body.Close()
	}))
	defer srv.Close()
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	s, err := New(context.Background(), Config{Endpoint: srv.URL, ForcePathStyle: true,
		AccessKeyID: fakeAccessKey, SecretAccessKey: fakeSecret})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := make([]byte, len(body))
	b.Run("GET", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.ReadRange(ctx, "bkt", "dir/key", 0, p, s3io.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HEAD", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.HeadObject(ctx, "bkt", "dir/key", s3io.ReadOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("LIST one key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.List(ctx, s3io.ListRequest{Bucket: "bkt", Prefix: "dir/key/", Delimiter: "/", MaxKeys: 1, WithMetadata: true}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("PUT", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.PutObject(ctx, "bkt", "dir/key", bytes.NewReader(body), int64(len(body)), s3io.WriteOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// oneKeyListing is what a lookup's one-key listing of a directory's
// marker gets back from MinIO (metadata=true).
const oneKeyListing = `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>dir/key/</Prefix><KeyCount>1</KeyCount><MaxKeys>1</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType><Contents><Key>dir/key/</Key><LastModified>2006-01-02T15:04:05.000Z</LastModified><ETag>&#34;d41d8cd98f00b204e9800998ecf8427e&#34;</ETag><Size>0</Size><StorageClass>STANDARD</StorageClass><UserMetadata><X-Amz-Meta-Mode>16877</X-Amz-Meta-Mode><content-type>application/x-directory</content-type></UserMetadata></Contents></ListBucketResult>`

// BenchmarkListPageCost is one page of 1,000 keys with MinIO's metadata,
// through the SDK and lean.
func BenchmarkListPageCost(b *testing.B) {
	var page strings.Builder
	page.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bkt</Name><Prefix>small%2F</Prefix><KeyCount>1000</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>%2F</Delimiter><IsTruncated>false</IsTruncated><EncodingType>url</EncodingType>`)
	for i := 0; i < 1000; i++ {
		fmt.Fprintf(&page, `<Contents><Key>small%%2Ff%05d</Key><LastModified>2026-12-01T10:31:00.123Z</LastModified><ETag>&#34;0123456789abcdef0123456789abcdef&#34;</ETag><Size>16384</Size><Owner><ID>02d6176db174dc93cb1b899f7c6078f08654445fe8cf1b6ce98d8855f66bdbf4</ID><DisplayName>minio</DisplayName></Owner><StorageClass>STANDARD</StorageClass><UserMetadata><X-Amz-Meta-Mode>33188</X-Amz-Meta-Mode><X-Amz-Meta-Mtime>1764585060</X-Amz-Meta-Mtime><content-type>application/octet-stream</content-type></UserMetadata></Contents>`, i)
	}
	page.WriteString(`</ListBucketResult>`)
	body := page.String()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Write([]byte(body))
	}))
	defer srv.Close()
	b.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	b.Setenv("AWS_CONFIG_FILE", "/dev/null")
	b.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	for _, lean := range []bool{false, true} {
		s, err := New(context.Background(), Config{Endpoint: srv.URL, ForcePathStyle: true,
			AccessKeyID: fakeAccessKey, SecretAccessKey: fakeSecret})
		if err != nil {
			b.Fatal(err)
		}
		name := "SDK"
		if lean {
			name = "lean"
		} else {
			s.lean = nil
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.List(context.Background(), s3io.ListRequest{Bucket: "bkt", Prefix: "small/", Delimiter: "/", WithMetadata: true})
				if err != nil || len(p.Objects) != 1000 || !p.Objects[0].HasMetadata {
					b.Fatal(len(p.Objects), err)
				}
			}
		})
	}
}
