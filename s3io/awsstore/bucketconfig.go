package awsstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io/s3xml"
)

// GetBucketPolicy returns the policy JSON as the server keeps it (MinIO
// rewrites single values as lists).
func (s *Store) GetBucketPolicy(ctx context.Context, bucket string) (string, error) {
	out, err := s.client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", mapError(ctx, "GetBucketPolicy", bucket, "", err)
	}
	return aws.ToString(out.Policy), nil
}

// PutBucketPolicy sets the policy; it must be JSON. The server checks
// what it means.
func (s *Store) PutBucketPolicy(ctx context.Context, bucket, policy string) error {
	const op = "PutBucketPolicy"
	var doc map[string]any
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		return refused(op, bucket, "", fmt.Errorf("policy is not a JSON object: %v", err))
	}
	_, err := s.client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(policy)})
	return mapError(ctx, op, bucket, "", err)
}

// DeleteBucketPolicy removes the policy.
func (s *Store) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	_, err := s.client.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
	return mapError(ctx, "DeleteBucketPolicy", bucket, "", err)
}

// GetBucketCORS returns the CORSConfiguration document.
func (s *Store) GetBucketCORS(ctx context.Context, bucket string) (string, error) {
	out, err := s.client.GetBucketCors(ctx, &s3.GetBucketCorsInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", mapError(ctx, "GetBucketCors", bucket, "", err)
	}
	return fromSDKCORS(out.CORSRules).XML(), nil
}

// PutBucketCORS sets the CORS configuration from a CORSConfiguration
// document, checked before sending.
func (s *Store) PutBucketCORS(ctx context.Context, bucket, xmlDoc string) error {
	const op = "PutBucketCors"
	c, err := s3xml.ParseCORS(xmlDoc)
	if err != nil {
		return refused(op, bucket, "", err)
	}
	_, err = s.client.PutBucketCors(ctx, &s3.PutBucketCorsInput{
		Bucket:            aws.String(bucket),
		CORSConfiguration: &types.CORSConfiguration{CORSRules: toSDKCORS(c)},
	})
	return mapError(ctx, op, bucket, "", err)
}

// DeleteBucketCORS removes the CORS configuration.
func (s *Store) DeleteBucketCORS(ctx context.Context, bucket string) error {
	_, err := s.client.DeleteBucketCors(ctx, &s3.DeleteBucketCorsInput{Bucket: aws.String(bucket)})
	return mapError(ctx, "DeleteBucketCors", bucket, "", err)
}

// GetBucketLifecycle returns the LifecycleConfiguration document.
func (s *Store) GetBucketLifecycle(ctx context.Context, bucket string) (string, error) {
	out, err := s.client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", mapError(ctx, "GetBucketLifecycleConfiguration", bucket, "", err)
	}
	return fromSDKLifecycle(out.Rules).XML(), nil
}

// PutBucketLifecycle sets the lifecycle configuration from a
// LifecycleConfiguration document, checked before sending.
func (s *Store) PutBucketLifecycle(ctx context.Context, bucket, xmlDoc string) error {
	const op = "PutBucketLifecycleConfiguration"
	c, err := s3xml.ParseLifecycle(xmlDoc)
	if err != nil {
		return refused(op, bucket, "", err)
	}
	_, err = s.client.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
		Bucket:                 aws.String(bucket),
		LifecycleConfiguration: &types.BucketLifecycleConfiguration{Rules: toSDKLifecycle(c)},
	})
	return mapError(ctx, op, bucket, "", err)
}

// DeleteBucketLifecycle removes the lifecycle configuration.
func (s *Store) DeleteBucketLifecycle(ctx context.Context, bucket string) error {
	_, err := s.client.DeleteBucketLifecycle(ctx, &s3.DeleteBucketLifecycleInput{Bucket: aws.String(bucket)})
	return mapError(ctx, "DeleteBucketLifecycle", bucket, "", err)
}

// GetBucketVersioning returns "Enabled", "Suspended", or "" when
// versioning was never enabled.
func (s *Store) GetBucketVersioning(ctx context.Context, bucket string) (string, error) {
	out, err := s.client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return "", mapError(ctx, "GetBucketVersioning", bucket, "", err)
	}
	return string(out.Status), nil
}

// PutBucketVersioning sets the status, "Enabled" or "Suspended".
func (s *Store) PutBucketVersioning(ctx context.Context, bucket, status string) error {
	const op = "PutBucketVersioning"
	if status != string(types.BucketVersioningStatusEnabled) && status != string(types.BucketVersioningStatusSuspended) {
		return refused(op, bucket, "", fmt.Errorf(`versioning status %q, want "Enabled" or "Suspended"`, status))
	}
	_, err := s.client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
		Bucket:                  aws.String(bucket),
		VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(status)},
	})
	return mapError(ctx, op, bucket, "", err)
}
