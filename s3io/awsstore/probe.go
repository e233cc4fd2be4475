package awsstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// probeAttempts keeps a probe short: a mount with wrong credentials, a
// missing bucket or an unreachable endpoint should fail in seconds, yet
// one lost packet should not fail it.
const probeAttempts = 2

// ProbeBucket lists at most one key of bucket under prefix, so that a
// mount fails early and clearly: ErrInvalidCredentials, ErrAccessDenied,
// ErrBucketNotFound, ErrUnreachable.
func (s *Store) ProbeBucket(ctx context.Context, bucket, prefix string) error {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	_, err := s.client.ListObjectsV2(ctx, in, withAttempts(min(probeAttempts, s.maxAttempts)))
	return mapError(ctx, "ListObjectsV2", bucket, "", err)
}

// ProbeService lists the buckets, for a mount of all buckets.
func (s *Store) ProbeService(ctx context.Context) error {
	_, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{}, withAttempts(min(probeAttempts, s.maxAttempts)))
	return mapError(ctx, "ListBuckets", "", "", err)
}

func withAttempts(n int) func(*s3.Options) {
	return func(o *s3.Options) { o.RetryMaxAttempts = n }
}
