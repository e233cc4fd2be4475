package awsstore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// errNoCannedACL: without a canned ACL the SDK would send an empty ACL
// body, which S3 reads as "remove every grant".
var errNoCannedACL = errors.New("no canned ACL given")

// GetObjectACL returns the object's ACL.
func (s *Store) GetObjectACL(ctx context.Context, bucket, key string) (s3io.ACL, error) {
	out, err := s.client.GetObjectAcl(ctx, &s3.GetObjectAclInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return s3io.ACL{}, mapError(ctx, "GetObjectAcl", bucket, key, err)
	}
	return fromSDKACL(out.Owner, out.Grants), nil
}

// PutObjectACL gives the object a canned ACL. Gateways that keep no ACLs
// (MinIO) accept "private" and answer NotImplemented to the others.
func (s *Store) PutObjectACL(ctx context.Context, bucket, key, canned string) error {
	const op = "PutObjectAcl"
	if canned == "" {
		return refused(op, bucket, key, errNoCannedACL)
	}
	_, err := s.client.PutObjectAcl(ctx, &s3.PutObjectAclInput{
		Bucket: aws.String(bucket), Key: aws.String(key), ACL: types.ObjectCannedACL(canned)})
	return mapError(ctx, op, bucket, key, err)
}

// GetBucketACL returns the bucket's ACL.
func (s *Store) GetBucketACL(ctx context.Context, bucket string) (s3io.ACL, error) {
	out, err := s.client.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(bucket)})
	if err != nil {
		return s3io.ACL{}, mapError(ctx, "GetBucketAcl", bucket, "", err)
	}
	return fromSDKACL(out.Owner, out.Grants), nil
}

// PutBucketACL gives the bucket a canned ACL.
func (s *Store) PutBucketACL(ctx context.Context, bucket, canned string) error {
	const op = "PutBucketAcl"
	if canned == "" {
		return refused(op, bucket, "", errNoCannedACL)
	}
	_, err := s.client.PutBucketAcl(ctx, &s3.PutBucketAclInput{
		Bucket: aws.String(bucket), ACL: types.BucketCannedACL(canned)})
	return mapError(ctx, op, bucket, "", err)
}

func fromSDKACL(owner *types.Owner, grants []types.Grant) s3io.ACL {
	var acl s3io.ACL
	if owner != nil {
		acl.Owner = s3io.Grantee{ID: aws.ToString(owner.ID), DisplayName: aws.ToString(owner.DisplayName)}
	}
	acl.Grants = make([]s3io.Grant, 0, len(grants))
	for _, g := range grants {
		var who s3io.Grantee
		if e := g.Grantee; e != nil {
			who = s3io.Grantee{
				Type:        string(e.Type),
				ID:          aws.ToString(e.ID),
				DisplayName: aws.ToString(e.DisplayName),
				URI:         aws.ToString(e.URI),
				Email:       aws.ToString(e.EmailAddress),
			}
		}
		acl.Grants = append(acl.Grants, s3io.Grant{Grantee: who, Permission: string(g.Permission)})
	}
	return acl
}
