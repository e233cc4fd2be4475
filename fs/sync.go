package fs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/writeback"
)

// xSync, set on a directory, waits until every file closed under it is in
// S3 (asynchronous mode queues their uploads): `s3mount sync` sets it on
// the mount point.
const xSync = "s3.sync"

// xUploadState tells whether a file's current bytes are in S3.
const xUploadState = "s3.upload_state"

// SyncAll uploads every file whose close left its upload queued or failed,
// and returns the first error: for a clean unmount in asynchronous mode.
//
// The kernel's last releases may still be in flight when the mount ends,
// so it takes every staged writer with bytes S3 lacks, not only those
// already queued: at a clean unmount every program has closed its files.
func (f *FS) SyncAll(ctx context.Context) error {
	return f.syncUnder(ctx, "", "", true)
}

// syncUnder commits the staged writers of files under bucket/prefix (""
// bucket: all) whose program closed them (all of them with open), several
// at once.
func (f *FS) syncUnder(ctx context.Context, bucket, prefix string, open bool) error {
	var mu sync.Mutex
	first := f.flushMarkers(ctx, bucket, prefix)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for _, w := range f.writers.all() {
		b, k := w.Location()
		if bucket != "" && (b != bucket || !strings.HasPrefix(k, prefix)) ||
			!w.UploadPending() || !open && !w.ClosedByProgram() {
			continue
		}
		g.Go(func() error {
			if _, err := w.Commit(gctx); err != nil && !errors.Is(err, writeback.ErrDiscarded) {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
			return nil // the others are still worth uploading
		})
	}
	g.Wait()
	return first
}

// syncDir is a directory's fsync, or its s3.sync: the attribute changes
// of directories under it written behind, and in asynchronous mode the
// queued uploads of files under it, reach S3 first.
func (d *dirNode) syncDir(ctx context.Context) syscall.Errno {
	ctx = uninterruptible(ctx)
	var err error
	if d.fs.cfg.AsyncUpload {
		err = d.fs.syncUnder(ctx, d.bucket, d.path(), false)
	} else {
		err = d.fs.flushMarkers(ctx, d.bucket, d.path())
	}
	if err != nil {
		return d.fail("sync", d.path(), err)
	}
	return 0
}

// uploadState is "uploaded" when S3 has the file's current bytes, else
// "pending".
func (n *fileNode) uploadState() string {
	if w := n.writer(); w != nil && w.UploadPending() {
		return "pending"
	}
	return "uploaded"
}
