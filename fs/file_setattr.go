package fs

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/writeback"
)

var _ = (gofs.NodeSetattrer)((*fileNode)(nil))

// Setattr changes size (through a staged writer) and mode, owner and mtime
// (s3fs's x-amz-meta-mode, -uid, -gid and -mtime). On a file open for
// writing the change goes out with its next upload; otherwise it is made
// now, by a server-side copy when only metadata changes.
func (n *fileNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	size, hasSize := in.GetSize()
	change := metadataChange(in)
	if !hasSize && change == nil {
		// atime or ctime only: S3 keeps neither.
		return n.Getattr(ctx, fh, out)
	}
	if n.fs.readOnly() {
		return syscall.EROFS
	}
	// A change while the program has the file open (ftruncate, fchmod,
	// futimens, or chmod by path meanwhile) goes out with the upload at
	// close; one to a file nobody has open is in S3 when it returns. (The
	// kernel sends no handle with fchmod or futimens, and releases handles
	// only after close returns, so "open" is "not yet flushed".)
	n.mu.Lock()
	open := n.wr != nil && n.wr.unflushed > 0
	n.mu.Unlock()
	if errno := n.setattr(ctx, hasSize, int64(size), change, !open); errno != 0 {
		return errno
	}
	return n.Getattr(ctx, fh, out)
}

func (n *fileNode) setattr(ctx context.Context, hasSize bool, size int64, change func(*writeback.Meta), commitNow bool) syscall.Errno {
	ctx = uninterruptible(ctx)
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	w := n.writer()
	temporary := w == nil
	if temporary {
		info, err := n.fullInfo(ctx)
		if err != nil {
			return n.fail("setattr", err)
		}
		bucket, key := n.location()
		if hasSize && size == 0 {
			w, err = n.fs.wb.Create(bucket, key, writeback.Meta{ContentType: info.ContentType, UserMetadata: info.Metadata})
		} else {
			w, err = n.fs.wb.Open(bucket, key, info)
		}
		if err != nil {
			return n.fail("setattr", err)
		}
		if n.ownUpload(&info) {
			w.BaseIsOurs()
		}
		if key := n.ssecOwn(); key != nil {
			w.UseKey(key)
		}
		defer func() {
			if err := w.Close(); err != nil {
				n.fs.log.Error("setattr left data not in S3", "err", err)
			}
		}()
	}
	if hasSize {
		if err := w.Truncate(ctx, size); err != nil {
			return n.fail("truncate", err)
		}
	}
	if change != nil {
		w.SetMeta(func(m *writeback.Meta) {
			m.UserMetadata = maps.Clone(m.UserMetadata)
			if m.UserMetadata == nil {
				m.UserMetadata = make(map[string]string)
			}
			change(m)
		})
	}
	if temporary {
		return n.commit(ctx, w)
	}
	if commitNow && n.fs.cfg.AsyncUpload {
		// tar and cp -p set times and modes after close: the change goes
		// out with the queued upload instead of waiting for it.
		n.queue(w)
		return 0
	}
	if commitNow {
		return n.commit(ctx, w)
	}
	return 0
}

// metadataChange returns what a setattr does to s3fs's metadata, or nil.
func metadataChange(in *fuse.SetAttrIn) func(*writeback.Meta) {
	mode, hasMode := in.GetMode()
	uid, hasUID := in.GetUID()
	gid, hasGID := in.GetGID()
	mtime, hasMtime := in.GetMTime()
	if !hasMode && !hasUID && !hasGID && !hasMtime {
		return nil
	}
	return func(meta *writeback.Meta) {
		m := meta.UserMetadata
		if hasMode {
			kind := uint32(syscall.S_IFREG)
			if old, err := strconv.ParseUint(m[metaMode], 10, 32); err == nil && old&syscall.S_IFMT != 0 {
				kind = uint32(old) & syscall.S_IFMT
			}
			m[metaMode] = modeMeta(kind | mode&07777)
		}
		if hasUID {
			m[metaUID] = strconv.FormatUint(uint64(uid), 10)
		}
		if hasGID {
			m[metaGID] = strconv.FormatUint(uint64(gid), 10)
		}
		if hasMtime {
			m[metaMtime] = formatUnixTime(mtime)
		}
	}
}

// formatUnixTime is s3fs's mtime form: whole seconds, with nanoseconds
// after a dot only when there are any.
func formatUnixTime(t time.Time) string {
	if t.Nanosecond() == 0 {
		return strconv.FormatInt(t.Unix(), 10)
	}
	return fmt.Sprintf("%d.%09d", t.Unix(), t.Nanosecond())
}
