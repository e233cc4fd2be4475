package s3io

import (
	"context"
	"io"
	"time"
)

// Call describes one Store call to a decorator.
type Call struct {
	// Op is the S3 operation, as in OpError.Op and Attempt.Op: the
	// method's name, except GetObject for ReadRange, ListObjectsV2 for
	// List, GetObjectAcl, PutObjectAcl, GetBucketAcl, PutBucketAcl,
	// GetBucketCors, PutBucketCors, DeleteBucketCors,
	// GetBucketLifecycleConfiguration and PutBucketLifecycleConfiguration.
	Op     string
	Bucket string
	Key    string // "" for bucket operations; the prefix for listings
	Part   int32  // UploadPart and UploadPartCopy
	// Local: the call sends no request (PresignGetObject signs a URL).
	Local bool
}

// Around runs one call. It calls next at most once, with ctx or a context
// derived from it, and returns next's error, or its own when it does not
// call next. An error of its own must be an *OpError, as a Store's are.
type Around func(ctx context.Context, c Call, next func(context.Context) error) error

// Wrap returns a Store that runs every call of s through around: the one
// place that forwards the 39 methods, so that each decorator (Limit,
// Count, faultstore) is only its Around.
func Wrap(s Store, around Around) Store {
	return &wrapped{s: s, around: around}
}

// OpError returns the *OpError a decorator gives for c when it fails the
// call itself with err (a sentinel or a context error).
func (c Call) OpError(err error) *OpError {
	return &OpError{Op: c.Op, Bucket: c.Bucket, Key: c.Key, Err: err}
}

type wrapped struct {
	s      Store
	around Around
}

var _ Store = (*wrapped)(nil)

func (w *wrapped) HeadObject(ctx context.Context, bucket, key string, opts ReadOptions) (info ObjectInfo, err error) {
	err = w.around(ctx, Call{Op: "HeadObject", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		info, err = w.s.HeadObject(ctx, bucket, key, opts)
		return err
	})
	return info, err
}

func (w *wrapped) List(ctx context.Context, req ListRequest) (page ListPage, err error) {
	err = w.around(ctx, Call{Op: "ListObjectsV2", Bucket: req.Bucket, Key: req.Prefix}, func(ctx context.Context) (err error) {
		page, err = w.s.List(ctx, req)
		return err
	})
	return page, err
}

func (w *wrapped) ReadRange(ctx context.Context, bucket, key string, off int64, p []byte, opts ReadOptions) (n int, err error) {
	err = w.around(ctx, Call{Op: "GetObject", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		n, err = w.s.ReadRange(ctx, bucket, key, off, p, opts)
		return err
	})
	return n, err
}

func (w *wrapped) PutObject(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, opts WriteOptions) (info ObjectInfo, err error) {
	err = w.around(ctx, Call{Op: "PutObject", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		info, err = w.s.PutObject(ctx, bucket, key, body, size, opts)
		return err
	})
	return info, err
}

func (w *wrapped) CreateMultipartUpload(ctx context.Context, bucket, key string, opts WriteOptions) (id string, err error) {
	err = w.around(ctx, Call{Op: "CreateMultipartUpload", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		id, err = w.s.CreateMultipartUpload(ctx, bucket, key, opts)
		return err
	})
	return id, err
}

func (w *wrapped) UploadPart(ctx context.Context, up Upload, part int32, body io.ReadSeeker, size int64) (p Part, err error) {
	err = w.around(ctx, Call{Op: "UploadPart", Bucket: up.Bucket, Key: up.Key, Part: part}, func(ctx context.Context) (err error) {
		p, err = w.s.UploadPart(ctx, up, part, body, size)
		return err
	})
	return p, err
}

func (w *wrapped) UploadPartCopy(ctx context.Context, up Upload, part int32, src CopySource, r Range) (p Part, err error) {
	err = w.around(ctx, Call{Op: "UploadPartCopy", Bucket: up.Bucket, Key: up.Key, Part: part}, func(ctx context.Context) (err error) {
		p, err = w.s.UploadPartCopy(ctx, up, part, src, r)
		return err
	})
	return p, err
}

func (w *wrapped) CompleteMultipartUpload(ctx context.Context, up Upload, parts []Part) (info ObjectInfo, err error) {
	err = w.around(ctx, Call{Op: "CompleteMultipartUpload", Bucket: up.Bucket, Key: up.Key}, func(ctx context.Context) (err error) {
		info, err = w.s.CompleteMultipartUpload(ctx, up, parts)
		return err
	})
	return info, err
}

func (w *wrapped) AbortMultipartUpload(ctx context.Context, up Upload) error {
	return w.around(ctx, Call{Op: "AbortMultipartUpload", Bucket: up.Bucket, Key: up.Key}, func(ctx context.Context) error {
		return w.s.AbortMultipartUpload(ctx, up)
	})
}

func (w *wrapped) ListMultipartUploads(ctx context.Context, bucket, prefix string) (ups []Upload, err error) {
	err = w.around(ctx, Call{Op: "ListMultipartUploads", Bucket: bucket, Key: prefix}, func(ctx context.Context) (err error) {
		ups, err = w.s.ListMultipartUploads(ctx, bucket, prefix)
		return err
	})
	return ups, err
}

func (w *wrapped) CopyObject(ctx context.Context, src CopySource, bucket, key string, opts CopyOptions) (info ObjectInfo, err error) {
	err = w.around(ctx, Call{Op: "CopyObject", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		info, err = w.s.CopyObject(ctx, src, bucket, key, opts)
		return err
	})
	return info, err
}

func (w *wrapped) DeleteObject(ctx context.Context, bucket, key string) error {
	return w.around(ctx, Call{Op: "DeleteObject", Bucket: bucket, Key: key}, func(ctx context.Context) error {
		return w.s.DeleteObject(ctx, bucket, key)
	})
}

func (w *wrapped) ListBuckets(ctx context.Context) (bs []BucketInfo, err error) {
	err = w.around(ctx, Call{Op: "ListBuckets"}, func(ctx context.Context) (err error) {
		bs, err = w.s.ListBuckets(ctx)
		return err
	})
	return bs, err
}

func (w *wrapped) HeadBucket(ctx context.Context, bucket string) error {
	return w.around(ctx, Call{Op: "HeadBucket", Bucket: bucket}, func(ctx context.Context) error {
		return w.s.HeadBucket(ctx, bucket)
	})
}

func (w *wrapped) GetObjectTagging(ctx context.Context, bucket, key string) (tags []Tag, err error) {
	err = w.around(ctx, Call{Op: "GetObjectTagging", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		tags, err = w.s.GetObjectTagging(ctx, bucket, key)
		return err
	})
	return tags, err
}

func (w *wrapped) PutObjectTagging(ctx context.Context, bucket, key string, tags []Tag) error {
	return w.around(ctx, Call{Op: "PutObjectTagging", Bucket: bucket, Key: key}, func(ctx context.Context) error {
		return w.s.PutObjectTagging(ctx, bucket, key, tags)
	})
}

func (w *wrapped) DeleteObjectTagging(ctx context.Context, bucket, key string) error {
	return w.around(ctx, Call{Op: "DeleteObjectTagging", Bucket: bucket, Key: key}, func(ctx context.Context) error {
		return w.s.DeleteObjectTagging(ctx, bucket, key)
	})
}

func (w *wrapped) GetObjectACL(ctx context.Context, bucket, key string) (acl ACL, err error) {
	err = w.around(ctx, Call{Op: "GetObjectAcl", Bucket: bucket, Key: key}, func(ctx context.Context) (err error) {
		acl, err = w.s.GetObjectACL(ctx, bucket, key)
		return err
	})
	return acl, err
}

func (w *wrapped) PutObjectACL(ctx context.Context, bucket, key, canned string) error {
	return w.around(ctx, Call{Op: "PutObjectAcl", Bucket: bucket, Key: key}, func(ctx context.Context) error {
		return w.s.PutObjectACL(ctx, bucket, key, canned)
	})
}

func (w *wrapped) RestoreObject(ctx context.Context, bucket, key string, days int, tier string) error {
	return w.around(ctx, Call{Op: "RestoreObject", Bucket: bucket, Key: key}, func(ctx context.Context) error {
		return w.s.RestoreObject(ctx, bucket, key, days, tier)
	})
}

func (w *wrapped) PresignGetObject(ctx context.Context, bucket, key string, expiry time.Duration, opts ReadOptions) (url string, err error) {
	err = w.around(ctx, Call{Op: "PresignGetObject", Bucket: bucket, Key: key, Local: true}, func(ctx context.Context) (err error) {
		url, err = w.s.PresignGetObject(ctx, bucket, key, expiry, opts)
		return err
	})
	return url, err
}

func (w *wrapped) GetBucketTagging(ctx context.Context, bucket string) (tags []Tag, err error) {
	err = w.around(ctx, Call{Op: "GetBucketTagging", Bucket: bucket}, func(ctx context.Context) (err error) {
		tags, err = w.s.GetBucketTagging(ctx, bucket)
		return err
	})
	return tags, err
}

func (w *wrapped) PutBucketTagging(ctx context.Context, bucket string, tags []Tag) error {
	return w.around(ctx, Call{Op: "PutBucketTagging", Bucket: bucket}, func(ctx context.Context) error {
		return w.s.PutBucketTagging(ctx, bucket, tags)
	})
}

func (w *wrapped) DeleteBucketTagging(ctx context.Context, bucket string) error {
	return w.around(ctx, Call{Op: "DeleteBucketTagging", Bucket: bucket}, func(ctx context.Context) error {
		return w.s.DeleteBucketTagging(ctx, bucket)
	})
}

func (w *wrapped) GetBucketACL(ctx context.Context, bucket string) (acl ACL, err error) {
	err = w.around(ctx, Call{Op: "GetBucketAcl", Bucket: bucket}, func(ctx context.Context) (err error) {
		acl, err = w.s.GetBucketACL(ctx, bucket)
		return err
	})
	return acl, err
}

func (w *wrapped) PutBucketACL(ctx context.Context, bucket, canned string) error {
	return w.around(ctx, Call{Op: "PutBucketAcl", Bucket: bucket}, func(ctx context.Context) error {
		return w.s.PutBucketACL(ctx, bucket, canned)
	})
}

// getDoc and putDoc forward the bucket configuration documents, which
// all have the same shape.
func (w *wrapped) getDoc(ctx context.Context, op, bucket string, get func(context.Context, string) (string, error)) (doc string, err error) {
	err = w.around(ctx, Call{Op: op, Bucket: bucket}, func(ctx context.Context) (err error) {
		doc, err = get(ctx, bucket)
		return err
	})
	return doc, err
}

func (w *wrapped) setDoc(ctx context.Context, op, bucket, doc string, set func(context.Context, string, string) error) error {
	return w.around(ctx, Call{Op: op, Bucket: bucket}, func(ctx context.Context) error {
		return set(ctx, bucket, doc)
	})
}

func (w *wrapped) deleteDoc(ctx context.Context, op, bucket string, del func(context.Context, string) error) error {
	return w.around(ctx, Call{Op: op, Bucket: bucket}, func(ctx context.Context) error {
		return del(ctx, bucket)
	})
}

func (w *wrapped) GetBucketPolicy(ctx context.Context, bucket string) (string, error) {
	return w.getDoc(ctx, "GetBucketPolicy", bucket, w.s.GetBucketPolicy)
}

func (w *wrapped) PutBucketPolicy(ctx context.Context, bucket, policy string) error {
	return w.setDoc(ctx, "PutBucketPolicy", bucket, policy, w.s.PutBucketPolicy)
}

func (w *wrapped) DeleteBucketPolicy(ctx context.Context, bucket string) error {
	return w.deleteDoc(ctx, "DeleteBucketPolicy", bucket, w.s.DeleteBucketPolicy)
}

func (w *wrapped) GetBucketCORS(ctx context.Context, bucket string) (string, error) {
	return w.getDoc(ctx, "GetBucketCors", bucket, w.s.GetBucketCORS)
}

func (w *wrapped) PutBucketCORS(ctx context.Context, bucket, xmlDoc string) error {
	return w.setDoc(ctx, "PutBucketCors", bucket, xmlDoc, w.s.PutBucketCORS)
}

func (w *wrapped) DeleteBucketCORS(ctx context.Context, bucket string) error {
	return w.deleteDoc(ctx, "DeleteBucketCors", bucket, w.s.DeleteBucketCORS)
}

func (w *wrapped) GetBucketLifecycle(ctx context.Context, bucket string) (string, error) {
	return w.getDoc(ctx, "GetBucketLifecycleConfiguration", bucket, w.s.GetBucketLifecycle)
}

func (w *wrapped) PutBucketLifecycle(ctx context.Context, bucket, xmlDoc string) error {
	return w.setDoc(ctx, "PutBucketLifecycleConfiguration", bucket, xmlDoc, w.s.PutBucketLifecycle)
}

func (w *wrapped) DeleteBucketLifecycle(ctx context.Context, bucket string) error {
	return w.deleteDoc(ctx, "DeleteBucketLifecycle", bucket, w.s.DeleteBucketLifecycle)
}

func (w *wrapped) GetBucketVersioning(ctx context.Context, bucket string) (string, error) {
	return w.getDoc(ctx, "GetBucketVersioning", bucket, w.s.GetBucketVersioning)
}

func (w *wrapped) PutBucketVersioning(ctx context.Context, bucket, status string) error {
	return w.setDoc(ctx, "PutBucketVersioning", bucket, status, w.s.PutBucketVersioning)
}

func (w *wrapped) CreateBucket(ctx context.Context, bucket, region string) error {
	return w.setDoc(ctx, "CreateBucket", bucket, region, w.s.CreateBucket)
}

func (w *wrapped) DeleteBucket(ctx context.Context, bucket string) error {
	return w.deleteDoc(ctx, "DeleteBucket", bucket, w.s.DeleteBucket)
}
