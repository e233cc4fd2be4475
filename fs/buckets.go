package fs

import (
	"context"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

// bucketsRoot is the root of an all-buckets mount: one directory per bucket
// the credentials can list.
type bucketsRoot struct {
	gofs.Inode
	fs *FS

	mu      sync.Mutex
	buckets []s3io.BucketInfo
	checked time.Time
}

var (
	_ = (gofs.NodeLookuper)((*bucketsRoot)(nil))
	_ = (gofs.NodeReaddirer)((*bucketsRoot)(nil))
	_ = (gofs.NodeGetattrer)((*bucketsRoot)(nil))
	_ = (gofs.NodeStatfser)((*bucketsRoot)(nil))
	_ = (gofs.NodeFsyncer)((*bucketsRoot)(nil))
	_ = (gofs.NodeGetxattrer)((*bucketsRoot)(nil))
)

// Getxattr has only s3.status: buckets carry their own xattrs.
func (r *bucketsRoot) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if attr == xStatus {
		return r.fs.statusXattr(ctx, dest)
	}
	return 0, syscall.ENODATA
}

// list returns the buckets, asking S3 when the cached list is stale.
func (r *bucketsRoot) list(ctx context.Context) ([]s3io.BucketInfo, error) {
	r.mu.Lock()
	if r.buckets != nil && r.fs.fresh(r.checked) {
		b := r.buckets
		r.mu.Unlock()
		return b, nil
	}
	r.mu.Unlock()
	b, err := r.fs.store.ListBuckets(ctx)
	if err != nil {
		return nil, err
	}
	if b == nil {
		b = []s3io.BucketInfo{}
	}
	r.mu.Lock()
	r.buckets, r.checked = b, time.Now()
	r.mu.Unlock()
	return b, nil
}

func (r *bucketsRoot) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.fs.rootAttr(&out.Attr)
	return 0
}

// Fsync of the directory of buckets: mkdir and rmdir of a bucket are done
// when they return.
func (r *bucketsRoot) Fsync(ctx context.Context, fh gofs.FileHandle, flags uint32) syscall.Errno {
	return 0
}

func (r *bucketsRoot) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfsOut(out)
	return 0
}

func (r *bucketsRoot) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	buckets, err := r.list(ctx)
	if err != nil {
		return nil, toErrno(err)
	}
	for _, b := range buckets {
		if b.Name != name {
			continue
		}
		ino := r.fs.dirIno(name, "")
		if child := r.GetChild(name); child != nil {
			if d, ok := child.Operations().(*dirNode); ok {
				d.knownAttr(&out.Attr) // with what was set on it here
				return child, 0
			}
		}
		r.fs.dirAttr(ino, nil, b.Created, &out.Attr)
		d := r.fs.newDir(name, "")
		d.mtime = b.Created
		d.checked = time.Now().Add(time.Duration(1<<62 - 1)) // existence is checked here
		return r.NewInode(ctx, d, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), 0
	}
	return nil, syscall.ENOENT
}

func (r *bucketsRoot) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	buckets, err := r.list(ctx)
	if err != nil {
		return nil, toErrno(err)
	}
	entries := make([]fuse.DirEntry, 0, len(buckets))
	for _, b := range buckets {
		if nameProblem(b.Name) != "" {
			continue
		}
		entries = append(entries, fuse.DirEntry{Name: b.Name, Mode: syscall.S_IFDIR, Ino: r.fs.inodes.peek(r.fs.salt + b.Name + "/")})
	}
	return gofs.NewListDirStream(entries), 0
}
