package fs

import (
	"context"
	"path"
	"strings"
	"sync"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// renameat2 flags (linux/fs.h).
const (
	renameNoReplace = 1 << 0
	renameExchange  = 1 << 1
)

// renameConcurrency bounds the copies and deletes of a directory rename.
const renameConcurrency = 16

var _ = (gofs.NodeRenamer)((*dirNode)(nil))

// Rename moves a file by a server-side copy and a delete, and a directory
// by doing that to every key under it. Neither is atomic; see SEMANTICS.md.
func (d *dirNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	ctx = uninterruptible(ctx)
	if d.fs.readOnly() {
		return syscall.EROFS
	}
	if flags&renameExchange != 0 {
		return syscall.EINVAL
	}
	dst, ok := newParent.(*dirNode)
	// Another user's tree of a --per-user mount (only root can reach two)
	// is another FS, with other keys.
	if !ok || dst.bucket != d.bucket || dst.fs != d.fs {
		return syscall.EXDEV // mv copies across buckets itself
	}
	if errno := dst.checkNewName(newName, ""); errno != 0 {
		return errno
	}
	srcKey, dstKey := d.path()+name, dst.path()+newName
	var target resolution // nothing there, when that is known without asking
	if dst.GetChild(newName) != nil || !dst.knownMissing(newName) {
		var err error
		if target, err = d.fs.resolve(ctx, d.bucket, dstKey); err != nil {
			return d.fail("rename", dstKey, err)
		}
	}
	exists := target.isDir || target.info != nil
	if exists && flags&renameNoReplace != 0 {
		return syscall.EEXIST
	}
	switch child := d.GetChild(name); {
	case child == nil:
		return syscall.ENOENT
	case child.IsDir():
		if errno := dst.checkNewName(newName, "/"); errno != 0 {
			return errno
		}
		if target.info != nil {
			return syscall.ENOTDIR
		}
		if target.isDir {
			empty, err := d.fs.emptyDir(ctx, d.bucket, dstKey+"/")
			if err != nil {
				return d.fail("rename", dstKey, err)
			}
			if !empty {
				return syscall.ENOTEMPTY
			}
		}
		if errno := d.renameDir(ctx, child, srcKey+"/", dstKey+"/"); errno != 0 {
			return errno
		}
		dst.made(newName)
		return 0
	default:
		if target.isDir {
			return syscall.EISDIR
		}
		return d.renameFile(ctx, child.Operations().(*fileNode), dst, srcKey, dstKey)
	}
}

// renameFile copies the object (data, metadata and encryption) to dstKey,
// then deletes the source. A file open for writing is committed first.
func (d *dirNode) renameFile(ctx context.Context, n *fileNode, dst *dirNode, srcKey, dstKey string) (errno syscall.Errno) {
	replaced, errno := dst.detachChild(ctx, path.Base(dstKey))
	if errno != 0 {
		return errno
	}
	copied := false
	defer func() {
		if !copied {
			// Nothing replaced the target: its writer keeps its key.
			dst.reattach(replaced)
		}
	}()
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	w := n.writer()
	if w != nil && w.Pending() {
		// S3 has nothing at srcKey yet (a new file still being written,
		// or queued for upload): its upload goes to dstKey instead, with
		// no copy and no delete. rsync's temporary file then costs one PUT.
		done, err := w.Retarget(d.bucket, dstKey)
		if err != nil {
			return n.fail("rename", err)
		}
		if done {
			copied = true
			n.mu.Lock()
			n.key = dstKey
			n.mu.Unlock()
			d.renamed(n, dst, srcKey, dstKey)
			return 0
		}
	}
	if w != nil && w.Changed() {
		if errno := n.commit(ctx, w); errno != 0 {
			return errno
		}
	}
	info, err := n.fullInfo(ctx)
	if err != nil {
		return n.fail("rename", err)
	}
	opts := d.fs.copyOptions(&info)
	sseKey := n.readOptions().SSEC
	if sseKey != nil {
		opts.SSEC = sseKey // a file's own key goes with it
	}
	moved, err := d.fs.wb.Copy(ctx, info, d.bucket, sseKey, d.bucket, dstKey, opts)
	if err != nil {
		return n.fail("rename", err)
	}
	copied = true
	if err := d.fs.store.DeleteObject(ctx, d.bucket, srcKey); err != nil {
		d.fs.log.Warn("rename copied the file but could not delete the source; both exist",
			"bucket", d.bucket, "from", printableKey(srcKey), "to", printableKey(dstKey), "err", err)
		return toErrno(err)
	}
	moved.Key, moved.Size = dstKey, info.Size
	moved.Metadata, moved.ContentType, moved.HasMetadata = info.Metadata, info.ContentType, true
	moved.StorageClass, moved.SSE, moved.SSEKMSKeyID = opts.StorageClass, opts.SSE, opts.SSEKMSKeyID
	n.mu.Lock()
	n.key = dstKey
	n.info = packInfo(&moved)
	n.mu.Unlock()
	if w != nil {
		w.Rename(d.bucket, dstKey, &moved)
	}
	d.renamed(n, dst, srcKey, dstKey)
	return 0
}

// renamed records in the tree that n moved from srcKey here to dstKey in
// dst.
func (d *dirNode) renamed(n *fileNode, dst *dirNode, srcKey, dstKey string) {
	if c := dst.GetChild(path.Base(dstKey)); c != nil && c.Operations() != gofs.InodeEmbedder(n) {
		dst.markRemoved(path.Base(dstKey)) // the file replaced
	}
	d.fs.inodes.rename(d.fs.salt+d.bucket+"/"+srcKey, d.fs.salt+d.bucket+"/"+dstKey)
	d.touch()
	dst.made(path.Base(dstKey))
}

// copyOptions keep an object's metadata and encryption on a copy.
func (f *FS) copyOptions(info *s3io.ObjectInfo) s3io.CopyOptions {
	o := f.wb.ObjectOptions(writeback.Meta{ContentType: info.ContentType, UserMetadata: info.Metadata})
	o.ContentMD5 = false
	if info.SSE != "" {
		o.SSE, o.SSEKMSKeyID = info.SSE, info.SSEKMSKeyID
	}
	if info.StorageClass != "" && info.StorageClass != "STANDARD" {
		o.StorageClass = info.StorageClass
	}
	return s3io.CopyOptions{WriteOptions: o}
}

// renameDir copies every key under srcPrefix to dstPrefix, and deletes the
// sources only when every copy succeeded: a failure leaves both trees, not
// neither.
func (d *dirNode) renameDir(ctx context.Context, child *gofs.Inode, srcPrefix, dstPrefix string) syscall.Errno {
	// Attribute changes written behind go first, so the copies carry them.
	if err := d.fs.flushMarkers(ctx, d.bucket, srcPrefix); err != nil {
		return d.fail("rename", srcPrefix, err)
	}
	if errno := d.fs.commitTree(ctx, child); errno != 0 {
		return errno
	}
	var objects []s3io.ObjectInfo
	req := s3io.ListRequest{Bucket: d.bucket, Prefix: srcPrefix}
	for {
		page, err := d.fs.store.List(ctx, req)
		if err != nil {
			return d.fail("rename", srcPrefix, err)
		}
		objects = append(objects, page.Objects...)
		if max := d.fs.cfg.MaxRenameKeys; max > 0 && len(objects) > max {
			// Before any copy: mv then copies the tree itself, file by file,
			// with the progress a user can see, instead of one rename call
			// that holds every key and runs for hours.
			d.fs.log.Info("directory too large to rename on the server; mv will copy it file by file",
				"bucket", d.bucket, "from", printableKey(srcPrefix), "keys_over", max)
			return syscall.EXDEV
		}
		if !page.IsTruncated {
			break
		}
		req.ContinuationToken = page.NextContinuationToken
	}
	for _, o := range objects {
		if len(dstPrefix)+len(o.Key)-len(srcPrefix) > maxKeyLen {
			return syscall.ENAMETOOLONG // before any copy: nothing to undo
		}
	}
	// The copies' infos, by new key: a copy may have an ETag of its own,
	// which open writers need to read their base at the new key.
	var movedMu sync.Mutex
	moved := make(map[string]s3io.ObjectInfo)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renameConcurrency)
	for _, o := range objects {
		g.Go(func() error {
			dstKey := dstPrefix + strings.TrimPrefix(o.Key, srcPrefix)
			if o.Size > 5<<30 || o.ETag == "" {
				full, err := d.fs.store.HeadObject(gctx, d.bucket, o.Key, d.fs.cfg.ReadOptions)
				if err != nil {
					return err
				}
				full.Key = o.Key
				o = full
			}
			info, err := d.fs.wb.Copy(gctx, o, d.bucket, nil, d.bucket, dstKey, d.fs.copyOptions(&o))
			if err == nil {
				movedMu.Lock()
				moved[dstKey] = info
				if n := len(moved); n%1000 == 0 {
					d.fs.log.Info("directory rename in progress", "bucket", d.bucket, "from", printableKey(srcPrefix),
						"copied", n, "of", len(objects))
				}
				movedMu.Unlock()
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		d.undoCopies(moved)
		return d.fail("rename", srcPrefix, err)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(renameConcurrency)
	for _, o := range objects {
		g.Go(func() error { return d.fs.store.DeleteObject(gctx, d.bucket, o.Key) })
	}
	if err := g.Wait(); err != nil {
		d.fs.log.Warn("directory rename copied every key but could not delete all sources",
			"bucket", d.bucket, "from", printableKey(srcPrefix), "to", printableKey(dstPrefix), "err", err)
		return toErrno(err)
	}
	d.fs.rekeyTree(ctx, child, srcPrefix, dstPrefix, moved)
	d.fs.inodes.renamePrefix(d.fs.salt+d.bucket+"/"+srcPrefix, d.fs.salt+d.bucket+"/"+dstPrefix)
	d.touch()
	return 0
}

// undoCopies deletes the copies a directory rename made before one of its
// copies failed, so that the tree is not left in two places: the source
// is untouched, and the failed rename changed nothing.
func (d *dirNode) undoCopies(moved map[string]s3io.ObjectInfo) {
	ctx := context.Background() // the rename's own context may be what failed
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(renameConcurrency)
	var left []string
	var mu sync.Mutex
	for key := range moved {
		g.Go(func() error {
			if err := d.fs.store.DeleteObject(gctx, d.bucket, key); err != nil {
				mu.Lock()
				left = append(left, key)
				mu.Unlock()
			}
			return nil
		})
	}
	g.Wait()
	if len(left) > 0 {
		d.fs.log.Warn("directory rename failed and some of its copies could not be deleted; they remain",
			"bucket", d.bucket, "keys", len(left), "first", printableKey(left[0]))
	}
}

// commitTree uploads what files under in hold for S3, so that a directory
// rename copies their current bytes.
func (f *FS) commitTree(ctx context.Context, in *gofs.Inode) syscall.Errno {
	for _, c := range in.Children() {
		switch n := c.Operations().(type) {
		case *dirNode:
			if errno := f.commitTree(ctx, c); errno != 0 {
				return errno
			}
		case *fileNode:
			if w := n.writer(); w != nil && w.Changed() {
				if errno := n.commit(ctx, w); errno != 0 {
					return errno
				}
			}
		}
	}
	return 0
}

// rekeyTree rewrites the keys of the nodes under in after a directory
// rename from srcPrefix to dstPrefix; moved holds the copies' infos by
// new key.
func (f *FS) rekeyTree(ctx context.Context, in *gofs.Inode, srcPrefix, dstPrefix string, moved map[string]s3io.ObjectInfo) {
	switch n := in.Operations().(type) {
	case *dirNode:
		n.setPath(dstPrefix + strings.TrimPrefix(n.path(), srcPrefix))
	case *fileNode:
		n.mu.Lock()
		n.key = dstPrefix + strings.TrimPrefix(n.key, srcPrefix)
		w, key := n.writerLocked(), n.key
		n.mu.Unlock()
		if w != nil {
			info, ok := moved[key]
			if ok && info.ETag == "" {
				// The server did not say the copy's ETag: ask, for this
				// writer only.
				info, _ = f.store.HeadObject(ctx, n.bucket, key, n.readOptions())
			}
			w.Rename(n.bucket, key, &info)
		}
	}
	for _, c := range in.Children() {
		f.rekeyTree(ctx, c, srcPrefix, dstPrefix, moved)
	}
}
