package awsstore

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// ListBuckets returns the buckets the credentials can list.
func (s *Store) ListBuckets(ctx context.Context) ([]s3io.BucketInfo, error) {
	var out []s3io.BucketInfo
	in := &s3.ListBucketsInput{}
	for {
		page, err := s.client.ListBuckets(ctx, in)
		if err != nil {
			return nil, mapError(ctx, "ListBuckets", "", "", err)
		}
		for _, b := range page.Buckets {
			out = append(out, s3io.BucketInfo{Name: aws.ToString(b.Name), Created: aws.ToTime(b.CreationDate)})
		}
		// Servers that do not page ListBuckets send no token.
		if aws.ToString(page.ContinuationToken) == "" {
			return out, nil
		}
		in.ContinuationToken = page.ContinuationToken
	}
}

// HeadBucket reports whether the bucket exists and is accessible.
func (s *Store) HeadBucket(ctx context.Context, bucket string) error {
	_, err := s.client.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	return mapError(ctx, "HeadBucket", bucket, "", err)
}

// List returns one page of a ListObjectsV2 listing.
//
// It asks for URL-encoded keys: XML 1.0 cannot carry some bytes (control
// characters) that keys may hold, and such a key must not break a listing.
// Keys are decoded only when the response says they were encoded, since
// some gateways ignore the parameter.
func (s *Store) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	const op = "ListObjectsV2"
	in := &s3.ListObjectsV2Input{
		Bucket:       aws.String(req.Bucket),
		EncodingType: types.EncodingTypeUrl,
	}
	if req.Prefix != "" {
		in.Prefix = aws.String(req.Prefix)
	}
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
	var md listMetadata
	ask := req.WithMetadata && !s.listMeta.off.Load()
	var optFns []func(*s3.Options)
	if ask {
		optFns = append(optFns, func(o *s3.Options) { o.APIOptions = append(o.APIOptions, withListMetadata(&md)) })
	}
	out, err := s.client.ListObjectsV2(ctx, in, optFns...)
	if err != nil {
		return s3io.ListPage{}, mapError(ctx, op, req.Bucket, "", err)
	}
	if ask && len(out.Contents) > 0 && len(md) == 0 {
		s.listMeta.off.Store(true) // the server ignores metadata=true
		s.log.Debug("the server's listings carry no metadata; listed files' metadata comes from HEADs")
	}
	decode := keyDecoder(out.EncodingType)
	page := s3io.ListPage{
		Objects:               make([]s3io.ObjectInfo, 0, len(out.Contents)),
		CommonPrefixes:        make([]string, 0, len(out.CommonPrefixes)),
		NextContinuationToken: aws.ToString(out.NextContinuationToken),
		IsTruncated:           aws.ToBool(out.IsTruncated),
	}
	for _, o := range out.Contents {
		key, err := decode(aws.ToString(o.Key))
		if err != nil {
			return s3io.ListPage{}, badListing(op, req, err)
		}
		// Some gateways list no ETag or LastModified: they stay empty.
		info := s3io.ObjectInfo{
			Key:  key,
			Size: aws.ToInt64(o.Size),
			ETag: unquoteETag(aws.ToString(o.ETag)),
			// Whole seconds, as HEAD's Last-Modified says: one object, one
			// mtime, whichever request told it (find -newer, make).
			ModTime:      aws.ToTime(o.LastModified).Truncate(time.Second),
			StorageClass: storageClass(string(o.StorageClass)),
		}
		md.apply(aws.ToString(o.Key), &info)
		page.Objects = append(page.Objects, info)
	}
	for _, p := range out.CommonPrefixes {
		prefix, err := decode(aws.ToString(p.Prefix))
		if err != nil {
			return s3io.ListPage{}, badListing(op, req, err)
		}
		page.CommonPrefixes = append(page.CommonPrefixes, prefix)
	}
	if page.IsTruncated && page.NextContinuationToken == "" {
		// Paging on would restart the listing forever.
		return s3io.ListPage{}, badListing(op, req, fmt.Errorf("truncated listing without a continuation token"))
	}
	return page, nil
}

// keyDecoder undoes encoding-type=url (form encoding: "+" is a space).
func keyDecoder(enc types.EncodingType) func(string) (string, error) {
	if enc != types.EncodingTypeUrl {
		return func(s string) (string, error) { return s, nil }
	}
	return url.QueryUnescape
}

func badListing(op string, req s3io.ListRequest, err error) error {
	return &s3io.OpError{Op: op, Bucket: req.Bucket, Key: req.Prefix, Message: err.Error(), Err: s3io.ErrServer}
}
