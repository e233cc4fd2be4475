package fs

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// dirHandle is an open directory. It streams the listing page by page, and
// answers the lookups of READDIRPLUS from the entry it just produced, so
// `ls -l` costs list requests only.
type dirHandle struct {
	dir    *dirNode
	lister *lister
	pos    uint64   // entries produced so far, "." and ".." included
	last   dirEntry // the entry produced last, for Lookup

	// pending are files created here and still being written, which S3
	// cannot list yet: they come after the listing (those it shows are
	// dropped).
	pending []dirEntry

	// order is the listing's regular files so far, handed to the
	// directory read-ahead when the listing is complete.
	order    listedOrder
	opened   time.Time
	recorded bool
}

var (
	_ = (gofs.FileReaddirenter)((*dirHandle)(nil))
	_ = (gofs.FileLookuper)((*dirHandle)(nil))
	_ = (gofs.FileSeekdirer)((*dirHandle)(nil))
	_ = (gofs.FileReleasedirer)((*dirHandle)(nil))
)

// Releasedir stops a listing request made ahead.
func (h *dirHandle) Releasedir(ctx context.Context, flags uint32) {
	h.lister.close()
}

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	switch h.pos {
	case 0:
		h.pos++
		return &fuse.DirEntry{Name: ".", Mode: syscall.S_IFDIR, Ino: h.dir.StableAttr().Ino, Off: h.pos}, 0
	case 1:
		h.pos++
		return &fuse.DirEntry{Name: "..", Mode: syscall.S_IFDIR, Off: h.pos}, 0
	}
	e, ok, err := h.lister.next(ctx)
	if err != nil {
		h.dir.fs.log.Warn("listing failed", "bucket", h.dir.bucket, "prefix", printableKey(h.lister.prefix), "err", err)
		return nil, toErrno(err)
	}
	if ok {
		h.pending = slices.DeleteFunc(h.pending, func(p dirEntry) bool { return p.name == e.name })
	} else {
		if len(h.pending) == 0 {
			if !h.recorded {
				h.recorded = true
				h.dir.fs.listed(h.dir.bucket, h.lister.prefix, &h.order, h.opened)
			}
			return nil, 0
		}
		e = h.pending[0]
		h.pending = h.pending[1:]
	}
	h.pos++
	// go-fuse keeps the name of a child READDIRPLUS hands the kernel for
	// as long as the kernel holds it: a name cut out of its listed key
	// would keep the whole key.
	e.name = strings.Clone(e.name)
	h.last = e
	h.order.named(e.name)
	de := &fuse.DirEntry{Name: e.name, Off: h.pos}
	if e.isDir {
		de.Mode = syscall.S_IFDIR
		de.Ino = h.dir.fs.entryIno(h.dir.bucket, h.lister.prefix+e.name, true)
	} else {
		de.Mode = syscall.S_IFREG
		de.Ino = h.dir.fs.entryIno(h.dir.bucket, h.lister.prefix+e.name, false)
		if !e.pending {
			h.order.add(e.name, de.Ino, &e.info)
		}
	}
	return de, 0
}

// Lookup serves READDIRPLUS: name is the entry Readdirent just returned.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if name != h.last.name || h.last.pending {
		return h.dir.Lookup(ctx, name, out)
	}
	if h.last.isDir {
		return h.dir.dirChild(ctx, name, h.last.marker, out), 0
	}
	info := h.last.info
	return h.dir.fileChild(ctx, name, &info, out), 0
}

// Seekdir restarts the listing and skips to entry off: S3 listings cannot
// be resumed at an arbitrary place. rewinddir (off 0) is the common case.
func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off == h.pos {
		return 0
	}
	h.lister.close()
	h.lister = h.dir.newLister()
	h.pending = h.dir.pendingEntries()
	h.pos = 0
	h.order, h.opened, h.recorded = listedOrder{}, time.Now(), false
	for h.pos < off {
		de, errno := h.Readdirent(ctx)
		if errno != 0 {
			return errno
		}
		if de == nil {
			break
		}
	}
	return 0
}
