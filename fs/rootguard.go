package fs

import (
	"github.com/hanwen/go-fuse/v2/fuse"
)

// rootGuard keeps root out of the users' trees of a --per-user mount. The
// kernel lets root (CAP_DAC_OVERRIDE) through a user's 0700 directory once
// it holds the entry, without asking s3mount, so the check is made here,
// on the requests that read or change a name, an attribute or a file's
// data: every node but the mount's root is in some user's tree. Requests
// on handles already open (read, write, flush, release, fsync) pass: the
// kernel may send them as root on the opener's behalf, and root could not
// open one.
type rootGuard struct {
	fuse.RawFileSystem
}

func byRoot(h *fuse.InHeader) bool { return h.Caller.Uid == 0 && h.NodeId != fuse.FUSE_ROOT_ID }

func (g rootGuard) Lookup(cancel <-chan struct{}, h *fuse.InHeader, name string, out *fuse.EntryOut) fuse.Status {
	if byRoot(h) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Lookup(cancel, h, name, out)
}

func (g rootGuard) GetAttr(cancel <-chan struct{}, in *fuse.GetAttrIn, out *fuse.AttrOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.GetAttr(cancel, in, out)
}

func (g rootGuard) Statx(cancel <-chan struct{}, in *fuse.StatxIn, out *fuse.StatxOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Statx(cancel, in, out)
}

func (g rootGuard) SetAttr(cancel <-chan struct{}, in *fuse.SetAttrIn, out *fuse.AttrOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.SetAttr(cancel, in, out)
}

func (g rootGuard) Mknod(cancel <-chan struct{}, in *fuse.MknodIn, name string, out *fuse.EntryOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Mknod(cancel, in, name, out)
}

func (g rootGuard) Mkdir(cancel <-chan struct{}, in *fuse.MkdirIn, name string, out *fuse.EntryOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Mkdir(cancel, in, name, out)
}

func (g rootGuard) Unlink(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if byRoot(h) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Unlink(cancel, h, name)
}

func (g rootGuard) Rmdir(cancel <-chan struct{}, h *fuse.InHeader, name string) fuse.Status {
	if byRoot(h) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Rmdir(cancel, h, name)
}

func (g rootGuard) Rename(cancel <-chan struct{}, in *fuse.RenameIn, oldName, newName string) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Rename(cancel, in, oldName, newName)
}

func (g rootGuard) Link(cancel <-chan struct{}, in *fuse.LinkIn, name string, out *fuse.EntryOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Link(cancel, in, name, out)
}

func (g rootGuard) Symlink(cancel <-chan struct{}, h *fuse.InHeader, target, name string, out *fuse.EntryOut) fuse.Status {
	if byRoot(h) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Symlink(cancel, h, target, name, out)
}

func (g rootGuard) Readlink(cancel <-chan struct{}, h *fuse.InHeader) ([]byte, fuse.Status) {
	if byRoot(h) {
		return nil, fuse.EACCES
	}
	return g.RawFileSystem.Readlink(cancel, h)
}

func (g rootGuard) Access(cancel <-chan struct{}, in *fuse.AccessIn) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Access(cancel, in)
}

func (g rootGuard) GetXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string, dest []byte) (uint32, fuse.Status) {
	if byRoot(h) {
		return 0, fuse.EACCES
	}
	return g.RawFileSystem.GetXAttr(cancel, h, attr, dest)
}

func (g rootGuard) ListXAttr(cancel <-chan struct{}, h *fuse.InHeader, dest []byte) (uint32, fuse.Status) {
	if byRoot(h) {
		return 0, fuse.EACCES
	}
	return g.RawFileSystem.ListXAttr(cancel, h, dest)
}

func (g rootGuard) SetXAttr(cancel <-chan struct{}, in *fuse.SetXAttrIn, attr string, data []byte) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.SetXAttr(cancel, in, attr, data)
}

func (g rootGuard) RemoveXAttr(cancel <-chan struct{}, h *fuse.InHeader, attr string) fuse.Status {
	if byRoot(h) {
		return fuse.EACCES
	}
	return g.RawFileSystem.RemoveXAttr(cancel, h, attr)
}

func (g rootGuard) Create(cancel <-chan struct{}, in *fuse.CreateIn, name string, out *fuse.CreateOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Create(cancel, in, name, out)
}

func (g rootGuard) Tmpfile(cancel <-chan struct{}, in *fuse.CreateIn, out *fuse.CreateOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Tmpfile(cancel, in, out)
}

func (g rootGuard) Open(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.Open(cancel, in, out)
}

func (g rootGuard) OpenDir(cancel <-chan struct{}, in *fuse.OpenIn, out *fuse.OpenOut) fuse.Status {
	if byRoot(&in.InHeader) {
		return fuse.EACCES
	}
	return g.RawFileSystem.OpenDir(cancel, in, out)
}
