package fs

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
)

var _ = (gofs.FileAllocater)((*writeHandle)(nil))

// Allocate is fallocate(2). S3 has no blocks to reserve, so plain
// fallocate (mode 0, what posix_fallocate sends) does the one thing a
// program can see: a file shorter than off+size grows to it, reading as
// zeros, and is uploaded like any other change. The other modes
// (KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE, ...) give EOPNOTSUPP and change
// nothing; glibc's posix_fallocate and most programs fall back on that.
//
// The size check and the growth are two steps: a write past off+size
// racing this call on another descriptor may be cut back to off+size.
func (h *writeHandle) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if mode != 0 {
		return syscall.EOPNOTSUPP
	}
	end := off + size
	if end < off || end > 1<<63-1 {
		return syscall.EFBIG
	}
	if int64(end) <= h.w.Size() {
		return 0
	}
	h.setFlushed(false) // like a write: goes out with the next flush
	if err := h.w.Truncate(uninterruptible(ctx), int64(end)); err != nil {
		return h.n.fail("fallocate", err)
	}
	return 0
}
