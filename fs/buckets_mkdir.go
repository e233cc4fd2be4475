package fs

import (
	"context"
	"net/netip"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

var (
	_ = (gofs.NodeMkdirer)((*bucketsRoot)(nil))
	_ = (gofs.NodeRmdirer)((*bucketsRoot)(nil))
)

// bucketNameProblem says which of S3's bucket naming rules name breaks,
// or "".
func bucketNameProblem(name string) string {
	switch {
	case len(name) < 3 || len(name) > 63:
		return "a bucket name has 3 to 63 characters"
	case strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
		return "a bucket name has only lower-case letters, digits, dots and hyphens"
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return "a bucket name begins and ends with a letter or digit"
	case strings.Contains(name, ".."):
		return "a bucket name has no two dots in a row"
	case strings.HasPrefix(name, "xn--") || strings.HasSuffix(name, "-s3alias"):
		return "a bucket name does not begin with xn-- or end with -s3alias"
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return "a bucket name is not an IP address"
	}
	return ""
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// Mkdir creates a bucket, in the mount's region.
func (r *bucketsRoot) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx)
	if r.fs.readOnly() {
		return nil, syscall.EROFS
	}
	if problem := bucketNameProblem(name); problem != "" {
		r.fs.log.Warn("mkdir: not a valid bucket name", "name", printableKey(name), "rule", problem)
		return nil, syscall.EINVAL
	}
	if err := r.fs.store.CreateBucket(ctx, name, r.fs.cfg.Region); err != nil {
		r.fs.log.Warn("create bucket failed", "bucket", name, "err", err)
		return nil, toErrno(err)
	}
	r.forget()
	ino := r.fs.dirIno(name, "")
	r.fs.dirAttr(ino, nil, time.Now(), &out.Attr)
	d := r.fs.newDir(name, "")
	d.mtime = time.Now()
	d.checked = time.Now().Add(time.Duration(1<<62 - 1))
	d.madeEmpty()
	return r.NewInode(ctx, d, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino}), 0
}

// Rmdir deletes an empty bucket.
func (r *bucketsRoot) Rmdir(ctx context.Context, name string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if r.fs.readOnly() {
		return syscall.EROFS
	}
	if err := r.fs.store.DeleteBucket(ctx, name); err != nil {
		errno := toErrno(err)
		if errno != syscall.ENOTEMPTY {
			r.fs.log.Warn("delete bucket failed", "bucket", name, "err", err)
		}
		return errno
	}
	r.forget()
	return 0
}

// forget drops the cached bucket list.
func (r *bucketsRoot) forget() {
	r.mu.Lock()
	r.buckets = nil
	r.mu.Unlock()
}
