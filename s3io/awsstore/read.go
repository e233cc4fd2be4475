package awsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

func (s *Store) ListBuckets(ctx context.Context) ([]s3io.BucketInfo, error) {
	var out []s3io.BucketInfo
	p := s3.NewListBucketsPaginator(s.client, &s3.ListBucketsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, mapError("ListBuckets", "", "", err)
		}
		for _, b := range page.Buckets {
			out = append(out, s3io.BucketInfo{Name: aws.ToString(b.Name), Created: aws.ToTime(b.CreationDate)})
		}
	}
	return out, nil
}

func (s *Store) HeadBucket(ctx context.Context, bucket string) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	err = mapError("HeadBucket", bucket, "", err)
	if errors.Is(err, s3io.ErrNotFound) {
		err.(*s3io.OpError).Err = s3io.ErrBucketNotFound
	}
	return err
}

func (s *Store) HeadObject(ctx context.Context, bucket, key string, opts s3io.ReadOptions) (s3io.ObjectInfo, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(quoteETag(opts.IfMatch))
	}
	if len(opts.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(opts.SSEC)
	}
	out, err := s.client.HeadObject(ctx, in)
	if err != nil {
		return s3io.ObjectInfo{}, mapError("HeadObject", bucket, key, err)
	}
	meta := make(map[string]string, len(out.Metadata))
	for k, v := range out.Metadata {
		meta[strings.ToLower(k)] = v
	}
	return s3io.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         unquoteETag(aws.ToString(out.ETag)),
		ModTime:      aws.ToTime(out.LastModified),
		StorageClass: string(out.StorageClass),
		ContentType:  aws.ToString(out.ContentType),
		VersionID:    aws.ToString(out.VersionId),
		Metadata:     meta,
		SSE:          string(out.ServerSideEncryption),
		SSEKMSKeyID:  aws.ToString(out.SSEKMSKeyId),
		HasMetadata:  true,
	}, nil
}

func (s *Store) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	in := &s3.ListObjectsV2Input{Bucket: aws.String(req.Bucket), Prefix: aws.String(req.Prefix)}
	if req.Delimiter != "" {
		in.Delimiter = aws.String(req.Delimiter)
	}
	if req.StartAfter != "" {
		in.StartAfter = aws.String(req.StartAfter)
	}
	if req.ContinuationToken != "" {
		in.ContinuationToken = aws.String(req.ContinuationToken)
	}
	if req.MaxKeys > 0 {
		in.MaxKeys = aws.Int32(req.MaxKeys)
	}
	out, err := s.client.ListObjectsV2(ctx, in)
	if err != nil {
		return s3io.ListPage{}, mapError("ListObjectsV2", req.Bucket, req.Prefix, err)
	}
	page := s3io.ListPage{
		Objects:               make([]s3io.ObjectInfo, 0, len(out.Contents)),
		CommonPrefixes:        make([]string, 0, len(out.CommonPrefixes)),
		NextContinuationToken: aws.ToString(out.NextContinuationToken),
		IsTruncated:           aws.ToBool(out.IsTruncated),
	}
	for _, o := range out.Contents {
		page.Objects = append(page.Objects, objectInfo(o))
	}
	for _, p := range out.CommonPrefixes {
		page.CommonPrefixes = append(page.CommonPrefixes, aws.ToString(p.Prefix))
	}
	return page, nil
}

// objectInfo converts a listed object. Some gateways list no ETag or
// LastModified: those fields stay empty.
func objectInfo(o types.Object) s3io.ObjectInfo {
	return s3io.ObjectInfo{
		Key:          aws.ToString(o.Key),
		Size:         aws.ToInt64(o.Size),
		ETag:         unquoteETag(aws.ToString(o.ETag)),
		ModTime:      aws.ToTime(o.LastModified),
		StorageClass: string(o.StorageClass),
	}
}

// bodyAttempts bounds how often a GET broken in the middle of its body is
// resumed; each attempt makes progress or fails.
const bodyAttempts = 5

// ReadRange fills p from off. A body that breaks in the middle is resumed
// from where it stopped, pinned to the first response's ETag so that bytes
// of two versions are never mixed.
func (s *Store) ReadRange(ctx context.Context, bucket, key string, off int64, p []byte, opts s3io.ReadOptions) (int, error) {
	n := 0
	ifMatch := opts.IfMatch
	var lastErr error
	for attempt := 0; attempt < bodyAttempts && n < len(p); attempt++ {
		got, etag, eof, err := s.getRange(ctx, bucket, key, off+int64(n), p[n:], ifMatch, opts.SSEC)
		n += got
		if ifMatch == "" {
			ifMatch = etag
		}
		if err == nil || eof {
			return n, err
		}
		var oe *s3io.OpError
		if errors.As(err, &oe) || ctx.Err() != nil {
			return n, err // an S3 answer, not a broken body
		}
		lastErr = err
		s.log.Debug("GET body broken, resuming", "bucket", bucket, "key", key, "offset", off+int64(n), "err", err)
		select {
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		case <-ctx.Done():
			return n, mapError("GetObject", bucket, key, ctx.Err())
		}
	}
	if n < len(p) && lastErr != nil {
		return n, &s3io.OpError{Op: "GetObject", Bucket: bucket, Key: key, Err: s3io.ErrServer,
			Message: fmt.Sprintf("body broken %d times: %v", bodyAttempts, lastErr)}
	}
	return n, nil
}

// getRange does one ranged GET into p. eof reports that the object ended
// (or the range was past its end).
func (s *Store) getRange(ctx context.Context, bucket, key string, off int64, p []byte, ifMatch string, ssec s3io.SSECustomerKey) (n int, etag string, eof bool, err error) {
	in := &s3.GetObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Range:  aws.String(fmt.Sprintf("bytes=%d-%d", off, off+int64(len(p))-1)),
	}
	if ifMatch != "" {
		in.IfMatch = aws.String(quoteETag(ifMatch))
	}
	if len(ssec) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssecHeaders(ssec)
	}
	out, err := s.client.GetObject(ctx, in)
	if err != nil {
		var oe *s3io.OpError
		err = mapError("GetObject", bucket, key, err)
		if errors.As(err, &oe) && oe.Code == "InvalidRange" {
			return 0, "", true, nil
		}
		return 0, "", false, err
	}
	defer out.Body.Close()
	n, err = io.ReadFull(out.Body, p)
	etag = unquoteETag(aws.ToString(out.ETag))
	switch {
	case err == nil:
		return n, etag, false, nil
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		// The server sent all it had: the object ends here, unless the
		// response was cut short of its Content-Length.
		if out.ContentLength != nil && int64(n) < *out.ContentLength {
			return n, etag, false, fmt.Errorf("body ended after %d of %d bytes", n, *out.ContentLength)
		}
		return n, etag, true, nil
	case ctx.Err() != nil:
		return n, etag, false, mapError("GetObject", bucket, key, ctx.Err())
	default:
		return n, etag, false, err
	}
}

func quoteETag(e string) string {
	if strings.HasPrefix(e, "\"") || e == "*" {
		return e
	}
	return "\"" + e + "\""
}

func unquoteETag(e string) string {
	return strings.Trim(e, "\"")
}
