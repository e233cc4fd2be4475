package storetest

import (
	"bytes"
	"fmt"
	"reflect"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

var objectCases = []testCase{
	{"PutReturnsTheBodyMD5AsETag", func(e *env) {
		data := randomBytes(1, 1000)
		info := e.put("obj", data, s3io.WriteOptions{})
		if info.ETag != md5Hex(data) {
			e.t.Fatalf("ETag = %q, want the hex MD5 %q without quotes", info.ETag, md5Hex(data))
		}
		if info.Key != "obj" || info.Size != 1000 {
			e.t.Fatalf("PutObject info = %+v, want key obj and size 1000", info)
		}
	}},
	{"HeadReturnsSizeETagTypeAndLowerCasedMetadata", func(e *env) {
		data := []byte("hello, world")
		e.put("dir/file.txt", data, s3io.WriteOptions{
			ContentType: "text/plain",
			Metadata:    map[string]string{"Mtime": "1700000000", "mode": "33188"},
		})
		before := time.Now()
		info := e.head("dir/file.txt")
		want := map[string]string{"mtime": "1700000000", "mode": "33188"}
		if !reflect.DeepEqual(info.Metadata, want) || !info.HasMetadata {
			e.t.Fatalf("Metadata = %v (HasMetadata %v), want %v", info.Metadata, info.HasMetadata, want)
		}
		if info.Size != int64(len(data)) || info.ETag != md5Hex(data) || info.ContentType != "text/plain" || info.Key != "dir/file.txt" {
			e.t.Fatalf("HeadObject = %+v", info)
		}
		if d := before.Sub(info.ModTime); info.ModTime.IsZero() || d > time.Hour || d < -time.Hour {
			e.t.Fatalf("ModTime = %v, want about %v", info.ModTime, before)
		}
	}},
	{"PutWithContentMD5IsAccepted", func(e *env) {
		data := randomBytes(2, 4096)
		info := e.put("md5", data, s3io.WriteOptions{ContentMD5: true})
		if info.ETag != md5Hex(data) {
			e.t.Fatalf("ETag = %q, want %q", info.ETag, md5Hex(data))
		}
		if got := e.readAll("md5", 4096); !bytes.Equal(got, data) {
			e.t.Fatal("body differs after a put with Content-MD5")
		}
	}},
	{"PutIfNoneMatchRefusesToOverwrite", func(e *env) {
		e.put("once", []byte("first"), s3io.WriteOptions{IfNoneMatch: "*"})
		_, err := e.s.PutObject(e.ctx, e.bucket, "once", bytes.NewReader([]byte("second")), 6, s3io.WriteOptions{IfNoneMatch: "*"})
		e.wantErr("second put with If-None-Match: *", err, s3io.ErrPreconditionFailed)
		if got := e.readAll("once", 5); string(got) != "first" {
			e.t.Fatalf("object = %q, want the first body kept", got)
		}
	}},
	{"OverwriteChangesETagAndBody", func(e *env) {
		a := e.put("k", []byte("version one"), s3io.WriteOptions{})
		b := e.put("k", []byte("version two!"), s3io.WriteOptions{})
		if a.ETag == b.ETag {
			e.t.Fatal("two different bodies got the same ETag")
		}
		if h := e.head("k"); h.ETag != b.ETag || h.Size != 12 {
			e.t.Fatalf("head after overwrite = %+v, want ETag %s size 12", h, b.ETag)
		}
	}},
	{"HeadOfMissingKeyIsNotFound", func(e *env) {
		_, err := e.s.HeadObject(e.ctx, e.bucket, "no/such/key", s3io.ReadOptions{})
		e.wantErr("HeadObject of a missing key", err, s3io.ErrNotFound)
	}},
	{"DeleteRemovesAndDeletingMissingKeyIsNotAnError", func(e *env) {
		e.put("gone", []byte("x"), s3io.WriteOptions{})
		if err := e.s.DeleteObject(e.ctx, e.bucket, "gone"); err != nil {
			e.t.Fatal(err)
		}
		_, err := e.s.HeadObject(e.ctx, e.bucket, "gone", s3io.ReadOptions{})
		e.wantErr("HeadObject after delete", err, s3io.ErrNotFound)
		if err := e.s.DeleteObject(e.ctx, e.bucket, "gone"); err != nil {
			e.t.Fatalf("deleting a missing key: %v, want nil", err)
		}
	}},
	{"BucketIsListedAndHeadable", func(e *env) {
		if err := e.s.HeadBucket(e.ctx, e.bucket); err != nil {
			e.t.Fatalf("HeadBucket: %v", err)
		}
		buckets, err := e.s.ListBuckets(e.ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		for _, b := range buckets {
			if b.Name == e.bucket {
				return
			}
		}
		e.t.Fatalf("ListBuckets = %v, want %s among them", buckets, e.bucket)
	}},
	{"MissingBucketIsBucketNotFound", func(e *env) {
		missing := fmt.Sprintf("s3mount-missing-%d", time.Now().UnixNano())
		e.wantErr("HeadBucket", e.s.HeadBucket(e.ctx, missing), s3io.ErrBucketNotFound)
		_, err := e.s.List(e.ctx, s3io.ListRequest{Bucket: missing})
		e.wantErr("List", err, s3io.ErrBucketNotFound)
		_, err = e.s.ReadRange(e.ctx, missing, "k", 0, make([]byte, 4), s3io.ReadOptions{})
		e.wantErr("ReadRange", err, s3io.ErrBucketNotFound)
		_, err = e.s.PutObject(e.ctx, missing, "k", bytes.NewReader([]byte("x")), 1, s3io.WriteOptions{})
		e.wantErr("PutObject", err, s3io.ErrBucketNotFound)
		e.wantErr("DeleteObject", e.s.DeleteObject(e.ctx, missing, "k"), s3io.ErrBucketNotFound)
	}},
}

var readCases = []testCase{
	{"ReadRangeReadsAnyRangeAndShortAtTheEnd", func(e *env) {
		data := randomBytes(3, 10000)
		e.put("r", data, s3io.WriteOptions{})
		for _, tc := range []struct {
			off    int64
			buf    int
			wantN  int
			reason string
		}{
			{0, 10000, 10000, "whole object"},
			{1234, 100, 100, "middle"},
			{9990, 100, 10, "crossing the end: short read, no error"},
			{10000, 100, 0, "at the end"},
			{20000, 100, 0, "past the end"},
			{5, 0, 0, "empty buffer"},
		} {
			p := make([]byte, tc.buf)
			n, err := e.s.ReadRange(e.ctx, e.bucket, "r", tc.off, p, s3io.ReadOptions{})
			if err != nil || n != tc.wantN {
				e.t.Fatalf("%s: ReadRange(off %d, len %d) = %d, %v; want %d, nil", tc.reason, tc.off, tc.buf, n, err, tc.wantN)
			}
			if n > 0 && !bytes.Equal(p[:n], data[tc.off:tc.off+int64(n)]) {
				e.t.Fatalf("%s: wrong bytes", tc.reason)
			}
		}
	}},
	{"ReadRangeOfEmptyObjectReturnsNothing", func(e *env) {
		e.put("empty", nil, s3io.WriteOptions{})
		n, err := e.s.ReadRange(e.ctx, e.bucket, "empty", 0, make([]byte, 10), s3io.ReadOptions{})
		if n != 0 || err != nil {
			e.t.Fatalf("ReadRange of an empty object = %d, %v; want 0, nil", n, err)
		}
		if h := e.head("empty"); h.Size != 0 || h.ETag != md5Hex(nil) {
			e.t.Fatalf("head of empty object = %+v", h)
		}
	}},
	{"ReadRangeIfMatchPinsTheVersion", func(e *env) {
		old := e.put("v", []byte("old body"), s3io.WriteOptions{})
		p := make([]byte, 3)
		n, err := e.s.ReadRange(e.ctx, e.bucket, "v", 4, p, s3io.ReadOptions{IfMatch: old.ETag})
		if err != nil || string(p[:n]) != "bod" {
			e.t.Fatalf("ReadRange with the right If-Match = %q, %v", p[:n], err)
		}
		e.put("v", []byte("new body"), s3io.WriteOptions{})
		_, err = e.s.ReadRange(e.ctx, e.bucket, "v", 4, p, s3io.ReadOptions{IfMatch: old.ETag})
		e.wantErr("ReadRange with the old ETag after an overwrite", err, s3io.ErrPreconditionFailed)
		_, err = e.s.HeadObject(e.ctx, e.bucket, "v", s3io.ReadOptions{IfMatch: old.ETag})
		e.wantErr("HeadObject with the old ETag", err, s3io.ErrPreconditionFailed)
	}},
	{"ReadRangeTellsFilledOnlyOfBytesIn", func(e *env) {
		data := randomBytes(4, 300000)
		e.put("f", data, s3io.WriteOptions{})
		p := make([]byte, 200000)
		last := 0
		filled := func(n int) {
			if n < last || n > len(p) || !bytes.Equal(p[:n], data[1000:1000+n]) {
				e.t.Errorf("Filled(%d) after Filled(%d): counts must grow and cover bytes in", n, last)
			}
			last = n
		}
		n, err := e.s.ReadRange(e.ctx, e.bucket, "f", 1000, p, s3io.ReadOptions{Filled: filled})
		if err != nil || n != len(p) || !bytes.Equal(p, data[1000:1000+len(p)]) {
			e.t.Fatalf("ReadRange with Filled = %d, %v, or wrong bytes", n, err)
		}
		if last > n {
			e.t.Fatalf("Filled told %d bytes of %d", last, n)
		}
	}},
	{"ReadRangeOfMissingKeyIsNotFound", func(e *env) {
		_, err := e.s.ReadRange(e.ctx, e.bucket, "missing", 0, make([]byte, 10), s3io.ReadOptions{})
		e.wantErr("ReadRange of a missing key", err, s3io.ErrNotFound)
	}},
}
