package fs

import (
	"context"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/s3mount/s3mount/s3io"
)

var (
	_ = (gofs.NodeGetxattrer)((*dirNode)(nil))
	_ = (gofs.NodeSetxattrer)((*dirNode)(nil))
	_ = (gofs.NodeRemovexattrer)((*dirNode)(nil))
	_ = (gofs.NodeListxattrer)((*dirNode)(nil))
)

// Directories have xattrs only when they are a bucket (the root of a
// bucket mount without a prefix, or a bucket of an all-buckets mount):
// the bucket's ACL, tags, policy, CORS, lifecycle and versioning.

// isBucket reports whether the directory is a whole bucket.
func (d *dirNode) isBucket() bool { return d.path() == "" }

var bucketXattrs = []string{xACL, xTags, xPolicy, xCORS, xLifecycle, xVersioning}

func (d *dirNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if attr == xStatus && d.IsRoot() {
		return d.fs.statusXattr(ctx, dest)
	}
	if !d.isBucket() || !strings.HasPrefix(attr, "s3.") {
		return 0, syscall.ENODATA
	}
	val, err := d.bucketXattr(ctx, attr)
	if err != nil {
		return 0, d.fs.xattrErrno("getxattr", attr, err)
	}
	return xattrValue(val, dest)
}

func (d *dirNode) bucketXattr(ctx context.Context, attr string) (string, error) {
	st, b := d.fs.store, d.bucket
	var val string
	var err error
	switch attr {
	case xACL:
		var acl s3io.ACL
		if acl, err = st.GetBucketACL(ctx, b); err == nil {
			val = formatACL(acl)
		}
	case xTags:
		var tags []s3io.Tag
		if tags, err = st.GetBucketTagging(ctx, b); err == nil {
			val = formatTags(tags)
		}
	case xPolicy:
		val, err = st.GetBucketPolicy(ctx, b)
	case xCORS:
		val, err = st.GetBucketCORS(ctx, b)
	case xLifecycle:
		val, err = st.GetBucketLifecycle(ctx, b)
	case xVersioning:
		val, err = st.GetBucketVersioning(ctx, b)
	}
	if err == nil && val == "" {
		err = syscall.ENODATA
	}
	return val, err
}

func (d *dirNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	var names []string
	if d.isBucket() {
		for _, attr := range bucketXattrs {
			if _, err := d.bucketXattr(ctx, attr); err == nil {
				names = append(names, attr)
			}
		}
	}
	return xattrList(names, dest)
}

func (d *dirNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	ctx = uninterruptible(ctx)
	if attr == xSync {
		return d.syncDir(ctx)
	}
	if !d.isBucket() {
		return syscall.ENOTSUP
	}
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	st, b, text := d.fs.store, d.bucket, string(data)
	var err error
	switch attr {
	case xACL:
		var canned string
		if canned, err = parseCanned(data); err == nil {
			err = st.PutBucketACL(ctx, b, canned)
		}
	case xTags:
		var tags []s3io.Tag
		if tags, err = parseTags(data, s3io.MaxBucketTags); err == nil {
			err = st.PutBucketTagging(ctx, b, tags)
		}
	case xPolicy:
		err = st.PutBucketPolicy(ctx, b, text)
	case xCORS:
		err = st.PutBucketCORS(ctx, b, text)
	case xLifecycle:
		err = st.PutBucketLifecycle(ctx, b, text)
	case xVersioning:
		err = st.PutBucketVersioning(ctx, b, strings.TrimSpace(text))
	default:
		return syscall.ENOTSUP
	}
	if err != nil {
		return d.fs.xattrErrno("setxattr", attr, err)
	}
	return 0
}

func (d *dirNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if !d.isBucket() {
		return syscall.ENODATA
	}
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	st, b := d.fs.store, d.bucket
	var err error
	switch attr {
	case xTags:
		err = st.DeleteBucketTagging(ctx, b)
	case xPolicy:
		err = st.DeleteBucketPolicy(ctx, b)
	case xCORS:
		err = st.DeleteBucketCORS(ctx, b)
	case xLifecycle:
		err = st.DeleteBucketLifecycle(ctx, b)
	case xACL, xVersioning:
		return syscall.EPERM
	default:
		return syscall.ENODATA
	}
	if err != nil {
		return d.fs.xattrErrno("removexattr", attr, err)
	}
	return 0
}
