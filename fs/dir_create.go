package fs

import (
	"context"
	"strconv"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

var (
	_ = (gofs.NodeCreater)((*dirNode)(nil))
	_ = (gofs.NodeMkdirer)((*dirNode)(nil))
	_ = (gofs.NodeSymlinker)((*dirNode)(nil))
	_ = (gofs.NodeLinker)((*dirNode)(nil))
	_ = (gofs.NodeMknoder)((*dirNode)(nil))
)

// checkNewName vets a name about to become a key: the key of a file, or
// with suffix "/" the marker of a directory.
func (d *dirNode) checkNewName(name, suffix string) syscall.Errno {
	switch {
	case d.fs.readOnly():
		return syscall.EROFS
	case len(name) > maxNameLen, len(d.path())+len(name)+len(suffix) > maxKeyLen:
		return syscall.ENAMETOOLONG
	case nameProblem(name) != "":
		return syscall.EINVAL
	}
	return 0
}

// modeMeta is s3fs's x-amz-meta-mode value for mode.
func modeMeta(mode uint32) string { return strconv.FormatUint(uint64(mode), 10) }

func (d *dirNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	ctx = uninterruptible(ctx)
	if errno := d.checkNewName(name, ""); errno != 0 {
		return nil, nil, 0, errno
	}
	key := d.path() + name
	meta := writeback.Meta{
		ContentType:  contentType(name),
		UserMetadata: map[string]string{metaMode: modeMeta(syscall.S_IFREG | mode&07777)},
	}
	d.setOwner(ctx, meta.UserMetadata)
	w, err := d.fs.wb.Create(d.bucket, key, meta)
	if err != nil {
		return nil, nil, 0, d.fail("create", key, err)
	}
	d.fs.writers.add(w)
	info := s3io.ObjectInfo{Key: key, ModTime: time.Now(), ContentType: meta.ContentType,
		Metadata: meta.UserMetadata, HasMetadata: true}
	ino, key := d.fs.fileIno(d.bucket, key, syscall.S_IFREG)
	n := d.newFileNode(key, &info)
	n.wr = &fileWriting{w: w, writers: 1, unflushed: 1}
	d.fs.fileAttr(&info, ino, &out.Attr)
	child := d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: ino})
	d.made(name)
	return child, &writeHandle{n: n, w: w, opener: callerThread(ctx)}, 0, 0
}

// Mknod makes regular files (some programs create files with it), and
// FIFOs, sockets and device nodes as s3fs stores them: an empty object
// with the type and permissions in x-amz-meta-mode and a device's number
// in x-amz-meta-rdev, so that mkfifo, mknod and tar x of such entries work
// and survive a remount.
func (d *dirNode) Mknod(ctx context.Context, name string, mode uint32, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if isSpecial(mode) {
		return d.mknodSpecial(ctx, name, mode, dev, out)
	}
	if mode&syscall.S_IFMT != syscall.S_IFREG && mode&syscall.S_IFMT != 0 {
		return nil, syscall.EINVAL
	}
	child, fh, _, errno := d.Create(ctx, name, syscall.O_WRONLY, mode, out)
	if errno != 0 {
		return nil, errno
	}
	h := fh.(*writeHandle)
	errno = h.Flush(ctx)
	h.Release(ctx)
	if errno != 0 {
		return nil, errno
	}
	return child, 0
}

func (d *dirNode) mknodSpecial(ctx context.Context, name string, mode, dev uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx)
	if d.fs.readOnly() {
		return nil, syscall.EROFS
	}
	if errno := d.checkNewName(name, ""); errno != 0 {
		return nil, errno
	}
	key := d.path() + name
	meta := writeback.Meta{UserMetadata: map[string]string{metaMode: modeMeta(mode)}}
	d.setOwner(ctx, meta.UserMetadata)
	if isDevice(mode) {
		meta.UserMetadata[metaRdev] = strconv.FormatUint(uint64(dev), 10)
	}
	info, err := d.fs.store.PutObject(ctx, d.bucket, key, strings.NewReader(""), 0, d.fs.wb.ObjectOptions(meta))
	if err != nil {
		return nil, d.fail("mknod", key, err)
	}
	info.Key, info.Size, info.HasMetadata, info.ModTime = key, 0, true, time.Now()
	info.Metadata = meta.UserMetadata
	d.made(name)
	return d.fileChild(ctx, name, &info, out), 0
}

// Mkdir stores a directory marker, "name/", as s3fs and the S3 console
// do, with the directory's mode (the kernel applied the umask), owner,
// group and mtime in s3fs's x-amz-meta-*.
func (d *dirNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	caller, _ := fuse.FromContext(ctx)
	ctx = uninterruptible(ctx)
	if errno := d.checkNewName(name, "/"); errno != 0 {
		return nil, errno
	}
	key := d.path() + name + "/"
	now := time.Now()
	meta := writeback.Meta{ContentType: dirMarkerContentType, UserMetadata: d.newDirMeta(caller, mode, now)}
	return d.mkdirBehind(ctx, name, key, meta, now, out), 0
}

// mkdirBehind makes a directory whose marker is written behind (see
// dir_marker_behind.go), in both modes, as on a local file system, where
// a mkdir is durable once the parent is fsynced: tar -x made one
// synchronous PUT per directory (182 of its 1,383), and the directory's
// chown, chmod and utimens that follow go out with the same PUT.
func (d *dirNode) mkdirBehind(ctx context.Context, name, key string, meta writeback.Meta, now time.Time, out *fuse.EntryOut) *gofs.Inode {
	info := s3io.ObjectInfo{Key: key, ContentType: meta.ContentType, Metadata: meta.UserMetadata, HasMetadata: true,
		ModTime: now.Truncate(time.Second)}
	child := d.dirChild(ctx, name, &markerState{found: true, info: info}, out)
	n := child.Operations().(*dirNode)
	n.setattrMu.Lock()
	n.writeMarkerBehindLocked(meta, true)
	n.setattrMu.Unlock()
	n.madeEmpty()
	d.made(name)
	return child
}

// Symlink stores the target as the object's body with an S_IFLNK mode,
// the way s3fs does, so both read the same links.
func (d *dirNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx)
	if errno := d.checkNewName(name, ""); errno != 0 {
		return nil, errno
	}
	key := d.path() + name
	mode := uint32(syscall.S_IFLNK | 0o777)
	meta := writeback.Meta{UserMetadata: map[string]string{metaMode: modeMeta(mode)}}
	d.setOwner(ctx, meta.UserMetadata)
	info, err := d.fs.store.PutObject(ctx, d.bucket, key, strings.NewReader(target), int64(len(target)), d.fs.wb.ObjectOptions(meta))
	if err != nil {
		return nil, d.fail("symlink", key, err)
	}
	info.Key, info.Size, info.HasMetadata, info.ModTime = key, int64(len(target)), true, time.Now()
	info.Metadata = meta.UserMetadata
	d.made(name)
	return d.fileChild(ctx, name, &info, out), 0
}

// Link: S3 has no hard links. EPERM is what link(2) returns on file
// systems without them.
func (d *dirNode) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

// fail logs a failed operation on key and returns its errno.
func (d *dirNode) fail(op, key string, err error) syscall.Errno {
	errno := toErrno(err)
	level := d.fs.log.Warn
	if errno == syscall.ENOENT || errno == syscall.ENOTEMPTY {
		level = d.fs.log.Debug
	}
	level(op+" failed", "bucket", d.bucket, "key", printableKey(key), "err", err)
	return errno
}

// touch records that the directory changed now.
func (d *dirNode) touch() {
	d.mu.Lock()
	d.mtime, d.checked = time.Now(), time.Now()
	d.mu.Unlock()
}
