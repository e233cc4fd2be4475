package awsstore

import (
	"context"
	"errors"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// GetObjectTagging returns the object's tags sorted by key.
func (s *Store) GetObjectTagging(ctx context.Context, bucket, key string) ([]s3io.Tag, error) {
	out, err := s.client.GetObjectTagging(ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return nil, mapError(ctx, "GetObjectTagging", bucket, key, err)
	}
	return fromSDKTags(out.TagSet), nil
}

// PutObjectTagging replaces the object's tags. The SDK adds the checksum
// S3 requires of this call.
func (s *Store) PutObjectTagging(ctx context.Context, bucket, key string, tags []s3io.Tag) error {
	const op = "PutObjectTagging"
	if err := s3io.CheckTags(tags, s3io.MaxObjectTags); err != nil {
		return refused(op, bucket, key, err)
	}
	_, err := s.client.PutObjectTagging(ctx, &s3.PutObjectTaggingInput{
		Bucket:  aws.String(bucket),
		Key:     aws.String(key),
		Tagging: &types.Tagging{TagSet: toSDKTags(tags)},
	})
	return mapError(ctx, op, bucket, key, err)
}

// DeleteObjectTagging removes the object's tags.
func (s *Store) DeleteObjectTagging(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObjectTagging(ctx, &s3.DeleteObjectTaggingInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return mapError(ctx, "DeleteObjectTagging", bucket, key, err)
}

// GetBucketTagging returns the bucket's tags sorted by key. S3 answers
// NoSuchTagSet for a bucket without tags: that is an empty set. (MinIO
// answers NoSuchTagSet for a missing bucket too, so there a missing bucket
// has no tags rather than ErrBucketNotFound.)
func (s *Store) GetBucketTagging(ctx context.Context, bucket string) ([]s3io.Tag, error) {
	out, err := s.client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if err != nil {
		err = mapError(ctx, "GetBucketTagging", bucket, "", err)
		if errors.Is(err, s3io.ErrNoConfiguration) {
			return []s3io.Tag{}, nil
		}
		return nil, err
	}
	return fromSDKTags(out.TagSet), nil
}

// PutBucketTagging replaces the bucket's tags.
func (s *Store) PutBucketTagging(ctx context.Context, bucket string, tags []s3io.Tag) error {
	const op = "PutBucketTagging"
	if err := s3io.CheckTags(tags, s3io.MaxBucketTags); err != nil {
		return refused(op, bucket, "", err)
	}
	_, err := s.client.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{
		Bucket:  aws.String(bucket),
		Tagging: &types.Tagging{TagSet: toSDKTags(tags)},
	})
	return mapError(ctx, op, bucket, "", err)
}

// DeleteBucketTagging removes the bucket's tags.
func (s *Store) DeleteBucketTagging(ctx context.Context, bucket string) error {
	_, err := s.client.DeleteBucketTagging(ctx, &s3.DeleteBucketTaggingInput{Bucket: aws.String(bucket)})
	return mapError(ctx, "DeleteBucketTagging", bucket, "", err)
}

func toSDKTags(tags []s3io.Tag) []types.Tag {
	out := make([]types.Tag, len(tags))
	for i, t := range tags {
		out[i] = types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)}
	}
	return out
}

// fromSDKTags converts and sorts; never nil.
func fromSDKTags(tags []types.Tag) []s3io.Tag {
	out := make([]s3io.Tag, len(tags))
	for i, t := range tags {
		out[i] = s3io.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)}
	}
	slices.SortFunc(out, func(a, b s3io.Tag) int { return strings.Compare(a.Key, b.Key) })
	return out
}
