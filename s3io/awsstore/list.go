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

// List returns one page of a ListObjectsV2 listing: lean when it can (see
// leanHTTP and lean_list.go), else, or when the lean one was not
// answered with a listing, through the SDK.
//
// It asks for URL-encoded keys: XML 1.0 cannot carry some bytes (control
// characters) that keys may hold, and such a key must not break a listing.
// Keys are decoded only when the response says they were encoded, since
// some gateways ignore the parameter.
func (s *Store) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	ask := req.WithMetadata && !s.listMeta.off.Load()
	var optFns []func(*s3.Options)
	if s.lean != nil {
		a, how := s.lean.list(ctx, req, ask)
		if how == leanServed {
			return s.listPage(req, ask, a)
		}
		ctx, optFns = s.afterLean(ctx, how)
	}
	a, err := s.sdkList(ctx, req, ask, optFns)
	if err != nil {
		return s3io.ListPage{}, err
	}
	return s.listPage(req, ask, a)
}

// sdkList sends one ListObjectsV2 through the SDK.
func (s *Store) sdkList(ctx context.Context, req s3io.ListRequest, ask bool, optFns []func(*s3.Options)) (listAnswer, error) {
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
	if ask {
		optFns = append(optFns, func(o *s3.Options) { o.APIOptions = append(o.APIOptions, withListMetadata(&md)) })
	}
	out, err := s.client.ListObjectsV2(ctx, in, optFns...)
	if err != nil {
		return listAnswer{}, mapError(ctx, "ListObjectsV2", req.Bucket, "", err)
	}
	a := listAnswer{encoding: string(out.EncodingType), truncated: aws.ToBool(out.IsTruncated),
		token: aws.ToString(out.NextContinuationToken), md: md,
		objects: make([]listedObject, 0, len(out.Contents)), prefixes: make([]string, 0, len(out.CommonPrefixes))}
	for _, o := range out.Contents {
		a.objects = append(a.objects, listedObject{key: aws.ToString(o.Key), etag: aws.ToString(o.ETag),
			storageClass: string(o.StorageClass), size: aws.ToInt64(o.Size), modTime: aws.ToTime(o.LastModified)})
	}
	for _, p := range out.CommonPrefixes {
		a.prefixes = append(a.prefixes, aws.ToString(p.Prefix))
	}
	return a, nil
}

// listPage makes the page of an answer, however it came.
func (s *Store) listPage(req s3io.ListRequest, asked bool, a listAnswer) (s3io.ListPage, error) {
	const op = "ListObjectsV2"
	if asked && len(a.objects) > 0 && len(a.md) == 0 {
		s.listMeta.off.Store(true) // the server ignores metadata=true
		s.log.Debug("the server's listings carry no metadata; listed files' metadata comes from HEADs")
	}
	decode := keyDecoder(types.EncodingType(a.encoding))
	page := s3io.ListPage{
		Objects:               make([]s3io.ObjectInfo, 0, len(a.objects)),
		CommonPrefixes:        make([]string, 0, len(a.prefixes)),
		NextContinuationToken: a.token,
		IsTruncated:           a.truncated,
	}
	for _, o := range a.objects {
		key, err := decode(o.key)
		if err != nil {
			return s3io.ListPage{}, badListing(op, req, err)
		}
		// Some gateways list no ETag or LastModified: they stay empty.
		info := s3io.ObjectInfo{
			Key:  key,
			Size: o.size,
			ETag: unquoteETag(o.etag),
			// Whole seconds, as HEAD's Last-Modified says: one object, one
			// mtime, whichever request told it (find -newer, make).
			ModTime:      o.modTime.Truncate(time.Second),
			StorageClass: storageClass(o.storageClass),
		}
		a.md.apply(o.key, &info)
		page.Objects = append(page.Objects, info)
	}
	for _, p := range a.prefixes {
		prefix, err := decode(p)
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
