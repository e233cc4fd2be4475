package fs

import (
	"context"
	"sort"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

// dirNode is a bucket (prefix "") or a key prefix ending in "/".
type dirNode struct {
	gofs.Inode
	fs     *FS
	bucket string

	mu      sync.Mutex
	prefix  string    // changes when the directory is renamed
	checked time.Time // when the directory was last seen to exist
	// mtime is set when this mount changed the directory (made or removed
	// an entry in it) and wins over the marker's: such changes are not
	// written to the marker, and last for the mount's life.
	mtime time.Time
	// marker is what S3 last said of the directory's marker object, at
	// markerAt; nil until asked (dir_attr.go).
	marker   *markerState
	markerAt time.Time
	// writingMarker is set while a rewrite of the marker waits to be
	// written (dir_marker_behind.go): marker is then what it will hold,
	// and what S3 says is not taken.
	writingMarker bool
	// setattrMu serializes marker rewrites (chmod, chown, utimens); it
	// guards behind, the rewrite waiting to be written.
	setattrMu sync.Mutex
	behind    *markerWrite

	// A directory this mount made was empty then; until knownUntil, a
	// name that is not one of the names made in it since (known) does not
	// exist, and its lookup needs no request. This makes tar -x, cp -r and
	// rsync into new directories cost one request per file.
	known      map[string]bool
	knownUntil time.Time
}

var (
	_ = (gofs.NodeLookuper)((*dirNode)(nil))
	_ = (gofs.NodeGetattrer)((*dirNode)(nil))
	_ = (gofs.NodeOpendirHandler)((*dirNode)(nil))
	_ = (gofs.NodeStatfser)((*dirNode)(nil))
	_ = (gofs.NodeFsyncer)((*dirNode)(nil))
)

func (f *FS) newDir(bucket, prefix string) *dirNode {
	return &dirNode{fs: f, bucket: bucket, prefix: prefix, checked: time.Now()}
}

// path returns the directory's key prefix ("" or ending in "/").
func (d *dirNode) path() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.prefix
}

// setPath records the directory's prefix after a rename.
func (d *dirNode) setPath(prefix string) {
	d.mu.Lock()
	d.prefix = prefix
	d.mu.Unlock()
}

func (d *dirNode) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfsOut(out)
	return 0
}

// Fsync of a directory (atomic-save code does it after its rename) waits
// for nothing: mkdir, rename, unlink and symlink are in S3 when they
// return, and a created file's object is made by its own close or fsync,
// which a directory fsync does not do for it.
func (d *dirNode) Fsync(ctx context.Context, fh gofs.FileHandle, flags uint32) syscall.Errno {
	return d.syncDir(ctx) // asynchronous mode: queued uploads under it first
}

func (d *dirNode) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if len(name) > maxNameLen {
		return nil, syscall.ENAMETOOLONG
	}
	if nameProblem(name) != "" {
		return nil, syscall.ENOENT
	}
	if child := d.freshChild(name, out); child != nil {
		return child, 0
	}
	prefix := d.path()
	key := prefix + name
	if d.knownMissing(name) {
		return nil, syscall.ENOENT
	}
	if key+"/" == d.fs.parkPrefix() {
		return nil, syscall.ENOENT
	}
	if w := d.fs.retained.at(d.bucket, key); w != nil {
		// A file whose upload is being retried: its bytes are the truth.
		info := retainedInfo(w)
		return d.fileChild(ctx, name, &info, out), 0
	}
	if pending := d.fs.markers.creatingIn(d.bucket, prefix)[name]; pending != nil {
		// Made here, its marker still to be written, and forgotten by the
		// kernel meanwhile: S3 cannot tell of it yet.
		m, _ := pending.markerInfo()
		return d.dirChild(ctx, name, m, out), 0
	}
	gen := d.fs.absent.generation()
	r, err := d.fs.resolve(ctx, d.bucket, key)
	if err != nil {
		d.fs.log.Debug("lookup failed", "bucket", d.bucket, "key", printableKey(key), "err", err)
		return nil, toErrno(err)
	}
	switch {
	case r.isDir:
		m := d.fs.lookedUpMarker(ctx, d.bucket, key+"/", r.marker)
		return d.dirChild(ctx, name, m, out), 0
	case r.info != nil:
		return d.fileChild(ctx, name, r.info, out), 0
	default:
		d.fs.absent.add(d.bucket+"\x00"+key, gen, time.Now().Add(d.fs.cfg.NegativeTTL))
		return nil, syscall.ENOENT
	}
}

// knownMissing reports whether S3 is known to have nothing at name (see
// knownAbsent, absentNames and listedAbsent), so that nothing need be
// asked. A node of that name (being written) is the caller's to check.
func (d *dirNode) knownMissing(name string) bool {
	prefix := d.path()
	return d.knownAbsent(name) || d.fs.absent.has(d.bucket+"\x00"+prefix+name) || d.fs.listedAbsent(d.bucket, prefix, name)
}

// knownAbsent reports whether name is known not to exist without asking S3.
func (d *dirNode) knownAbsent(name string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.expireKnownLocked()
	return d.known != nil && !d.known[name]
}

// expireKnownLocked drops the names made here once they tell nothing more
// (past the TTL), so that a directory filled over months holds no map of
// every name it was given.
func (d *dirNode) expireKnownLocked() {
	if d.known != nil && !time.Now().Before(d.knownUntil) {
		d.known = nil
	}
}

// made records that name now exists in the directory.
func (d *dirNode) made(name string) {
	prefix := d.path()
	d.fs.absent.made(d.bucket + "\x00" + prefix + name)
	d.fs.named(d.bucket, prefix, name)
	d.mu.Lock()
	d.expireKnownLocked()
	if d.known != nil {
		d.known[name] = true
	}
	d.mtime, d.checked = time.Now(), time.Now()
	d.mu.Unlock()
}

// madeEmpty records that this mount just created the directory.
func (d *dirNode) madeEmpty() {
	d.mu.Lock()
	d.known, d.knownUntil = make(map[string]bool), time.Now().Add(d.fs.cfg.MetadataTTL)
	d.mu.Unlock()
}

// freshChild returns an existing child whose metadata is within the TTL,
// filling out, or nil.
func (d *dirNode) freshChild(name string, out *fuse.EntryOut) *gofs.Inode {
	child := d.GetChild(name)
	if child == nil {
		return nil
	}
	switch n := child.Operations().(type) {
	case *fileNode:
		if info, ok := n.freshInfo(); ok {
			d.fs.fileAttr(&info, n.StableAttr().Ino, &out.Attr)
			return child
		}
	case *dirNode:
		n.mu.Lock()
		ok := d.fs.fresh(n.checked)
		n.mu.Unlock()
		if _, known := n.markerInfo(); ok && known {
			n.knownAttr(&out.Attr)
			return child
		}
	}
	return nil
}

// dirChild returns the child directory name, reusing its node when the
// kernel still has it. m is what S3 just said of its marker, or nil: then
// the node keeps what it knew.
func (d *dirNode) dirChild(ctx context.Context, name string, m *markerState, out *fuse.EntryOut) *gofs.Inode {
	prefix := d.path() + name + "/"
	ino := d.fs.dirIno(d.bucket, prefix)
	if child := d.GetChild(name); child != nil {
		if n, ok := child.Operations().(*dirNode); ok {
			n.mu.Lock()
			n.checked = time.Now()
			n.mu.Unlock()
			n.setMarker(m)
			n.knownAttr(&out.Attr)
			return child
		}
	}
	n := d.fs.newDir(d.bucket, prefix)
	if m != nil {
		n.marker, n.markerAt = m, time.Now()
	}
	d.fs.dirAttr(ino, m, time.Time{}, &out.Attr)
	return d.NewInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino})
}

func (d *dirNode) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	return &dirHandle{dir: d, lister: d.newLister(), pending: d.pendingEntries(), opened: time.Now()}, 0, 0
}

// pendingEntries are the files created here that S3 does not have yet
// (being written, or queued for upload) and the directories made here
// whose marker is still to be written (asynchronous mode), by name.
func (d *dirNode) pendingEntries() []dirEntry {
	prefix := d.path()
	var out []dirEntry
	for _, name := range d.fs.writers.pendingIn(d.bucket, prefix) {
		out = append(out, dirEntry{name: name, pending: true})
	}
	for name := range d.fs.markers.creatingIn(d.bucket, prefix) {
		out = append(out, dirEntry{name: name, isDir: true, pending: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// newLister lists the directory, reusing what its children already know.
func (d *dirNode) newLister() *lister {
	l := newLister(d.fs, d.bucket, d.path())
	l.known = d.knownChild
	l.knownDir = d.knownDirChild
	return l
}

// knownChild returns the metadata of the child file name when the node
// has it for the listed version and within the TTL: a second `ls -l`
// within the TTL sends no HEAD per file.
func (d *dirNode) knownChild(name string, listed *s3io.ObjectInfo) (s3io.ObjectInfo, bool) {
	child := d.GetChild(name)
	if child == nil {
		return s3io.ObjectInfo{}, false
	}
	n, ok := child.Operations().(*fileNode)
	if !ok {
		return s3io.ObjectInfo{}, false
	}
	n.mu.Lock()
	checked := n.checked
	n.mu.Unlock()
	if !d.fs.freshMono(checked) {
		return s3io.ObjectInfo{}, false
	}
	return n.knownAs(listed)
}
