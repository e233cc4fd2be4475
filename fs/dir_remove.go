package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/s3mount/s3mount/s3io"
)

var (
	_ = (gofs.NodeUnlinker)((*dirNode)(nil))
	_ = (gofs.NodeRmdirer)((*dirNode)(nil))
)

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if d.fs.cfg.ReadOnly || d.fs.wb == nil {
		return syscall.EROFS
	}
	key := d.path() + name
	if child := d.GetChild(name); child != nil {
		if n, ok := child.Operations().(*fileNode); ok {
			// Open handles keep reading the staged bytes; nothing is
			// uploaded when they close.
			n.mu.Lock()
			if n.w != nil {
				n.w.Discard()
			}
			n.mu.Unlock()
		}
	}
	if err := d.fs.store.DeleteObject(ctx, d.bucket, key); err != nil {
		return d.fail("unlink", key, err)
	}
	d.touch()
	return 0
}

// Rmdir removes an empty directory: its marker, if it has one. A
// directory with any key under it (its marker aside) is not empty.
func (d *dirNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if d.fs.cfg.ReadOnly || d.fs.wb == nil {
		return syscall.EROFS
	}
	prefix := d.path() + name + "/"
	empty, err := d.fs.emptyDir(ctx, d.bucket, prefix)
	if err != nil {
		return d.fail("rmdir", prefix, err)
	}
	if !empty {
		return syscall.ENOTEMPTY
	}
	if err := d.fs.store.DeleteObject(ctx, d.bucket, prefix); err != nil {
		return d.fail("rmdir", prefix, err)
	}
	d.touch()
	return 0
}

// emptyDir reports whether no key but the marker starts with prefix.
func (f *FS) emptyDir(ctx context.Context, bucket, prefix string) (bool, error) {
	page, err := f.store.List(ctx, s3io.ListRequest{Bucket: bucket, Prefix: prefix, MaxKeys: 2})
	if err != nil {
		return false, err
	}
	for _, o := range page.Objects {
		if o.Key != prefix {
			return false, nil
		}
	}
	return true, nil
}
