package fs

import (
	"context"
	"os"
	"slices"
	"strings"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/writeback"
)

// xStatus, read on the mount's root, is the text of `s3mount status`.
// Only the user who runs the daemon and root may read it: the caller's uid
// comes from the kernel with each FUSE request, so it cannot be forged,
// and with --allow-other every other user gets EACCES. It lists staged
// paths and object keys, which other users of a shared mount must not see.
const xStatus = "s3.status"

// UploadStatus is one staged file, as `s3mount status` shows it.
type UploadStatus struct {
	writeback.UploadState
	// Retained: closed by every program, its upload queued or retried in
	// the background; otherwise a program still has it open.
	Retained bool
}

// Uploads returns the mount's staged files, sorted by bucket and key. It
// never waits for an upload.
func (f *FS) Uploads() []UploadStatus {
	f.writers.mu.Lock()
	ws := make([]*writeback.File, 0, len(f.writers.ws))
	for w := range f.writers.ws {
		ws = append(ws, w)
	}
	f.writers.mu.Unlock()
	out := make([]UploadStatus, 0, len(ws))
	for _, w := range ws {
		out = append(out, UploadStatus{UploadState: w.State(), Retained: f.retained.owner(w) != nil})
	}
	slices.SortFunc(out, func(a, b UploadStatus) int {
		if c := strings.Compare(a.Bucket, b.Bucket); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// RetainedCount is the number of files closed with their upload not done
// (queued, or failed and retried).
func (f *FS) RetainedCount() int {
	f.retained.mu.Lock()
	defer f.retained.mu.Unlock()
	return len(f.retained.nodes)
}

// statusXattr answers a read of s3.status on the root.
func (f *FS) statusXattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	if f.cfg.Status == nil {
		return 0, syscall.ENODATA
	}
	if !ownerOrRoot(ctx) {
		return 0, syscall.EACCES
	}
	return xattrValue(string(f.cfg.Status()), dest)
}

// ownerOrRoot reports whether the request comes from root or from the
// user the daemon runs as.
func ownerOrRoot(ctx context.Context) bool {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return false
	}
	return caller.Uid == 0 || int(caller.Uid) == os.Getuid()
}
