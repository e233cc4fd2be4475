package fs

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

// fileNode is one object.
type fileNode struct {
	gofs.Inode
	fs     *FS
	bucket string
	key    string

	mu       sync.Mutex
	info     s3io.ObjectInfo
	checked  time.Time // when info was last confirmed by S3
	openedAs string    // version of the object at the last open, for the kernel page cache
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
)

// fileChild returns the child file name with info, reusing its node when
// the kernel still has it.
func (d *dirNode) fileChild(ctx context.Context, name string, info *s3io.ObjectInfo, out *fuse.EntryOut) *gofs.Inode {
	key := d.prefix + name
	ino := d.fs.fileIno(d.bucket, key)
	if child := d.GetChild(name); child != nil {
		if n, ok := child.Operations().(*fileNode); ok {
			merged := n.update(*info)
			d.fs.fileAttr(&merged, ino, &out.Attr)
			return child
		}
	}
	n := &fileNode{fs: d.fs, bucket: d.bucket, key: key, info: *info, checked: time.Now()}
	d.fs.fileAttr(info, ino, &out.Attr)
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: out.Attr.Mode & syscall.S_IFMT, Ino: ino})
}

// update records new info from S3 and returns what the node now holds. A
// listing carries no metadata; when the object is unchanged the metadata
// from an earlier HeadObject is kept. A changed object drops the kernel's
// cached pages.
func (n *fileNode) update(info s3io.ObjectInfo) s3io.ObjectInfo {
	n.mu.Lock()
	old := n.info
	if !info.HasMetadata && old.HasMetadata && versionOf(&old) == versionOf(&info) {
		info.Metadata, info.ContentType, info.HasMetadata = old.Metadata, old.ContentType, true
		info.SSE, info.SSEKMSKeyID, info.VersionID = old.SSE, old.SSEKMSKeyID, old.VersionID
	}
	n.info, n.checked = info, time.Now()
	n.mu.Unlock()
	if versionOf(&old) != versionOf(&info) {
		// Not from inside this request: the kernel may hold locks we need.
		go n.NotifyContent(0, 0)
	}
	return info
}

// freshInfo returns the node's info when it is within the TTL.
func (n *fileNode) freshInfo() (s3io.ObjectInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.info, n.fs.fresh(n.checked)
}

// currentInfo returns the node's info, asking S3 again when it is stale.
func (n *fileNode) currentInfo(ctx context.Context) (s3io.ObjectInfo, error) {
	if info, ok := n.freshInfo(); ok {
		return info, nil
	}
	info, err := n.fs.store.HeadObject(ctx, n.bucket, n.key, n.fs.cfg.ReadOptions)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	info.Key = n.key
	return n.update(info), nil
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	info, err := n.currentInfo(ctx)
	if err != nil {
		n.fs.log.Debug("getattr failed", "bucket", n.bucket, "key", printableKey(n.key), "err", err)
		return toErrno(err)
	}
	n.fs.fileAttr(&info, n.StableAttr().Ino, &out.Attr)
	return 0
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		// Writes arrive with the write path; until then the mount is read-only.
		return nil, 0, syscall.EROFS
	}
	info, err := n.currentInfo(ctx)
	if err != nil {
		n.fs.log.Debug("open failed", "bucket", n.bucket, "key", printableKey(n.key), "err", err)
		return nil, 0, toErrno(err)
	}
	version := versionOf(&info)
	n.mu.Lock()
	keep := version != "" && n.openedAs == version
	n.openedAs = version
	n.mu.Unlock()
	var fuseFlags uint32
	if keep {
		// Same object as at the last open: the kernel's pages are still good.
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	return n.fs.newReadHandle(n.bucket, n.key, info), fuseFlags, 0
}

// versionOf names one version of an object's content: its ETag, or size and
// mtime for gateways that send no ETag.
func versionOf(info *s3io.ObjectInfo) string {
	if info.ETag != "" {
		return info.ETag
	}
	return fmt.Sprintf("%d@%d", info.Size, info.ModTime.UnixNano())
}
