package fs

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
)

// maxHiddenLogged bounds the memory spent remembering which hidden keys
// were already logged, for buckets full of hostile keys.
const maxHiddenLogged = 10000

// FS is the state shared by every node of one mount.
type FS struct {
	cfg       Config
	store     s3io.Store
	cache     *cache.Cache
	inodes    *inodeTable
	log       *slog.Logger
	mountTime time.Time

	hiddenMu     sync.Mutex
	hiddenLogged map[string]struct{}

	openHandles atomic.Int64
}

// New builds the file system. The store and cache are shared by all nodes.
func New(cfg Config, store s3io.Store, c *cache.Cache) *FS {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &FS{
		cfg:          cfg,
		store:        store,
		cache:        c,
		inodes:       newInodeTable(),
		log:          log,
		mountTime:    time.Now(),
		hiddenLogged: make(map[string]struct{}),
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
	}
}

// logHidden notes, once per key, that a key is not shown.
func (f *FS) logHidden(bucket, key, why string) {
	id := bucket + "/" + key
	f.hiddenMu.Lock()
	_, seen := f.hiddenLogged[id]
	if !seen && len(f.hiddenLogged) < maxHiddenLogged {
		f.hiddenLogged[id] = struct{}{}
	}
	f.hiddenMu.Unlock()
	if !seen {
		f.log.Debug("key not shown", "bucket", bucket, "key", printableKey(key), "reason", why)
	}
}

// fresh reports whether something confirmed at t is still within the TTL.
func (f *FS) fresh(t time.Time) bool {
	return time.Since(t) < f.cfg.MetadataTTL
}

func (f *FS) dirIno(bucket, prefix string) uint64 {
	return f.inodes.get(bucket + "/" + prefix)
}

func (f *FS) fileIno(bucket, key string) uint64 {
	return f.inodes.get(bucket + "/" + key)
}
