package s3io

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckTagsNamesTheRuleBroken(t *testing.T) {
	ok := []Tag{{Key: "a", Value: ""}, {Key: strings.Repeat("é", MaxTagKeyLength), Value: strings.Repeat("v", MaxTagValueLength)}}
	if err := CheckTags(ok, 2); err != nil {
		t.Fatalf("CheckTags of a valid set: %v", err)
	}
	for _, tc := range []struct {
		tags []Tag
		want string
	}{
		{[]Tag{{Key: "a"}, {Key: "b"}, {Key: "c"}}, "3 tags, at most 2"},
		{[]Tag{{Key: ""}}, "empty tag key"},
		{[]Tag{{Key: strings.Repeat("k", MaxTagKeyLength+1)}}, "longer than 128 characters"},
		{[]Tag{{Key: "k", Value: strings.Repeat("v", MaxTagValueLength+1)}}, "longer than 256 characters"},
		{[]Tag{{Key: "k"}, {Key: "k"}}, `"k" given twice`},
		{[]Tag{{Key: "AWS:x"}}, "reserved"},
		{[]Tag{{Key: "k", Value: "\xff"}}, "not valid UTF-8"},
	} {
		err := CheckTags(tc.tags, 2)
		if !errors.Is(err, ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("CheckTags(%.40v) = %v, want ErrInvalidArgument saying %q", tc.tags, err, tc.want)
		}
	}
}

func TestOpErrorShowsTheReasonWithOrWithoutACode(t *testing.T) {
	for _, tc := range []struct {
		err  *OpError
		want string
	}{
		{&OpError{Op: "GetObject", Bucket: "b", Key: "k", Err: ErrNotFound}, "GetObject b/k: not found"},
		{&OpError{Op: "GetObject", Bucket: "b", Key: "k", Code: "NoSuchKey", Err: ErrNotFound}, "GetObject b/k: not found (NoSuchKey)"},
		{&OpError{Op: "PutObjectTagging", Bucket: "b", Key: "k", Code: "InvalidTag", Message: "too long", Err: ErrInvalidArgument},
			"PutObjectTagging b/k: invalid argument (InvalidTag: too long)"},
		{&OpError{Op: "PutBucketCors", Bucket: "b", Message: "no AllowedMethod", Err: ErrInvalidArgument},
			"PutBucketCors b: invalid argument (no AllowedMethod)"},
	} {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
}
