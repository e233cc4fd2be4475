package awsstore

import (
	"context"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// PutObject uploads size bytes of body as one object. The SDK rewinds body
// for each retry.
func (s *Store) PutObject(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, opts s3io.WriteOptions) (s3io.ObjectInfo, error) {
	const op = "PutObject"
	var md5 string
	if opts.ContentMD5 {
		sum, err := contentMD5(body)
		if err != nil {
			return s3io.ObjectInfo{}, bodyError(op, bucket, key, err)
		}
		md5 = sum
	}
	out, err := s.putObject(ctx, bucket, key, body, size, md5, opts)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	sse, ssecAlg := out.sseOf()
	if err := s.verifyEncryption(ctx, op, bucket, key, opts, sse, ssecAlg); err != nil {
		return s3io.ObjectInfo{}, err
	}
	return s3io.ObjectInfo{
		Key:          key,
		Size:         size,
		ETag:         unquoteETag(out.etag),
		StorageClass: storageClass(opts.StorageClass),
		ContentType:  opts.ContentType,
		VersionID:    out.versionID,
		Metadata:     lowerKeys(opts.Metadata),
		SSE:          out.sse,
		SSEKMSKeyID:  out.kmsKeyID,
		HasMetadata:  true,
	}, nil
}

// putInput is the SDK's PutObject of body with opts (Content-MD5 aside).
func putInput(bucket, key string, body io.ReadSeeker, size int64, opts s3io.WriteOptions) *s3.PutObjectInput {
	in := &s3.PutObjectInput{
		Bucket:        aws.String(bucket),
		Key:           aws.String(key),
		Body:          body,
		ContentLength: aws.Int64(size),
		Metadata:      opts.Metadata,
	}
	a := attrsOf(opts)
	in.ContentType, in.StorageClass, in.ACL, in.ServerSideEncryption, in.SSEKMSKeyId = a.contentType, a.storageClass, a.acl, a.sse, a.kmsKeyID
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = a.ssecAlg, a.ssecKey, a.ssecMD5
	if opts.IfNoneMatch != "" {
		in.IfNoneMatch = aws.String(opts.IfNoneMatch)
	}
	return in
}

// CopyObject copies src to bucket/key on the server (up to 5 GiB).
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
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = ssec(src.SSEC)
	}
	a := attrsOf(opts.WriteOptions)
	if opts.ReplaceMetadata {
		in.MetadataDirective = types.MetadataDirectiveReplace
		in.Metadata, in.ContentType = opts.Metadata, a.contentType
	}
	in.StorageClass, in.ACL, in.ServerSideEncryption, in.SSEKMSKeyId = a.storageClass, a.acl, a.sse, a.kmsKeyID
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = a.ssecAlg, a.ssecKey, a.ssecMD5
	out, err := s.client.CopyObject(ctx, in)
	if err != nil {
		return s3io.ObjectInfo{}, mapError(ctx, "CopyObject", bucket, key, err)
	}
	if err := s.verifyEncryption(ctx, "CopyObject", bucket, key, opts.WriteOptions, out.ServerSideEncryption, out.SSECustomerAlgorithm); err != nil {
		return s3io.ObjectInfo{}, err
	}
	info := s3io.ObjectInfo{Key: key, VersionID: aws.ToString(out.VersionId)}
	if r := out.CopyObjectResult; r != nil {
		info.ETag = unquoteETag(aws.ToString(r.ETag))
		info.ModTime = aws.ToTime(r.LastModified)
	}
	return info, nil
}

// DeleteObject removes a key; S3 answers 204 for a missing key too.
func (s *Store) DeleteObject(ctx context.Context, bucket, key string) error {
	_, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return mapError(ctx, "DeleteObject", bucket, key, err)
}

// bodyError reports a caller's body that could not be read or rewound.
func bodyError(op, bucket, key string, err error) error {
	return &s3io.OpError{Op: op, Bucket: bucket, Key: key, Message: fmt.Sprintf("reading the body: %v", err),
		Err: s3io.ErrInvalidArgument}
}
