package awsstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// CreateMultipartUpload starts an upload; the object's attributes are
// given here, not at completion.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucket, key string, opts s3io.WriteOptions) (string, error) {
	in := &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), Metadata: opts.Metadata}
	a := attrsOf(opts)
	in.ContentType, in.StorageClass, in.ACL, in.ServerSideEncryption, in.SSEKMSKeyId = a.contentType, a.storageClass, a.acl, a.sse, a.kmsKeyID
	in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = a.ssecAlg, a.ssecKey, a.ssecMD5
	out, err := s.client.CreateMultipartUpload(ctx, in)
	if err != nil {
		return "", mapError(ctx, "CreateMultipartUpload", bucket, key, err)
	}
	if aws.ToString(out.UploadId) == "" {
		return "", &s3io.OpError{Op: "CreateMultipartUpload", Bucket: bucket, Key: key, Message: "no upload id in the answer", Err: s3io.ErrServer}
	}
	if asksEncryption(opts) {
		s.encryptedUploads.Store(aws.ToString(out.UploadId), opts)
	}
	return aws.ToString(out.UploadId), nil
}

// UploadPart uploads one part, with Content-MD5 when up asks for it.
func (s *Store) UploadPart(ctx context.Context, up s3io.Upload, part int32, body io.ReadSeeker, size int64) (s3io.Part, error) {
	const op = "UploadPart"
	in := &s3.UploadPartInput{
		Bucket:        aws.String(up.Bucket),
		Key:           aws.String(up.Key),
		UploadId:      aws.String(up.ID),
		PartNumber:    aws.Int32(part),
		Body:          body,
		ContentLength: aws.Int64(size),
	}
	if up.ContentMD5 {
		sum, err := contentMD5(body)
		if err != nil {
			return s3io.Part{}, bodyError(op, up.Bucket, up.Key, err)
		}
		in.ContentMD5 = aws.String(sum)
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(up.SSEC)
	}
	out, err := s.client.UploadPart(ctx, in, md5Signing(up.ContentMD5)...)
	if err != nil {
		return s3io.Part{}, withMessage(mapError(ctx, op, up.Bucket, up.Key, err), fmt.Sprintf("part %d", part))
	}
	return s3io.Part{Number: part, ETag: unquoteETag(aws.ToString(out.ETag)), Size: size}, nil
}

// UploadPartCopy makes one part from the byte range r of src.
func (s *Store) UploadPartCopy(ctx context.Context, up s3io.Upload, part int32, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	const op = "UploadPartCopy"
	if r.Off < 0 || r.Len <= 0 {
		return s3io.Part{}, &s3io.OpError{Op: op, Bucket: up.Bucket, Key: up.Key,
			Message: fmt.Sprintf("empty or negative range %d+%d", r.Off, r.Len), Err: s3io.ErrInvalidArgument}
	}
	in := &s3.UploadPartCopyInput{
		Bucket:          aws.String(up.Bucket),
		Key:             aws.String(up.Key),
		UploadId:        aws.String(up.ID),
		PartNumber:      aws.Int32(part),
		CopySource:      aws.String(copySource(src)),
		CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", r.Off, r.Off+r.Len-1)),
	}
	if src.IfMatch != "" {
		in.CopySourceIfMatch = aws.String(quoteETag(src.IfMatch))
	}
	if len(src.SSEC) > 0 {
		in.CopySourceSSECustomerAlgorithm, in.CopySourceSSECustomerKey, in.CopySourceSSECustomerKeyMD5 = ssec(src.SSEC)
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(up.SSEC)
	}
	out, err := s.client.UploadPartCopy(ctx, in)
	if err != nil {
		return s3io.Part{}, withMessage(mapError(ctx, op, up.Bucket, up.Key, err), fmt.Sprintf("part %d", part))
	}
	p := s3io.Part{Number: part, Size: r.Len}
	if out.CopyPartResult != nil {
		p.ETag = unquoteETag(aws.ToString(out.CopyPartResult.ETag))
	}
	return p, nil
}

// CompleteMultipartUpload assembles the parts. Size is the sum of the
// parts' sizes. When the server answers without an ETag (some gateways
// do), the object is read back with HeadObject.
func (s *Store) CompleteMultipartUpload(ctx context.Context, up s3io.Upload, parts []s3io.Part) (s3io.ObjectInfo, error) {
	const op = "CompleteMultipartUpload"
	completed := make([]types.CompletedPart, len(parts))
	var size int64
	for i, p := range parts {
		completed[i] = types.CompletedPart{PartNumber: aws.Int32(p.Number), ETag: aws.String(quoteETag(p.ETag))}
		size += p.Size
	}
	in := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(up.Bucket),
		Key:             aws.String(up.Key),
		UploadId:        aws.String(up.ID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	}
	if len(up.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(up.SSEC)
	}
	out, err := s.client.CompleteMultipartUpload(ctx, in)
	if err != nil {
		err = mapError(ctx, op, up.Bucket, up.Key, err)
		if info, ok := s.completedBefore(ctx, up, parts, size, err); ok {
			return info, nil
		}
		return s3io.ObjectInfo{}, err
	}
	if asked, ok := s.encryptedUploads.LoadAndDelete(up.ID); ok {
		if err := s.verifyEncryption(ctx, op, up.Bucket, up.Key, asked.(s3io.WriteOptions), out.ServerSideEncryption, nil); err != nil {
			return s3io.ObjectInfo{}, err
		}
	}
	etag := unquoteETag(aws.ToString(out.ETag))
	if etag == "" {
		return s.HeadObject(ctx, up.Bucket, up.Key, s3io.ReadOptions{SSEC: up.SSEC})
	}
	return s3io.ObjectInfo{Key: up.Key, Size: size, ETag: etag, VersionID: aws.ToString(out.VersionId)}, nil
}

// AbortMultipartUpload discards an upload and its parts.
func (s *Store) AbortMultipartUpload(ctx context.Context, up s3io.Upload) error {
	s.encryptedUploads.Delete(up.ID)
	_, err := s.client.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{
		Bucket: aws.String(up.Bucket), Key: aws.String(up.Key), UploadId: aws.String(up.ID),
	})
	return mapError(ctx, "AbortMultipartUpload", up.Bucket, up.Key, err)
}

// ListMultipartUploads lists all incomplete uploads under prefix, by key
// and then by start time, as S3 orders them (MinIO does not).
//
// MinIO (and perhaps other servers) reads the prefix as an exact key and
// lists nothing for a true prefix. So when a prefix finds nothing, the
// whole bucket's uploads are listed and filtered here: that costs a
// request per 1,000 uploads in the bucket, and only on this rare call.
func (s *Store) ListMultipartUploads(ctx context.Context, bucket, prefix string) ([]s3io.Upload, error) {
	ups, err := s.listUploads(ctx, bucket, prefix)
	if err != nil {
		return nil, err
	}
	if len(ups) == 0 && prefix != "" {
		all, err := s.listUploads(ctx, bucket, "")
		if err != nil {
			return nil, err
		}
		for _, u := range all {
			if strings.HasPrefix(u.Key, prefix) {
				ups = append(ups, u)
			}
		}
	}
	slices.SortStableFunc(ups, func(a, b s3io.Upload) int {
		if c := strings.Compare(a.Key, b.Key); c != 0 {
			return c
		}
		return a.Initiated.Compare(b.Initiated)
	})
	return ups, nil
}

// listUploads pages through ListMultipartUploads.
func (s *Store) listUploads(ctx context.Context, bucket, prefix string) ([]s3io.Upload, error) {
	const op = "ListMultipartUploads"
	bad := func(msg string) error {
		return &s3io.OpError{Op: op, Bucket: bucket, Key: prefix, Message: msg, Err: s3io.ErrServer}
	}
	var ups []s3io.Upload
	in := &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), EncodingType: types.EncodingTypeUrl}
	if prefix != "" {
		in.Prefix = aws.String(prefix)
	}
	for {
		out, err := s.client.ListMultipartUploads(ctx, in)
		if err != nil {
			return nil, mapError(ctx, op, bucket, prefix, err)
		}
		decode := keyDecoder(out.EncodingType)
		for _, u := range out.Uploads {
			key, err := decode(aws.ToString(u.Key))
			if err != nil {
				return nil, bad(err.Error())
			}
			ups = append(ups, s3io.Upload{Bucket: bucket, Key: key, ID: aws.ToString(u.UploadId), Initiated: aws.ToTime(u.Initiated)})
		}
		if !aws.ToBool(out.IsTruncated) {
			return ups, nil
		}
		if out.NextKeyMarker == nil && out.NextUploadIdMarker == nil {
			return nil, bad("truncated answer without markers")
		}
		// The key marker comes back encoded like the keys; the SDK will
		// encode it again as a query parameter.
		marker, err := decode(aws.ToString(out.NextKeyMarker))
		if err != nil {
			return nil, bad(err.Error())
		}
		in.KeyMarker, in.UploadIdMarker = aws.String(marker), out.NextUploadIdMarker
	}
}

// completedBefore tells a retried CompleteMultipartUpload whose first
// answer was lost (the server completed the upload, then the connection
// broke) from a real failure: the retry gets NoSuchUpload, and the object
// is there with exactly the multipart ETag of these parts (the MD5 of
// their MD5s, "-N") and their total size.
func (s *Store) completedBefore(ctx context.Context, up s3io.Upload, parts []s3io.Part, size int64, err error) (s3io.ObjectInfo, bool) {
	var oe *s3io.OpError
	if !errors.As(err, &oe) || oe.Code != "NoSuchUpload" {
		return s3io.ObjectInfo{}, false
	}
	want, ok := multipartETag(parts)
	if !ok {
		return s3io.ObjectInfo{}, false
	}
	info, herr := s.HeadObject(ctx, up.Bucket, up.Key, s3io.ReadOptions{SSEC: up.SSEC})
	if herr != nil || info.Size != size || info.ETag != want {
		return s3io.ObjectInfo{}, false
	}
	s.log.Info("a retried CompleteMultipartUpload found the upload already completed",
		"bucket", up.Bucket, "key", up.Key, "etag", info.ETag)
	return info, true
}

// multipartETag is the ETag S3 gives an object made of parts: the MD5 of
// the concatenated binary MD5s of the parts, then "-" and their count.
// Parts whose ETags are not MD5s (some gateways) give false.
func multipartETag(parts []s3io.Part) (string, bool) {
	h := md5.New()
	for _, p := range parts {
		b, err := hex.DecodeString(p.ETag)
		if err != nil || len(b) != md5.Size {
			return "", false
		}
		h.Write(b)
	}
	return fmt.Sprintf("%x-%d", h.Sum(nil), len(parts)), true
}
