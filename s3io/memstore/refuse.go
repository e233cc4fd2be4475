package memstore

import (
	"context"
	"fmt"

	"github.com/s3mount/s3mount/s3io"
)

// refusable are the features Refuse can turn off, with the calls each covers.
var refusable = map[string]string{
	"acl":        "GetObjectACL, PutObjectACL, GetBucketACL, PutBucketACL",
	"tagging":    "object and bucket tagging",
	"policy":     "bucket policies",
	"cors":       "bucket CORS configurations",
	"lifecycle":  "bucket lifecycle configurations",
	"versioning": "GetBucketVersioning, PutBucketVersioning",
	"restore":    "RestoreObject",
}

// Refuse makes the calls of the named features answer NotImplemented
// (ErrNotImplemented), as gateways without them do: "acl", "tagging",
// "policy", "cors", "lifecycle", "versioning", "restore". Writes that
// carry a canned ACL still succeed, as on such gateways. An unknown name
// panics: it is a mistake in the test.
func (s *Store) Refuse(features ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, f := range features {
		if _, ok := refusable[f]; !ok {
			panic(fmt.Sprintf("memstore.Refuse: unknown feature %q", f))
		}
		if s.refused == nil {
			s.refused = map[string]bool{}
		}
		s.refused[f] = true
	}
}

// featureBucketLocked finds a bucket for a call of feature, failing first
// with NotImplemented when the feature is refused.
func (s *Store) featureBucketLocked(ctx context.Context, feature, op, bucketName, key string) (*bucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Err: err}
	}
	if s.refused[feature] {
		return nil, &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "NotImplemented",
			Message: "A header you provided implies functionality that is not implemented", Err: s3io.ErrNotImplemented}
	}
	return s.bucketLocked(ctx, op, bucketName, key)
}

// featureObjectLocked is featureBucketLocked for an object, which must
// exist. No SSE-C key is needed: tags and ACLs are not encrypted.
func (s *Store) featureObjectLocked(ctx context.Context, feature, op, bucketName, key string) (*object, error) {
	b, err := s.featureBucketLocked(ctx, feature, op, bucketName, key)
	if err != nil {
		return nil, err
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, opErr(op, bucketName, key, "NoSuchKey", s3io.ErrNotFound)
	}
	return o, nil
}
