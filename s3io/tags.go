package s3io

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// S3's limits on tags.
const (
	MaxObjectTags     = 10
	MaxBucketTags     = 50
	MaxTagKeyLength   = 128 // characters, not bytes
	MaxTagValueLength = 256
)

// tagError is a tag set S3 would refuse. Its text is the rule broken
// alone, so that a Store can put it in an OpError's Message.
type tagError string

func (e tagError) Error() string { return string(e) }
func (e tagError) Unwrap() error { return ErrInvalidArgument }

func badTags(format string, args ...any) error { return tagError(fmt.Sprintf(format, args...)) }

// CheckTags applies S3's rules to a tag set of at most limit tags: keys of 1
// to 128 characters, values of at most 256, valid UTF-8, no key twice, no
// key in the reserved "aws:" space. Stores call it before sending, so that
// every server refuses the same sets with the same error. The error wraps
// ErrInvalidArgument and names the rule broken.
func CheckTags(tags []Tag, limit int) error {
	if len(tags) > limit {
		return badTags("%d tags, at most %d allowed", len(tags), limit)
	}
	seen := make(map[string]bool, len(tags))
	for _, t := range tags {
		switch {
		case t.Key == "":
			return badTags("empty tag key")
		case !utf8.ValidString(t.Key) || !utf8.ValidString(t.Value):
			return badTags("tag %q is not valid UTF-8", t.Key)
		case utf8.RuneCountInString(t.Key) > MaxTagKeyLength:
			return badTags("tag key %.20q… longer than %d characters", t.Key, MaxTagKeyLength)
		case utf8.RuneCountInString(t.Value) > MaxTagValueLength:
			return badTags("value of tag %q longer than %d characters", t.Key, MaxTagValueLength)
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			return badTags("tag key %q: the aws: prefix is reserved", t.Key)
		case seen[t.Key]:
			return badTags("tag key %q given twice", t.Key)
		}
		seen[t.Key] = true
	}
	return nil
}
