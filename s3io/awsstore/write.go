package awsstore

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

func (s *Store) PutObject(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, opts s3io.WriteOptions) (s3io.ObjectInfo, error) {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		Metadata:      opts.Metadata,
	}
	if opts.ContentType != "" {
		in.ContentType = aws.String(opts.ContentType)
	}
	if opts.StorageClass != "" {
		in.StorageClass = types.StorageClass(opts.StorageClass)
	}
	if opts.ACL != "" {
		in.ACL = types.ObjectCannedACL(opts.ACL)
	}
	if opts.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(opts.SSE)
	}
	if opts.SSEKMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(opts.SSEKMSKeyID)
	}
	if len(opts.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(opts.SSEC)
	}
	if opts.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(opts.IfNoneMatch)
	}
	if opts.ContentMD5 {
		sum, err := md5Of(body)
		if err != nil {
			return s3io.ObjectInfo{}, fmt.Errorf("put %s: %w", key, err)
		}
		in.ContentMD5 = aws.String(sum)
	}
	out, err := s.client.PutObject(ctx, in)
	if err != nil {
		return s3io.ObjectInfo{}, mapError("PutObject", bucket, key, err)
	}
	return s3io.ObjectInfo{Key: key, Size: size, ETag: unquoteETag(aws.ToString(out.ETag)),
		VersionID: aws.ToString(out.VersionId), Metadata: opts.Metadata, ContentType: opts.ContentType, HasMetadata: true}, nil
}

// md5Of returns the base64 MD5 of body and rewinds it.
func md5Of(body io.ReadSeeker) (string, error) {
	h := md5.New()
	if _, err := io.Copy(h, body); err != nil {
		return "", err
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

func (s *Store) CopyObject(ctx context.Context, src s3io.CopySource, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	in := &s3.CopyObjectInput{
		Bucket:     aws.String(bucket),
		Key:        aws.String(key),
		CopySource: aws.String(copySource(src)),
	}
	if src.IfMatch != "" {
		in.CopySourceIfMatch = aws.String(quoteETag(src.IfMatch))
	}
	if len(src.SSEC) > 0 {
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = ssecHeaders(src.SSEC)
	}
	if opts.ReplaceMetadata {
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata = opts.Metadata
		if opts.ContentType != "" {
			in.ContentType = aws.String(opts.ContentType)
		}
	}
	if opts.StorageClass != "" {
		in.StorageClass = types.StorageClass(opts.StorageClass)
	}
	if opts.ACL != "" {
		in.ACL = types.ObjectCannedACL(opts.ACL)
	}
	if opts.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(opts.SSE)
	}
	if opts.SSEKMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(opts.SSEKMSKeyID)
	}
	if len(opts.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(opts.SSEC)
	}
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		return s3io.ObjectInfo{}, mapError("CopyObject", bucket, key, err)
	}
	info := s3io.ObjectInfo{Key: key, VersionID: aws.ToString(out.VersionId)}
	if out.CopyObjectResult != nil {
		info.ETag = unquoteETag(aws.ToString(out.CopyObjectResult.ETag))
		info.ModTime = aws.ToTime(out.CopyObjectResult.LastModified)
	}
	return info, nil
}

func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return mapError("DeleteObject", bucket, key, err)
}

// copySource is the x-amz-copy-source value: bucket/key, URL-encoded.
func copySource(src s3io.CopySource) string {
	return src.Bucket + "/" + pathEscape(src.Key)
}
