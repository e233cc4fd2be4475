package storetest

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// wantTags fails unless got is a non-nil slice equal to want.
func (e *env) wantTags(what string, got []s3io.Tag, err error, want []s3io.Tag) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
	}
	if got == nil || len(got) != len(want) || (len(want) > 0 && !reflect.DeepEqual(got, want)) {
		e.t.Fatalf("%s = %#v, want %#v (empty, not nil, for none)", what, got, want)
	}
}

// tagsOf makes tags from keys and values in turn.
func tagsOf(kv ...string) []s3io.Tag {
	var tags []s3io.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		tags = append(tags, s3io.Tag{Key: kv[i], Value: kv[i+1]})
	}
	return tags
}

func manyTags(n int) []s3io.Tag {
	tags := make([]s3io.Tag, n)
	for i := range tags {
		tags[i] = s3io.Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"}
	}
	return tags
}

var taggingCases = []testCase{
	{"ObjectTagsAreReplacedAndReadBackSortedByKey", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		tags, err := e.s.GetObjectTagging(e.ctx, e.bucket, "obj")
		e.wantTags("tags of a new object", tags, err, nil)

		e.ok("PutObjectTagging", e.s.PutObjectTagging(e.ctx, e.bucket, "obj", tagsOf("project", "s3mount", "empty", "", "Case", "Sensitive")))
		tags, err = e.s.GetObjectTagging(e.ctx, e.bucket, "obj")
		e.wantTags("tags", tags, err, tagsOf("Case", "Sensitive", "empty", "", "project", "s3mount"))

		e.ok("PutObjectTagging again", e.s.PutObjectTagging(e.ctx, e.bucket, "obj", manyTags(s3io.MaxObjectTags)))
		tags, err = e.s.GetObjectTagging(e.ctx, e.bucket, "obj")
		e.wantTags("tags after a second put", tags, err, manyTags(s3io.MaxObjectTags))

		e.ok("DeleteObjectTagging", e.s.DeleteObjectTagging(e.ctx, e.bucket, "obj"))
		tags, err = e.s.GetObjectTagging(e.ctx, e.bucket, "obj")
		e.wantTags("tags after delete", tags, err, nil)
		if h := e.head("obj"); h.Size != 1 {
			e.t.Fatalf("object after tagging calls: %+v", h)
		}
	}},
	{"ObjectTagSetsBreakingS3LimitsAreInvalid", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		kept := tagsOf("keep", "me")
		e.ok("PutObjectTagging", e.s.PutObjectTagging(e.ctx, e.bucket, "obj", kept))
		for what, tags := range map[string][]s3io.Tag{
			"11 tags":            manyTags(s3io.MaxObjectTags + 1),
			"a 129-char key":     tagsOf(strings.Repeat("k", 129), "v"),
			"a 257-char value":   tagsOf("k", strings.Repeat("v", 257)),
			"an empty key":       tagsOf("", "v"),
			"a key twice":        tagsOf("k", "1", "k", "2"),
			"an aws: prefix key": tagsOf("aws:created", "v"),
		} {
			err := e.s.PutObjectTagging(e.ctx, e.bucket, "obj", tags)
			e.wantErr("PutObjectTagging with "+what, err, s3io.ErrInvalidArgument)
		}
		tags, err := e.s.GetObjectTagging(e.ctx, e.bucket, "obj")
		e.wantTags("tags after refused puts", tags, err, kept)
	}},
	{"TaggingAMissingObjectIsNotFound", func(e *env) {
		_, err := e.s.GetObjectTagging(e.ctx, e.bucket, "missing")
		e.wantErr("GetObjectTagging of a missing key", err, s3io.ErrNotFound)
		err = e.s.PutObjectTagging(e.ctx, e.bucket, "missing", tagsOf("a", "b"))
		e.wantErr("PutObjectTagging of a missing key", err, s3io.ErrNotFound)
	}},
	{"CopyKeepsTagsAndOverwriteDropsThem", func(e *env) {
		e.put("src", []byte("x"), s3io.WriteOptions{})
		tagged := tagsOf("a", "1")
		e.ok("PutObjectTagging", e.s.PutObjectTagging(e.ctx, e.bucket, "src", tagged))
		_, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: "src"}, e.bucket, "dst", s3io.CopyOptions{})
		e.ok("CopyObject", err)
		tags, err := e.s.GetObjectTagging(e.ctx, e.bucket, "dst")
		e.wantTags("tags of the copy", tags, err, tagged)
		e.put("src", []byte("y"), s3io.WriteOptions{})
		tags, err = e.s.GetObjectTagging(e.ctx, e.bucket, "src")
		e.wantTags("tags after an overwrite", tags, err, nil)
	}},
	{"BucketTagsAreReplacedAndDeleted", func(e *env) {
		tags, err := e.s.GetBucketTagging(e.ctx, e.bucket)
		e.wantTags("tags of a new bucket", tags, err, nil)
		want := manyTags(s3io.MaxBucketTags) // buckets take more tags than objects
		e.ok("PutBucketTagging", e.s.PutBucketTagging(e.ctx, e.bucket, want))
		tags, err = e.s.GetBucketTagging(e.ctx, e.bucket)
		e.wantTags("bucket tags", tags, err, want)
		err = e.s.PutBucketTagging(e.ctx, e.bucket, manyTags(s3io.MaxBucketTags+1))
		e.wantErr("PutBucketTagging with 51 tags", err, s3io.ErrInvalidArgument)
		e.ok("DeleteBucketTagging", e.s.DeleteBucketTagging(e.ctx, e.bucket))
		tags, err = e.s.GetBucketTagging(e.ctx, e.bucket)
		e.wantTags("bucket tags after delete", tags, err, nil)
	}},
}
