package storetest

import (
	"reflect"

	"github.com/s3mount/s3mount/s3io"
)

var copyCases = []testCase{
	{"CopyKeepsTheSourceMetadataByDefault", func(e *env) {
		src := e.put("src", []byte("payload"), s3io.WriteOptions{
			ContentType: "text/x-src", Metadata: map[string]string{"mode": "33188"}})
		info, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "src"}, e.bucket, "dst",
			s3io.CopyOptions{WriteOptions: s3io.WriteOptions{Metadata: map[string]string{"ignored": "yes"}}})
		if err != nil {
			e.t.Fatal(err)
		}
		h := e.head("dst")
		if !reflect.DeepEqual(h.Metadata, map[string]string{"mode": "33188"}) || h.ContentType != "text/x-src" {
			e.t.Fatalf("copy has metadata %v, type %q; want the source's", h.Metadata, h.ContentType)
		}
		if info.ETag == "" || info.ETag != h.ETag || h.Size != src.Size {
			e.t.Fatalf("copy returned ETag %q, head says %+v", info.ETag, h)
		}
	}},
	{"CopyWithReplaceMetadataSetsNewMetadata", func(e *env) {
		e.put("src", []byte("payload"), s3io.WriteOptions{Metadata: map[string]string{"mode": "33188", "uid": "0"}})
		_, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "src"}, e.bucket, "dst",
			s3io.CopyOptions{ReplaceMetadata: true, WriteOptions: s3io.WriteOptions{
				ContentType: "application/x-new", Metadata: map[string]string{"Mode": "33261"}}})
		if err != nil {
			e.t.Fatal(err)
		}
		h := e.head("dst")
		if !reflect.DeepEqual(h.Metadata, map[string]string{"mode": "33261"}) || h.ContentType != "application/x-new" {
			e.t.Fatalf("copy has metadata %v, type %q; want only the replacement", h.Metadata, h.ContentType)
		}
		if got := e.readAll("dst", 7); string(got) != "payload" {
			e.t.Fatalf("copy reads %q", got)
		}
	}},
	{"CopyOntoItselfWithReplaceMetadataUpdatesMetadata", func(e *env) {
		e.put("self", []byte("same bytes"), s3io.WriteOptions{Metadata: map[string]string{"mode": "1"}})
		_, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "self"}, e.bucket, "self",
			s3io.CopyOptions{ReplaceMetadata: true, WriteOptions: s3io.WriteOptions{Metadata: map[string]string{"mode": "2"}}})
		if err != nil {
			e.t.Fatal(err)
		}
		if h := e.head("self"); h.Metadata["mode"] != "2" || h.Size != 10 {
			e.t.Fatalf("after chmod-like self copy: %+v", h)
		}
	}},
	{"CopyChecksTheSourceIfMatch", func(e *env) {
		old := e.put("src", []byte("one"), s3io.WriteOptions{})
		e.put("src", []byte("two"), s3io.WriteOptions{})
		_, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "src", IfMatch: old.ETag}, e.bucket, "dst", s3io.CopyOptions{})
		if err == nil && e.mayLack(CopyIfMatch, "a copy with a stale If-Match succeeded") {
			return
		}
		e.wantErr("copy with a stale If-Match", err, s3io.ErrPreconditionFailed)
		_, err = e.s.HeadObject(e.ctx, e.bucket, "dst", s3io.ReadOptions{})
		e.wantErr("destination of a refused copy", err, s3io.ErrNotFound)
	}},
	{"CopyOfMissingSourceIsNotFound", func(e *env) {
		_, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "nope"}, e.bucket, "dst", s3io.CopyOptions{})
		e.wantErr("copy of a missing source", err, s3io.ErrNotFound)
	}},
}
