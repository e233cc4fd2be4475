package fs

import (
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

// blockSizeHint is st_blksize: large enough that stdio and cp use big
// buffers, which cuts FUSE round trips.
const blockSizeHint = 128 << 10

// s3fs-compatible metadata names (x-amz-meta-*), so buckets shared with
// s3fs users show the same owners, modes and times.
const (
	metaMode  = "mode"
	metaUID   = "uid"
	metaGID   = "gid"
	metaMtime = "mtime"
	// metaRdev is the device number of a character or block device.
	metaRdev = "rdev"
)

// fileAttr fills out for an object. Mode, owner and mtime come from s3fs
// metadata when the info has it, otherwise from the mount's settings and
// the object's LastModified.
func (f *FS) fileAttr(info *s3io.ObjectInfo, ino uint64, out *fuse.Attr) {
	out.Ino = ino
	out.Size = uint64(info.Size)
	out.Blocks = (out.Size + 511) / 512
	out.Blksize = blockSizeHint
	out.Nlink = 1
	out.Mode = fileMode(info, f.cfg.FileMode)
	if v, ok := metaUint(info, metaRdev); ok && isDevice(out.Mode) {
		out.Rdev = uint32(v)
	}
	out.Uid, out.Gid = f.cfg.UID, f.cfg.GID
	if v, ok := metaUint(info, metaUID); ok {
		out.Uid = uint32(v)
	}
	if v, ok := metaUint(info, metaGID); ok {
		out.Gid = uint32(v)
	}
	mtime := objectMtime(info, f.mountTime)
	out.SetTimes(&mtime, &mtime, &mtime)
}

// fileMode is the st_mode of an object: s3fs's x-amz-meta-mode when it
// holds a regular file or symlink mode, else a regular file with def bits.
func fileMode(info *s3io.ObjectInfo, def uint32) uint32 {
	if v, ok := metaUint(info, metaMode); ok {
		m := uint32(v)
		switch m & syscall.S_IFMT {
		case syscall.S_IFREG, syscall.S_IFLNK, syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
			return m
		case 0:
			return syscall.S_IFREG | m&07777
		}
	}
	return syscall.S_IFREG | def
}

// objectMtime is s3fs's x-amz-meta-mtime ("SECONDS" or "SECONDS.NANOS")
// when present, else LastModified, else fallback (gateways that list no
// LastModified).
func objectMtime(info *s3io.ObjectInfo, fallback time.Time) time.Time {
	if s, ok := info.Metadata[metaMtime]; ok {
		if t, ok := parseUnixTime(s); ok {
			return t
		}
	}
	if !info.ModTime.IsZero() {
		return info.ModTime
	}
	return fallback
}

func parseUnixTime(s string) (time.Time, bool) {
	secStr, fracStr, hasFrac := strings.Cut(strings.TrimSpace(s), ".")
	sec, err := strconv.ParseInt(secStr, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var nsec int64
	if hasFrac && fracStr != "" {
		if len(fracStr) > 9 {
			fracStr = fracStr[:9]
		}
		n, err := strconv.ParseUint(fracStr, 10, 32)
		if err != nil {
			return time.Time{}, false
		}
		nsec = int64(n)
		for i := len(fracStr); i < 9; i++ {
			nsec *= 10
		}
	}
	return time.Unix(sec, nsec), true
}

func metaUint(info *s3io.ObjectInfo, name string) (uint64, bool) {
	s, ok := info.Metadata[name]
	if !ok {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	return v, err == nil
}

// statfsOut reports a large, mostly free file system: S3 has no fixed
// capacity, and tools such as cp and rsync refuse to write to a full one.
func statfsOut(out *fuse.StatfsOut) {
	const blocks = 1 << 40
	out.Bsize = 4096
	out.Frsize = 4096
	out.Blocks = blocks
	out.Bfree = blocks
	out.Bavail = blocks
	out.Files = 1 << 30
	out.Ffree = 1 << 30
	out.NameLen = maxNameLen
}

// isSpecial reports whether mode is a FIFO, socket or device node: an
// empty object whose type lives in x-amz-meta-mode, as s3fs stores them.
// The kernel opens such files itself; their bytes never reach S3.
func isSpecial(mode uint32) bool {
	switch mode & syscall.S_IFMT {
	case syscall.S_IFIFO, syscall.S_IFSOCK, syscall.S_IFCHR, syscall.S_IFBLK:
		return true
	}
	return false
}

func isDevice(mode uint32) bool {
	t := mode & syscall.S_IFMT
	return t == syscall.S_IFCHR || t == syscall.S_IFBLK
}
