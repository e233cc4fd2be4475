package fs

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// A directory's mode, owner, group and mtime live where s3fs keeps them:
// in the x-amz-meta-mode, -uid, -gid and -mtime of its marker object
// ("dir/", no bytes), in the encoding files use. mkdir writes them;
// chmod, chown and utimens write the marker again (a PUT: versitygw
// refuses every CopyObject to a key ending in "/", and a marker has no
// bytes to keep), which gives an implicit directory (a common prefix, no
// marker) a marker. A directory without a marker shows the mount's
// defaults (--dir-mode, --uid, --gid, the mount's start time).
//
// What a node learnt of its marker (from a lookup, a listing, a write)
// is trusted for the metadata TTL, and a listing of the parent never
// replaces it with less: `ls -l` keeps a known mode.

// dirMarkerContentType is the content type s3fs and the S3 console give
// directory markers.
const dirMarkerContentType = "application/x-directory"

// markerState is what S3 said of a directory's marker object: whether
// there is one, and its info (metadata included) when there is.
type markerState struct {
	found bool
	info  s3io.ObjectInfo
}

// noMarker is the state of a directory known to have no marker. A
// bucket's own directory never has one.
var noMarker = &markerState{}

// dirAttr fills out for a directory: the marker's metadata when m has
// it, else the mount's defaults. mtime, when set, is a change this mount
// made to the directory (an entry made or removed in it), which wins.
func (f *FS) dirAttr(ino uint64, m *markerState, mtime time.Time, out *fuse.Attr) {
	out.Ino = ino
	out.Mode = syscall.S_IFDIR | f.cfg.DirMode
	out.Nlink = 1 // unknown subdirectory count: tells find not to rely on it
	out.Blksize = blockSizeHint
	out.Size = 4096
	out.Uid, out.Gid = f.cfg.UID, f.cfg.GID
	stored := f.mountTime
	if m != nil {
		info := &m.info
		if v, ok := metaUint(info, metaMode); ok {
			if t := uint32(v) & syscall.S_IFMT; t == syscall.S_IFDIR || t == 0 {
				out.Mode = syscall.S_IFDIR | uint32(v)&07777
			}
		}
		if v, ok := metaUint(info, metaUID); ok {
			out.Uid = uint32(v)
		}
		if v, ok := metaUint(info, metaGID); ok {
			out.Gid = uint32(v)
		}
		stored = objectMtime(info, f.mountTime)
	}
	if mtime.IsZero() {
		mtime = stored
	}
	out.SetTimes(&mtime, &mtime, &mtime)
}

// fetchMarker asks S3 for the marker object prefix ("dir/"). No marker
// is not an error: the directory is implicit.
func (f *FS) fetchMarker(ctx context.Context, bucket, prefix string) (*markerState, error) {
	info, err := f.store.HeadObject(ctx, bucket, prefix, f.cfg.ReadOptions)
	switch {
	case err == nil:
		info.Key = prefix
		return &markerState{found: true, info: info}, nil
	case errors.Is(err, s3io.ErrNotFound):
		return noMarker, nil
	default:
		return nil, err
	}
}

// lookedUpMarker completes what a lookup's one-key listing said of the
// marker: a listing that carries metadata (MinIO's) is enough; otherwise
// a marker that exists is read with a HEAD, and a directory without one
// costs nothing more. nil means unknown (the HEAD failed): the node asks
// again at its next getattr.
func (f *FS) lookedUpMarker(ctx context.Context, bucket, prefix string, listed *markerState) *markerState {
	if listed == nil || !listed.found || listed.info.HasMetadata {
		return listed
	}
	m, err := f.fetchMarker(ctx, bucket, prefix)
	if err != nil {
		f.log.Debug("reading a directory marker failed", "bucket", bucket, "key", printableKey(prefix), "err", err)
		return nil
	}
	return m
}

// markerInfo returns what the node knows of its marker, and whether that
// is within the TTL.
func (d *dirNode) markerInfo() (m *markerState, fresh bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.prefix == "" {
		// A bucket: no key to keep attributes in; what was set here stays
		// for the mount's life.
		if d.marker == nil {
			return noMarker, true
		}
		return d.marker, true
	}
	if d.writingMarker {
		return d.marker, true // what the pending rewrite will write
	}
	return d.marker, d.marker != nil && d.fs.fresh(d.markerAt)
}

// setMarker records what S3 said of the marker.
func (d *dirNode) setMarker(m *markerState) {
	if m == nil {
		return
	}
	d.mu.Lock()
	if !d.writingMarker { // else S3 has not got this mount's change yet
		d.marker, d.markerAt = m, time.Now()
	}
	d.mu.Unlock()
}

// currentMarker returns the marker's state, asking S3 when what the node
// knows is stale. On an error it returns what the node knew, maybe nil.
func (d *dirNode) currentMarker(ctx context.Context) (*markerState, error) {
	m, fresh := d.markerInfo()
	if fresh {
		return m, nil
	}
	prefix := d.path()
	got, err := d.fs.fetchMarker(ctx, d.bucket, prefix)
	if err != nil {
		d.fs.log.Debug("reading a directory marker failed", "bucket", d.bucket, "key", printableKey(prefix), "err", err)
		return m, err
	}
	d.setMarker(got)
	return got, nil
}

// knownAttr fills out from what the node knows, asking S3 nothing.
func (d *dirNode) knownAttr(out *fuse.Attr) {
	d.mu.Lock()
	m, mtime := d.marker, d.mtime
	d.mu.Unlock()
	d.fs.dirAttr(d.StableAttr().Ino, m, mtime, out)
}

func (d *dirNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	// A directory's getattr does not fail for want of its marker: it
	// shows what is known (or the defaults) and asks again next time.
	_, _ = d.currentMarker(ctx)
	d.knownAttr(&out.Attr)
	return 0
}

// knownDirChild reports whether the child directory name knows its
// marker within the TTL, so that a listing need not ask for it.
func (d *dirNode) knownDirChild(name string) bool {
	child := d.GetChild(name)
	if child == nil {
		return false
	}
	n, ok := child.Operations().(*dirNode)
	if !ok {
		return false
	}
	_, fresh := n.markerInfo()
	return fresh
}

// newDirMeta is the marker metadata of a directory made now by caller
// with mode (the kernel has applied the umask). As on Linux, a directory
// made in a set-group-ID directory takes its group and the bit.
func (d *dirNode) newDirMeta(caller *fuse.Caller, mode uint32, now time.Time) map[string]string {
	uid, gid := d.fs.cfg.UID, d.fs.cfg.GID
	if caller != nil {
		uid, gid = caller.Uid, caller.Gid
	}
	perm := mode & 07777
	var parent fuse.Attr
	d.knownAttr(&parent)
	if parent.Mode&syscall.S_ISGID != 0 {
		gid, perm = parent.Gid, perm|syscall.S_ISGID
	}
	return map[string]string{
		metaMode:  modeMeta(syscall.S_IFDIR | perm),
		metaUID:   strconv.FormatUint(uint64(uid), 10),
		metaGID:   strconv.FormatUint(uint64(gid), 10),
		metaMtime: formatUnixTime(now),
	}
}

// setOwner records in meta the owner of a file, FIFO or symlink made now
// by the caller of ctx: its uid, and its gid or, in a set-group-ID
// directory, the directory's (as Linux does). s3fs stores the same keys.
func (d *dirNode) setOwner(ctx context.Context, meta map[string]string) {
	uid, gid := d.fs.cfg.UID, d.fs.cfg.GID
	if caller, ok := fuse.FromContext(ctx); ok {
		uid, gid = caller.Uid, caller.Gid
	}
	var parent fuse.Attr
	d.knownAttr(&parent)
	if parent.Mode&syscall.S_ISGID != 0 {
		gid = parent.Gid
	}
	meta[metaUID] = strconv.FormatUint(uint64(uid), 10)
	meta[metaGID] = strconv.FormatUint(uint64(gid), 10)
}

var _ = (gofs.NodeSetattrer)((*dirNode)(nil))

// Setattr on a directory stores mode, owner and mtime in its marker,
// written again with the new metadata (and made, for an implicit
// directory), behind the call (see dir_marker_behind.go). The marker then
// holds all four as the directory shows them, so it looks the same after
// a remount. A bucket's own directory has no marker: its changes last for
// the mount's life.
func (d *dirNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if _, ok := in.GetSize(); ok {
		return syscall.EISDIR
	}
	change := metadataChange(in)
	if change == nil {
		return d.Getattr(ctx, fh, out) // atime or ctime only: S3 keeps neither
	}
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	ctx = uninterruptible(ctx)
	// Two changes at once (chmod and touch) must not both start from the
	// old metadata: the second PUT would undo the first.
	d.setattrMu.Lock()
	defer d.setattrMu.Unlock()
	m, err := d.currentMarker(ctx)
	if err != nil {
		return d.fail("setattr", d.path(), err)
	}
	var shown fuse.Attr
	d.knownAttr(&shown)
	meta := maps.Clone(m.info.Metadata)
	if meta == nil {
		meta = make(map[string]string)
	}
	meta[metaMode] = modeMeta(shown.Mode)
	meta[metaUID] = strconv.FormatUint(uint64(shown.Uid), 10)
	meta[metaGID] = strconv.FormatUint(uint64(shown.Gid), 10)
	meta[metaMtime] = formatUnixTime(time.Unix(int64(shown.Mtime), int64(shown.Mtimensec)))
	change(&writeback.Meta{UserMetadata: meta})
	_, setsMtime := in.GetMTime()

	next := markerState{found: m.found, info: m.info}
	next.info.Metadata, next.info.HasMetadata = meta, true
	prefix := d.path()
	if prefix != "" {
		contentType := m.info.ContentType
		if !m.found || contentType == "" {
			contentType = dirMarkerContentType
		}
		next.found, next.info.Key, next.info.ContentType = true, prefix, contentType
		d.writeMarkerBehindLocked(writeback.Meta{ContentType: contentType, UserMetadata: meta}, false)
	}
	d.mu.Lock()
	d.marker, d.markerAt = &next, time.Now()
	if setsMtime {
		d.mtime = time.Time{} // the stored mtime is the truth again
	}
	d.mu.Unlock()
	d.knownAttr(&out.Attr)
	return 0
}
