package fs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

// fileNode is one object (a regular file or an s3fs-style symlink). The
// kernel may hold a million of them, so the node is kept small (see
// nodeInfo): what only some files need (an SSE-C key of their own, the
// record of this mount's last upload) is in fileLater, and the write state
// in fileWriting, each nil until needed.
type fileNode struct {
	gofs.Inode
	fs     *FS
	bucket string

	mu      sync.Mutex
	key     string // changes when the file is renamed
	info    nodeInfo
	checked int64 // when info was last confirmed by S3 (a monoNow value)
	later   *fileLater
	// opened is set when the file was last opened for reading at the
	// version info holds: the kernel's cached pages are of that version.
	opened bool
	// removed is set when the file was unlinked or replaced by a rename
	// while the kernel still holds it (an open descriptor): it has no name
	// any more, so fstat says nlink 0 and asks S3 nothing.
	removed bool

	// wr is the node's write state, nil until it is first opened for
	// writing (see fileWriting).
	wr *fileWriting
}

// fileLater is the state of a file node that few files have (guarded by
// the node's mu).
type fileLater struct {
	ssec s3io.SSECustomerKey // this file's own SSE-C key (setxattr s3.sse_c_key), if any
	// wrote is the version this mount last uploaded, until wroteUntil (the
	// TTL): a listing page fetched before that upload must not replace it.
	wrote      string
	wroteUntil time.Time
	// guardsSet is set when the object may have tags or an ACL not of
	// this mount's upload: put since through the mount, or kept by a copy
	// of metadata onto an object another client made (see ownUpload).
	guardsSet bool
}

// laterLocked returns the node's fileLater, making it.
func (n *fileNode) laterLocked() *fileLater {
	if n.later == nil {
		n.later = &fileLater{}
	}
	return n.later
}

// newFileNode is the node of key, with info just confirmed by S3.
func (d *dirNode) newFileNode(key string, info *s3io.ObjectInfo) *fileNode {
	return &fileNode{fs: d.fs, bucket: d.bucket, key: key, info: packInfo(info), checked: monoNow()}
}

var (
	_ = (gofs.NodeGetattrer)((*fileNode)(nil))
	_ = (gofs.NodeOpener)((*fileNode)(nil))
	_ = (gofs.NodeReadlinker)((*fileNode)(nil))
)

// fileChild returns the child file name with info, reusing its node when
// the kernel still has it and it is still the same kind of file.
func (d *dirNode) fileChild(ctx context.Context, name string, info *s3io.ObjectInfo, out *fuse.EntryOut) *gofs.Inode {
	key := d.path() + name
	if child := d.GetChild(name); child != nil && !info.HasMetadata {
		if n, ok := child.Operations().(*fileNode); ok {
			// A listing knows no type, mode or mtime: what this node knows
			// (from a lookup, or because this mount wrote it) stays, for
			// the same object version. A symlink stays a symlink.
			if known, ok := n.knownAs(info); ok {
				info = &known
			}
		}
	}
	mode := fileMode(info, d.fs.cfg.FileMode)
	ino, key := d.fs.fileIno(d.bucket, key, mode)
	if child := d.GetChild(name); child != nil {
		if n, ok := child.Operations().(*fileNode); ok && child.StableAttr().Mode == mode&syscall.S_IFMT {
			if current, writing := n.writingInfo(); writing {
				// S3 has an older size than the program wrote: telling the
				// kernel would cut its reads short.
				d.fs.fileAttr(&current, child.StableAttr().Ino, &out.Attr)
				return child
			}
			merged := n.updateListed(*info)
			d.fs.fileAttr(&merged, child.StableAttr().Ino, &out.Attr)
			return child
		}
	}
	n := d.newFileNode(key, info)
	n.adoptRetained()
	if current, writing := n.writingInfo(); writing {
		info = &current
	}
	d.fs.fileAttr(info, ino, &out.Attr)
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: mode & syscall.S_IFMT, Ino: ino})
}

// knownAs returns the node's info with its metadata when it has metadata
// for the same object version as listed.
func (n *fileNode) knownAs(listed *s3io.ObjectInfo) (s3io.ObjectInfo, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	old := n.info.unpack(n.key)
	if !old.HasMetadata || versionOf(&old) != versionOf(listed) {
		return s3io.ObjectInfo{}, false
	}
	merged := *listed
	merged.Metadata, merged.ContentType, merged.HasMetadata = old.Metadata, old.ContentType, true
	merged.SSE, merged.SSEKMSKeyID, merged.VersionID = old.SSE, old.SSEKMSKeyID, old.VersionID
	return merged, true
}

// location returns the node's bucket and key.
func (n *fileNode) location() (bucket, key string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.bucket, n.key
}

// update records new info from S3 and returns what the node now holds. A
// listing carries no metadata; when the object is unchanged the metadata
// from an earlier HeadObject is kept. A changed object drops the kernel's
// cached pages.
func (n *fileNode) update(info s3io.ObjectInfo) s3io.ObjectInfo {
	n.mu.Lock()
	old := n.info.unpack(n.key)
	if !info.HasMetadata && old.HasMetadata && versionOf(&old) == versionOf(&info) {
		info.Metadata, info.ContentType, info.HasMetadata = old.Metadata, old.ContentType, true
		info.SSE, info.SSEKMSKeyID, info.VersionID = old.SSE, old.SSEKMSKeyID, old.VersionID
	}
	changed := versionOf(&old) != versionOf(&info)
	n.info, n.checked = packInfo(&info), monoNow()
	info = n.info.unpack(n.key) // as later reads of the node will see it
	if changed {
		n.opened = false
	}
	writing := n.writerLocked() != nil
	n.mu.Unlock()
	if changed && !writing {
		// Not from inside this request: the kernel may hold locks we need.
		go n.NotifyContent(0, 0)
	}
	return info
}

// updateListed is update for what a listing says: within the TTL of this
// mount's own last upload, a listed older version (a page fetched before
// that upload finished) is ignored.
func (n *fileNode) updateListed(info s3io.ObjectInfo) s3io.ObjectInfo {
	n.mu.Lock()
	l := n.later
	stale := l != nil && l.wrote != "" && time.Now().Before(l.wroteUntil) && versionOf(&info) != l.wrote
	current := n.info.unpack(n.key)
	n.mu.Unlock()
	if stale {
		return current
	}
	return n.update(info)
}

// uploaded records a version this mount just uploaded.
func (n *fileNode) uploaded(info s3io.ObjectInfo, ours bool) {
	n.update(info)
	n.mu.Lock()
	l := n.laterLocked()
	v := versionOf(&info)
	if l.wrote != v {
		// A new version: what was put on the last one is not on it. The
		// same one told again (releaseWriter, after a close's commit, as
		// the kernel's RELEASE comes after the close returns) keeps the
		// tags or ACL set on it meanwhile.
		l.guardsSet = !ours
	}
	l.wrote, l.wroteUntil = v, time.Now().Add(n.fs.cfg.MetadataTTL)
	n.mu.Unlock()
}

// ownUpload reports whether info is the version this mount uploaded,
// within the TTL, with no tags or ACL put on it since: it then has no tags
// and the ACL this mount's options give.
func (n *fileNode) ownUpload(info *s3io.ObjectInfo) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.later
	return l != nil && l.wrote != "" && l.wrote == versionOf(info) && time.Now().Before(l.wroteUntil) && !l.guardsSet
}

// setGuards notes that tags or an ACL were put on the object. Only a
// file this mount uploaded has anything to note: ownUpload is false for
// the others, and uploaded sets the flag afresh.
func (n *fileNode) setGuards() {
	n.mu.Lock()
	if n.later != nil {
		n.later.guardsSet = true
	}
	w := n.writerLocked()
	n.mu.Unlock()
	if w != nil {
		// A writer still held (its RELEASE comes after the close returns)
		// copies its base for the next chmod: it must read them too.
		w.GuardsSet()
	}
}

// writingInfo returns the node's info as its writer sees it, when it is
// open for writing.
func (n *fileNode) writingInfo() (s3io.ObjectInfo, bool) {
	if n.writer() == nil {
		return s3io.ObjectInfo{}, false
	}
	return n.freshInfo()
}

// freshInfo returns the node's info when it is within the TTL. A file open
// for writing is always fresh: its staged state is the truth.
func (n *fileNode) freshInfo() (s3io.ObjectInfo, bool) {
	n.mu.Lock()
	info, w, checked := n.info.unpack(n.key), n.writerLocked(), n.checked
	n.mu.Unlock()
	if w != nil {
		if c := w.Committed(); c != nil && versionOf(c) != versionOf(&info) {
			// Uploaded by the writer since the node last heard from S3 (a
			// background upload): that is the version a reader opens.
			info.ETag, info.ModTime, info.VersionID = c.ETag, c.ModTime, c.VersionID
		}
		meta := w.Meta()
		info.Size = w.Size()
		info.Metadata, info.ContentType = meta.UserMetadata, meta.ContentType
		return info, true
	}
	return info, n.fs.freshMono(checked)
}

// currentInfo returns the node's info, asking S3 again when it is stale.
func (n *fileNode) currentInfo(ctx context.Context) (s3io.ObjectInfo, error) {
	if info, ok := n.freshInfo(); ok {
		return info, nil
	}
	return n.headInfo(ctx)
}

// fullInfo is currentInfo with the object's metadata, which listings lack.
func (n *fileNode) fullInfo(ctx context.Context) (s3io.ObjectInfo, error) {
	if info, ok := n.freshInfo(); ok && info.HasMetadata {
		return info, nil
	}
	return n.headInfo(ctx)
}

func (n *fileNode) headInfo(ctx context.Context) (s3io.ObjectInfo, error) {
	bucket, key := n.location()
	info, err := n.fs.store.HeadObject(ctx, bucket, key, n.readOptions())
	if errors.Is(err, s3io.ErrSSECKey) {
		info, err = n.fs.listedInfo(ctx, bucket, key, err)
	}
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	info.Key = key
	return n.update(info), nil
}

func (n *fileNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if info, removed := n.removedInfo(); removed {
		n.fs.fileAttr(&info, n.StableAttr().Ino, &out.Attr)
		out.Attr.Nlink = 0
		return 0
	}
	info, err := n.currentInfo(ctx)
	if err != nil {
		_, key := n.location()
		n.fs.log.Debug("getattr failed", "bucket", n.bucket, "key", printableKey(key), "err", err)
		return toErrno(err)
	}
	n.fs.fileAttr(&info, n.StableAttr().Ino, &out.Attr)
	return 0
}

// removedInfo returns what the node last knew of its file, when the file
// was removed: S3's object under its key is gone or another file's.
func (n *fileNode) removedInfo() (s3io.ObjectInfo, bool) {
	n.mu.Lock()
	removed := n.removed
	n.mu.Unlock()
	if !removed {
		return s3io.ObjectInfo{}, false
	}
	info, _ := n.freshInfo()
	return info, true
}

// markRemoved records that the file name of d was removed (unlinked, or
// replaced by a rename). Its inode number is given up, so that a file made
// under the name later is a new inode, not the removed one still open.
func (d *dirNode) markRemoved(name string) {
	child := d.GetChild(name)
	if child == nil {
		return
	}
	n, ok := child.Operations().(*fileNode)
	if !ok {
		return
	}
	n.mu.Lock()
	n.removed = true
	bucket, key := n.bucket, n.key
	n.mu.Unlock()
	d.fs.inodes.forget(d.fs.salt + fileInoPath(bucket, key, syscall.S_IFREG))
	d.fs.inodes.forget(d.fs.salt + fileInoPath(bucket, key, syscall.S_IFLNK))
}

func (n *fileNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY || flags&syscall.O_TRUNC != 0 {
		h, errno := n.openWriter(ctx, flags&syscall.O_TRUNC != 0)
		return h, 0, errno
	}
	if h := n.shareWriter(); h != nil {
		// Being written: read what the writer wrote.
		return h, 0, 0
	}
	info, err := n.currentInfo(ctx)
	if err != nil {
		_, key := n.location()
		n.fs.log.Debug("open failed", "bucket", n.bucket, "key", printableKey(key), "err", err)
		return nil, 0, toErrno(err)
	}
	version := versionOf(&info)
	n.mu.Lock()
	same := n.info.version() == version
	keep := version != "" && n.opened && same
	n.opened = same
	n.mu.Unlock()
	var fuseFlags uint32
	if keep {
		// Same object as at the last open: the kernel's pages are still good.
		fuseFlags |= fuse.FOPEN_KEEP_CACHE
	}
	n.fs.openedForReading(n.bucket, info.Key)
	return n.fs.newReadHandle(n, n.bucket, info.Key, info, n.readOptions()), fuseFlags, 0
}

// maxSymlinkSize bounds the object read as a symlink target.
const maxSymlinkSize = 64 << 10

func (n *fileNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	info, err := n.currentInfo(ctx)
	if err != nil {
		return nil, toErrno(err)
	}
	if fileMode(&info, 0)&syscall.S_IFMT != syscall.S_IFLNK || info.Size > maxSymlinkSize {
		return nil, syscall.EINVAL
	}
	buf := make([]byte, info.Size)
	opts := n.readOptions()
	opts.IfMatch = info.ETag
	got, err := n.fs.store.ReadRange(ctx, n.bucket, info.Key, 0, buf, opts)
	if err != nil {
		return nil, toErrno(err)
	}
	return buf[:got], 0
}

// versionOf names one version of an object's content: its ETag, or size and
// mtime for gateways that send no ETag.
func versionOf(info *s3io.ObjectInfo) string {
	if info.ETag != "" {
		return info.ETag
	}
	return fmt.Sprintf("%d@%d", info.Size, info.ModTime.UnixNano())
}
