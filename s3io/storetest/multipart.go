package storetest

import (
	"bytes"
	"reflect"

	"github.com/s3mount/s3mount/s3io"
)

// MiB is S3's unit for part sizes; every part but the last is at least
// 5 MiB.
const MiB = 1 << 20

func (e *env) create(key string, opts s3io.WriteOptions) s3io.Upload {
	e.t.Helper()
	id, err := e.s.CreateMultipartUpload(e.ctx, e.bucket, key, opts)
	if err != nil {
		e.t.Fatalf("CreateMultipartUpload %q: %v", key, err)
	}
	if id == "" {
		e.t.Fatal("CreateMultipartUpload returned an empty upload id")
	}
	return s3io.Upload{Bucket: e.bucket, Key: key, ID: id}
}

func (e *env) uploadPart(up s3io.Upload, n int32, data []byte) s3io.Part {
	e.t.Helper()
	p, err := e.s.UploadPart(e.ctx, up, n, bytes.NewReader(data), int64(len(data)))
	if err != nil {
		e.t.Fatalf("UploadPart %d: %v", n, err)
	}
	if p.Number != n || p.ETag != md5Hex(data) || p.Size != int64(len(data)) {
		e.t.Fatalf("UploadPart %d returned %+v, want ETag %s size %d", n, p, md5Hex(data), len(data))
	}
	return p
}

func (e *env) uploadIDs(prefix string) []string {
	e.t.Helper()
	ups, err := e.s.ListMultipartUploads(e.ctx, e.bucket, prefix)
	if err != nil {
		e.t.Fatalf("ListMultipartUploads: %v", err)
	}
	var ids []string
	for _, u := range ups {
		if u.Bucket != e.bucket {
			e.t.Fatalf("upload %+v from another bucket", u)
		}
		ids = append(ids, u.Key+" "+u.ID)
	}
	return ids
}

var multipartCases = []testCase{
	{"MultipartAssemblesPartsWithTheMultipartETag", func(e *env) {
		p1, p2, p3 := randomBytes(10, 5*MiB), randomBytes(11, 5*MiB), randomBytes(12, 1000)
		up := e.create("big", s3io.WriteOptions{ContentType: "application/x-big", Metadata: map[string]string{"Mode": "33188"}})
		if got := e.uploadIDs(""); !reflect.DeepEqual(got, []string{"big " + up.ID}) {
			e.t.Fatalf("uploads in progress = %q, want the one started", got)
		}
		parts := []s3io.Part{e.uploadPart(up, 1, p1), e.uploadPart(up, 2, p2), e.uploadPart(up, 3, p3)}
		info, err := e.s.CompleteMultipartUpload(e.ctx, up, parts)
		if err != nil {
			e.t.Fatal(err)
		}
		want := multipartETag(p1, p2, p3)
		if info.ETag != want {
			e.t.Fatalf("completed ETag = %q, want %q", info.ETag, want)
		}
		h := e.head("big")
		if h.ETag != want || h.Size != int64(len(p1)+len(p2)+len(p3)) {
			e.t.Fatalf("head = %+v, want ETag %s", h, want)
		}
		if h.Metadata["mode"] != "33188" || h.ContentType != "application/x-big" {
			e.t.Fatalf("metadata from CreateMultipartUpload lost: %+v", h)
		}
		// Read across the boundary of parts 1 and 2.
		p := make([]byte, 200)
		n, err := e.s.ReadRange(e.ctx, e.bucket, "big", 5*MiB-100, p, s3io.ReadOptions{IfMatch: h.ETag})
		if err != nil || n != 200 || !bytes.Equal(p[:100], p1[5*MiB-100:]) || !bytes.Equal(p[100:], p2[:100]) {
			e.t.Fatalf("read across parts: n=%d err=%v", n, err)
		}
		if got := e.uploadIDs(""); len(got) != 0 {
			e.t.Fatalf("completed upload still listed: %q", got)
		}
	}},
	{"MultipartRejectsASmallPartBeforeTheLast", func(e *env) {
		up := e.create("small", s3io.WriteOptions{})
		defer e.s.AbortMultipartUpload(e.ctx, up)
		parts := []s3io.Part{e.uploadPart(up, 1, []byte("tiny")), e.uploadPart(up, 2, []byte("end"))}
		_, err := e.s.CompleteMultipartUpload(e.ctx, up, parts)
		e.wantErr("complete with a 4-byte first part", err, s3io.ErrInvalidArgument)
	}},
	{"MultipartRejectsAPartWithTheWrongETag", func(e *env) {
		up := e.create("wrong", s3io.WriteOptions{})
		defer e.s.AbortMultipartUpload(e.ctx, up)
		p := e.uploadPart(up, 1, []byte("only part"))
		p.ETag = md5Hex([]byte("something else"))
		_, err := e.s.CompleteMultipartUpload(e.ctx, up, []s3io.Part{p})
		e.wantErr("complete with a wrong part ETag", err, s3io.ErrInvalidArgument)
	}},
	{"UploadPartCopyMakesPartsFromRangesOfAnObject", func(e *env) {
		src := randomBytes(20, 6*MiB)
		srcInfo := e.put("src", src, s3io.WriteOptions{})
		up := e.create("assembled", s3io.WriteOptions{})
		tail := []byte("and a tail uploaded normally")
		cp := func(n int32, r s3io.Range) s3io.Part {
			p, err := e.s.UploadPartCopy(e.ctx, up, n, s3io.CopySource{Bucket: e.bucket, Key: "src", IfMatch: srcInfo.ETag}, r)
			if err != nil {
				e.t.Fatalf("UploadPartCopy %d: %v", n, err)
			}
			if p.Number != n || p.ETag == "" {
				e.t.Fatalf("UploadPartCopy %d returned %+v", n, p)
			}
			return p
		}
		parts := []s3io.Part{
			cp(1, s3io.Range{Off: MiB, Len: 5 * MiB}),
			cp(2, s3io.Range{Off: 0, Len: 5 * MiB}),
			e.uploadPart(up, 3, tail),
		}
		if _, err := e.s.CompleteMultipartUpload(e.ctx, up, parts); err != nil {
			e.t.Fatal(err)
		}
		want := append(append(append([]byte{}, src[MiB:]...), src[:5*MiB]...), tail...)
		if got := e.readAll("assembled", int64(len(want))); !bytes.Equal(got, want) {
			e.t.Fatalf("assembled object has %d bytes, differs from the ranges copied", len(got))
		}
	}},
	{"UploadPartCopyChecksTheSourceIfMatch", func(e *env) {
		e.put("src", randomBytes(21, 1000), s3io.WriteOptions{})
		up := e.create("dst", s3io.WriteOptions{})
		defer e.s.AbortMultipartUpload(e.ctx, up)
		_, err := e.s.UploadPartCopy(e.ctx, up, 1, s3io.CopySource{Bucket: e.bucket, Key: "src", IfMatch: md5Hex([]byte("other"))},
			s3io.Range{Off: 0, Len: 1000})
		if err == nil && e.mayLack(CopyIfMatch, "a part copy with a stale If-Match succeeded") {
			return
		}
		e.wantErr("UploadPartCopy with a stale If-Match", err, s3io.ErrPreconditionFailed)
	}},
	{"AbortDiscardsTheUpload", func(e *env) {
		up := e.create("aborted", s3io.WriteOptions{})
		e.uploadPart(up, 1, []byte("part"))
		if err := e.s.AbortMultipartUpload(e.ctx, up); err != nil {
			e.t.Fatal(err)
		}
		if got := e.uploadIDs(""); len(got) != 0 {
			e.t.Fatalf("aborted upload still listed: %q", got)
		}
		_, err := e.s.UploadPart(e.ctx, up, 2, bytes.NewReader([]byte("late")), 4)
		e.wantErr("UploadPart after abort", err, s3io.ErrNotFound)
		_, err = e.s.HeadObject(e.ctx, e.bucket, "aborted", s3io.ReadOptions{})
		e.wantErr("HeadObject of an aborted upload's key", err, s3io.ErrNotFound)
	}},
	{"ListMultipartUploadsFiltersByPrefixInKeyOrder", func(e *env) {
		b := e.create("a/y", s3io.WriteOptions{})
		a := e.create("a/x", s3io.WriteOptions{})
		c := e.create("b/z", s3io.WriteOptions{})
		for _, up := range []s3io.Upload{a, b, c} {
			defer e.s.AbortMultipartUpload(e.ctx, up)
		}
		want := []string{"a/x " + a.ID, "a/y " + b.ID}
		if got := e.uploadIDs("a/"); !reflect.DeepEqual(got, want) {
			e.t.Fatalf("uploads under a/ = %q, want %q", got, want)
		}
		if got := e.uploadIDs(""); len(got) != 3 {
			e.t.Fatalf("all uploads = %q, want 3", got)
		}
	}},
}
