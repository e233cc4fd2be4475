package fs

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
)

// readHandle is an open, read-only file: one version of one object, read
// through the block cache with its own prefetch state.
type readHandle struct {
	fs *FS
	n  *fileNode // the file opened, followed when it is renamed

	mu     sync.Mutex // guards key, reader and old
	bucket string
	key    string
	reader *cache.Reader
	old    []*cache.Reader // readers of keys left by renames, closed at release
}

var (
	_ = (gofs.FileReader)((*readHandle)(nil))
	_ = (gofs.FileReleaser)((*readHandle)(nil))
	_ = (gofs.FileFsyncer)((*readHandle)(nil))
)

func (f *FS) newReadHandle(n *fileNode, bucket, key string, info s3io.ObjectInfo, opts s3io.ReadOptions) *readHandle {
	f.openHandles.Add(1)
	return &readHandle{fs: f, n: n, bucket: bucket, key: key, reader: f.cache.NewReader(f.cacheObject(bucket, key, &info, opts))}
}

// current returns the handle's key and reader.
func (h *readHandle) current() (string, *cache.Reader) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.key, h.reader
}

// followRename moves the handle to the key its file was renamed to since
// it was opened (the old key is gone: reads of it found nothing), as a
// descriptor follows its file on a local disk. It reports whether it did.
func (h *readHandle) followRename(ctx context.Context, from string) bool {
	bucket, key := h.n.location()
	if key == from {
		return false
	}
	info, err := h.n.currentInfo(ctx)
	if err != nil {
		return false
	}
	reader := h.fs.cache.NewReader(h.fs.cacheObject(bucket, key, &info, h.n.readOptions()))
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.key != from { // another read followed it meanwhile
		reader.Close()
		return true
	}
	h.old = append(h.old, h.reader)
	h.bucket, h.key, h.reader = bucket, key, reader
	return true
}

// cacheObject is how the block cache knows one version of an object. Its
// ID names the bucket, key and version; a read with an SSE-C key adds the
// key's fingerprint, so that its decrypted blocks are found again only by
// reads with the same key, and keeps them off the disk cache unless
// --cache-sse-c says otherwise.
func (f *FS) cacheObject(bucket, key string, info *s3io.ObjectInfo, opts s3io.ReadOptions) cache.Object {
	opts.IfMatch = info.ETag // never mix bytes of two versions
	id := f.salt + bucket + "\x00" + key + "\x00" + versionOf(info)
	if len(opts.SSEC) > 0 {
		sum := sha256.Sum256(append([]byte("s3mount sse-c fingerprint\x00"), opts.SSEC...))
		id += "\x00sse-c:" + hex.EncodeToString(sum[:8])
	}
	return cache.Object{
		ID:     id,
		Size:   info.Size,
		OnDisk: len(opts.SSEC) == 0 || f.cfg.CacheSSEC,
		Fetch: func(ctx context.Context, off int64, p []byte, filled func(n int)) (int, error) {
			opts := opts
			opts.Filled = filled
			return f.store.ReadRange(ctx, bucket, key, off, p, opts)
		},
	}
}

func (h *readHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	ctx, done := killable(ctx)
	defer done()
	key, reader := h.current()
	n, span, err := reader.ReadSpan(ctx, dest, off)
	if errors.Is(err, s3io.ErrNotFound) && h.followRename(ctx, key) {
		key, reader = h.current()
		n, span, err = reader.ReadSpan(ctx, dest, off)
	}
	if span != nil {
		return &spanResult{span}, 0
	}
	if err != nil {
		level := h.fs.log.Warn
		if errors.Is(err, context.Canceled) {
			level = h.fs.log.Debug
		}
		level("read failed", "bucket", h.bucket, "key", printableKey(key), "offset", off, "err", err)
		if errors.Is(err, s3io.ErrInvalidObjectState) {
			h.fs.log.Warn("object is archived (Glacier or Deep Archive) and cannot be read until restored: "+
				"setfattr -n s3.restore -v DAYS on it", "bucket", h.bucket, "key", printableKey(h.key))
		}
		if errors.Is(err, s3io.ErrSSECKey) {
			h.fs.log.Warn("object needs its SSE-C key: --sse-c-key-file, or setfattr -n s3.sse_c_key on it",
				"bucket", h.bucket, "key", printableKey(h.key))
		}
		if errors.Is(err, s3io.ErrPreconditionFailed) {
			h.fs.log.Warn("object changed in S3 while open; reopen the file to read the new version",
				"bucket", h.bucket, "key", printableKey(h.key))
		}
		return nil, toErrno(err)
	}
	return fuse.ReadResultData(dest[:n]), 0
}

// Fsync of a read-only descriptor has nothing to flush: sync(1) and
// programs that fsync every file they opened must not fail on it. (A
// file open for writing elsewhere gets a writeHandle even when opened
// read-only, and its fsync uploads.)
func (h *readHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return 0 }

func (h *readHandle) Release(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.reader.Close()
	for _, r := range h.old {
		r.Close()
	}
	h.fs.log.Debug("closed", "bucket", h.bucket, "key", printableKey(h.key), "cache", h.fs.cache.Stats())
	h.fs.openHandles.Add(-1)
	return 0
}

// spanResult sends a range of a block as it lies, in memory or in the
// mapped pages of a disk-cache block file: go-fuse writes it to /dev/fuse
// with writev (it recognises the Slices method), so the bytes are copied
// once, by the kernel, and a disk block never into this process's memory.
type spanResult struct{ span *cache.Span }

var _ fuse.ReadResult = (*spanResult)(nil)

func (r *spanResult) Slices() ([][]byte, fuse.Status) { return [][]byte{r.span.Data}, fuse.OK }

func (r *spanResult) Bytes(buf []byte) ([]byte, fuse.Status) {
	return append(buf[:0], r.span.Data...), fuse.OK
}

func (r *spanResult) Size() int { return len(r.span.Data) }
func (r *spanResult) Done()     { r.span.Release() }
