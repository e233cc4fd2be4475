package memstore

import (
	"context"
	"slices"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// GetObjectTagging returns the object's tags sorted by key.
func (s *Store) GetObjectTagging(ctx context.Context, bucketName, key string) ([]s3io.Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "tagging", "GetObjectTagging", bucketName, key)
	if err != nil {
		return nil, err
	}
	return sortedTags(o.tags), nil
}

// PutObjectTagging replaces the object's tags.
func (s *Store) PutObjectTagging(ctx context.Context, bucketName, key string, tags []s3io.Tag) error {
	const op = "PutObjectTagging"
	if err := s3io.CheckTags(tags, s3io.MaxObjectTags); err != nil {
		return invalidTags(op, bucketName, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "tagging", op, bucketName, key)
	if err != nil {
		return err
	}
	o.tags = slices.Clone(tags)
	return nil
}

// DeleteObjectTagging removes the object's tags.
func (s *Store) DeleteObjectTagging(ctx context.Context, bucketName, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "tagging", "DeleteObjectTagging", bucketName, key)
	if err != nil {
		return err
	}
	o.tags = nil
	return nil
}

// GetBucketTagging returns the bucket's tags sorted by key.
func (s *Store) GetBucketTagging(ctx context.Context, bucketName string) ([]s3io.Tag, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "tagging", "GetBucketTagging", bucketName, "")
	if err != nil {
		return nil, err
	}
	return sortedTags(b.tags), nil
}

// PutBucketTagging replaces the bucket's tags.
func (s *Store) PutBucketTagging(ctx context.Context, bucketName string, tags []s3io.Tag) error {
	const op = "PutBucketTagging"
	if err := s3io.CheckTags(tags, s3io.MaxBucketTags); err != nil {
		return invalidTags(op, bucketName, "", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "tagging", op, bucketName, "")
	if err != nil {
		return err
	}
	b.tags = slices.Clone(tags)
	return nil
}

// DeleteBucketTagging removes the bucket's tags.
func (s *Store) DeleteBucketTagging(ctx context.Context, bucketName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "tagging", "DeleteBucketTagging", bucketName, "")
	if err != nil {
		return err
	}
	b.tags = nil
	return nil
}

// sortedTags returns a sorted copy, never nil.
func sortedTags(tags []s3io.Tag) []s3io.Tag {
	out := append(make([]s3io.Tag, 0, len(tags)), tags...)
	slices.SortFunc(out, func(a, b s3io.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func invalidTags(op, bucketName, key string, err error) error {
	return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidTag", Message: err.Error(),
		Err: s3io.ErrInvalidArgument}
}
