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

func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, opts s3io.WriteOptions) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), Metadata: opts.Metadata}
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
	out, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", mapError("CreateMultipartUpload", bucket, key, err)
	}
	return aws.ToString(out.UploadId), nil
}

func (s *Store) UploadPart(ctx context.Context, up s3io.Upload, part int32, body io.ReadSeeker, size int64) (s3io.Part, error) {
	sum, err := md5Of(body)
	if err != nil {
		return s3io.Part{}, fmt.Errorf("part %d of %s: %w", part, up.Key, err)
	}
	in := &s3.UploadPartInput{
		Bucket: aws.String(up.Bucket), Key: aws.String(up.Key), UploadId: aws.String(up.ID),
		PartNumber: aws.Int32(part), Body: body, ContentLength: aws.Int64(size), ContentMD5: aws.String(sum),
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(up.SSEC)
	}
	out, err := s.client.UploadPart(ctx, in)
	if err != nil {
		return s3io.Part{}, mapError("UploadPart", up.Bucket, up.Key, err)
	}
	return s3io.Part{Number: part, ETag: unquoteETag(aws.ToString(out.ETag)), Size: size}, nil
}

func (s *Store) UploadPartCopy(ctx context.Context, up s3io.Upload, part int32, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	in := &s3.UploadPartCopyInput{
		Bucket: aws.String(up.Bucket), Key: aws.String(up.Key), UploadId: aws.String(up.ID),
		PartNumber:      aws.Int32(part),
		CopySource:      aws.String(copySource(src)),
		CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", r.Off, r.Off+r.Len-1)),
	}
	if src.IfMatch != "" {
		in.CopySourceIfMatch = aws.String(quoteETag(src.IfMatch))
	}
	if len(src.SSEC) > 0 {
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = ssecHeaders(src.SSEC)
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(up.SSEC)
	}
	out, err := s.client.UploadPartCopy(ctx, in)
	if err != nil {
		return s3io.Part{}, mapError("UploadPartCopy", up.Bucket, up.Key, err)
	}
	p := s3io.Part{Number: part, Size: r.Len}
	if out.CopyPartResult != nil {
		p.ETag = unquoteETag(aws.ToString(out.CopyPartResult.ETag))
	}
	return p, nil
}

func (s *Store) CompleteMultipartUpload(ctx context.Context, up s3io.Upload, parts []s3io.Part) (s3io.ObjectInfo, error) {
	completed := make([]types.CompletedPart, len(parts))
	var size int64
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(quoteETag(p.ETag))}
		size += p.Size
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket: aws.String(up.Bucket), Key: aws.String(up.Key), UploadId: aws.String(up.ID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(up.SSEC)
	}
	out, err := s.client.CompleteMultipartUpload(ctx, in)
	if err != nil {
		return s3io.ObjectInfo{}, mapError("CompleteMultipartUpload", up.Bucket, up.Key, err)
	}
	etag := unquoteETag(aws.ToString(out.ETag))
	if etag == "" {
		// Some servers answer without an ETag: read it back.
		info, err := s.HeadObject(ctx, up.Bucket, up.Key, s3io.ReadOptions{SSEC: up.SSEC})
		if err != nil {
			return s3io.ObjectInfo{}, err
		}
		return info, nil
	}
	return s3io.ObjectInfo{Key: up.Key, Size: size, ETag: etag, VersionID: aws.ToString(out.VersionId)}, nil
}

func (s *Store) AbortMultipartUpload(ctx context.Context, up s3io.Upload) error {
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(up.Bucket), Key: aws.String(up.Key), UploadId: aws.String(up.ID),
	})
	return mapError("AbortMultipartUpload", up.Bucket, up.Key, err)
}

func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]s3io.Upload, error) {
	var ups []s3io.Upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, mapError("ListMultipartUploads", bucket, prefix, err)
		}
		for _, u := range out.Uploads {
			ups = append(ups, s3io.Upload{Bucket: bucket, Key: aws.ToString(u.Key), ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(out.IsTruncated) {
			return ups, nil
		}
		in.KeyMarker, in.UploadIdMarker = out.NextKeyMarker, out.NextUploadIdMarker
	}
}
