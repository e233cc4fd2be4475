package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

var (
	_ = (gofs.NodeUnlinker)((*dirNode)(nil))
	_ = (gofs.NodeRmdirer)((*dirNode)(nil))
)

func (d *dirNode) Unlink(ctx context.Context, name string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	key := d.path() + name
	w, errno := d.detachChild(ctx, name)
	if errno != 0 {
		return errno
	}
	if err := d.fs.store.DeleteObject(ctx, d.bucket, key); err != nil {
		d.reattach(w)
		return d.fail("unlink", key, err)
	}
	d.markRemoved(name)
	d.touch()
	return 0
}

// detachChild prepares the file name for removal or replacement: a writer
// open on it stages every byte and stops uploading, so its handles keep
// working on the old file, as POSIX wants. It returns that writer (or
// nil), which the caller reattaches if the removal then fails.
func (d *dirNode) detachChild(ctx context.Context, name string) (*writeback.File, syscall.Errno) {
	child := d.GetChild(name)
	if child == nil {
		return nil, 0
	}
	n, ok := child.Operations().(*fileNode)
	if !ok {
		return nil, 0
	}
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	w := n.writer()
	if w == nil {
		return nil, 0
	}
	if err := w.Detach(ctx, d.fs.parkKey()); err != nil {
		return nil, n.fail("stage the bytes of an open file before its removal", err)
	}
	return w, 0
}

// reattach gives a writer detached for a removal that failed its key back:
// a failed namespace operation changes nothing, so the writer's data still
// reaches S3 at its next commit, or its close fails.
func (d *dirNode) reattach(w *writeback.File) {
	if w == nil {
		return
	}
	if err := w.Reattach(); err != nil {
		d.fs.log.Error("a writer detached for a removal that failed could not be reattached", "err", err)
	}
}

// Rmdir removes an empty directory: its marker, if it has one. A
// directory with any key under it (its marker aside) is not empty.
func (d *dirNode) Rmdir(ctx context.Context, name string) (errno syscall.Errno) {
	ctx = uninterruptible(ctx)
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	prefix := d.path() + name + "/"
	if child := d.GetChild(name); child != nil {
		if n, ok := child.Operations().(*dirNode); ok {
			// A marker rewrite waiting to be written must not bring the
			// directory back once it is gone.
			n.setattrMu.Lock()
			defer n.setattrMu.Unlock()
			defer func() {
				if errno == 0 {
					n.dropMarkerLocked()
				}
			}()
		}
	}
	if d.fs.writers.anyPendingUnder(d.bucket, prefix) || d.fs.markers.anyCreatingUnder(d.bucket, prefix) {
		return syscall.ENOTEMPTY // files or directories in it that S3 does not have yet
	}
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
