package fs

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// FS is the state shared by every node of one mount.
type FS struct {
	cfg    Config
	store  s3io.Store
	cache  *cache.Cache
	wb     *writeback.Manager // nil on a read-only mount
	inodes *inodeTable
	// salt starts every path this FS hashes into the inode table and every
	// block cache ID: "" for a mount of one FS; the user's own on a
	// --per-user mount, whose FSes share one table (so that go-fuse, which
	// knows a node by its number, never hands one user's node to another)
	// and one block cache.
	salt string
	// rootIno is the number of the root node: 1, or the user's directory
	// on a --per-user mount.
	rootIno   uint64
	log       *slog.Logger
	mountTime time.Time

	hiddenLogged logOnce // keys not shown, logged once each

	openHandles atomic.Int64
	retained    retainedWriters // files whose close failed, still being uploaded
	writers     openWriters     // every staged writer, retained ones included
	streams     dirStreams      // directories read file after file (read-ahead)
	markers     markersBehind   // directories whose attributes are still to be written
	absent      absentNames     // names lookups found missing

	// notImplemented remembers which calls the server refused, so that
	// each is logged once; needsKey, which objects lacked their SSE-C key.
	notImplemented sync.Map
	needsKey       logOnce
}

// New builds the file system. The store, cache and upload manager are
// shared by all nodes; wb is nil on a read-only mount.
func New(cfg Config, store s3io.Store, c *cache.Cache, wb *writeback.Manager) *FS {
	return newFS(cfg, store, c, wb, newInodeTable(), "")
}

func newFS(cfg Config, store s3io.Store, c *cache.Cache, wb *writeback.Manager, inodes *inodeTable, salt string) *FS {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FS{
		cfg:       cfg,
		store:     store,
		cache:     c,
		wb:        wb,
		inodes:    inodes,
		salt:      salt,
		rootIno:   1,
		log:       log,
		mountTime: time.Now(),
	}
}

// Root returns the root node: the bucket (or prefix) of a bucket mount, or
// a directory of buckets.
func (f *FS) Root() gofs.InodeEmbedder {
	if f.cfg.Bucket == "" {
		return &bucketsRoot{fs: f}
	}
	d := f.newDir(f.cfg.Bucket, f.cfg.Prefix)
	d.checked = time.Now().Add(time.Duration(1<<62 - 1)) // the root never goes stale
	return d
}

// rootAttr fills out for the root of the directory of buckets: its own
// number, and RootMode when set.
func (f *FS) rootAttr(out *fuse.Attr) {
	f.dirAttr(f.rootIno, nil, time.Time{}, out)
	if f.cfg.RootMode != 0 {
		out.Mode = syscall.S_IFDIR | f.cfg.RootMode
	}
}

// Options returns the go-fuse options: the kernel caches entries and
// attributes exactly as long as s3mount trusts them.
func (f *FS) Options() *gofs.Options {
	ttl, neg := f.cfg.MetadataTTL, f.cfg.NegativeTTL
	return &gofs.Options{
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &neg,
		UID:             f.cfg.UID,
		GID:             f.cfg.GID,
		RootStableAttr:  &gofs.StableAttr{Ino: 1},
		// Every attribute we return carries its own permission bits: without
		// this, go-fuse turns a stored mode 0000 into 0644 (0755 for a
		// directory), and the kernel lets everybody read the file.
		NullPermissions: true,
	}
}

// LiveNodes is how many inode numbers the kernel holds now: the daemon's
// memory for nodes follows it.
func (f *FS) LiveNodes() int { return f.inodes.size() }

// logHidden notes, once per key, that a key is not shown.
func (f *FS) logHidden(bucket, key, why string) {
	id := bucket + "/" + key
	if f.hiddenLogged.first(id) {
		f.log.Debug("key not shown", "bucket", bucket, "key", printableKey(key), "reason", why)
	}
}

// readOnly reports whether the mount refuses changes: --read-only, or no
// upload manager to make them with.
func (f *FS) readOnly() bool { return f.cfg.ReadOnly || f.wb == nil }

// fresh reports whether something confirmed at t is still within the TTL.
func (f *FS) fresh(t time.Time) bool {
	return time.Since(t) < f.cfg.MetadataTTL
}

func (f *FS) dirIno(bucket, prefix string) uint64 {
	return f.inodes.get(f.salt + bucket + "/" + prefix)
}

// fileIno is the inode number of an object. A symlink has its own, so that
// a key seen first as a file (in a listing, which has no metadata) and then
// as a symlink gets a new node of the right type.
// It returns key too, as a string that shares the inode table's copy of
// the path: a node holding it holds one string, not two.
func (f *FS) fileIno(bucket, key string, mode uint32) (uint64, string) {
	ino, path := f.inodes.getHeld(f.salt + fileInoPath(bucket, key, mode))
	if start := len(f.salt) + len(bucket) + 1; len(path) >= start+len(key) && path[start:start+len(key)] == key {
		key = path[start : start+len(key)]
	}
	return ino, key
}

func fileInoPath(bucket, key string, mode uint32) string {
	if mode&syscall.S_IFMT == syscall.S_IFLNK {
		return bucket + "/" + key + "\x00symlink"
	}
	return bucket + "/" + key
}

// entryIno is the inode number a readdir entry shows: the node's when the
// kernel holds one, else the one a lookup would give (barring a hash
// collision), without reserving it.
func (f *FS) entryIno(bucket, key string, isDir bool) uint64 {
	if isDir {
		return f.inodes.peek(f.salt + bucket + "/" + key + "/")
	}
	return f.inodes.peek(f.salt + bucket + "/" + key)
}

var (
	_ = (gofs.NodeOnForgetter)((*fileNode)(nil))
	_ = (gofs.NodeOnForgetter)((*dirNode)(nil))
)

// OnForget gives the inode number back: the kernel holds the node no more.
func (n *fileNode) OnForget() { n.fs.inodes.release(n.StableAttr().Ino) }

// OnForget gives the inode number back: the kernel holds the node no more.
func (d *dirNode) OnForget() { d.fs.inodes.release(d.StableAttr().Ino) }
