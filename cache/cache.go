package cache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"

	"github.com/dgraph-io/ristretto/v2"

	"github.com/s3mount/s3mount/diskcache"
)

// Options size the cache.
type Options struct {
	CacheBytes        int64 // memory budget for cached and read-ahead blocks
	BlockSize         int64 // bytes per block
	MaxConcurrency    int   // concurrent fetches across all readers
	MaxPrefetchBlocks int   // largest read-ahead window of one reader, in blocks
	// Disk, when set, is a second tier under the memory blocks: a miss in
	// memory reads from it before fetching, and fetched blocks go to it.
	Disk   *diskcache.Cache
	Logger *slog.Logger
}

// Object identifies one version of an object and how to read it.
type Object struct {
	// ID must change whenever the content may have changed (the caller
	// builds it from bucket, key and ETag).
	ID   string
	Size int64
	// Fetch fills p with the bytes at off; filled, when not nil, wants to
	// be told, as they arrive, how many bytes at the start of p are in
	// (s3io.ReadOptions.Filled).
	Fetch func(ctx context.Context, off int64, p []byte, filled func(n int)) (int, error)
	// OnDisk lets the object's blocks be kept in Options.Disk (the
	// caller says no for SSE-C objects, for instance).
	OnDisk bool
}

// Cache holds object blocks under a byte budget: half of it for blocks
// that ristretto may keep or evict as it likes, half for blocks fetched
// ahead for open readers, which must stay until they are read.
type Cache struct {
	opts       Options
	blocks     *ristretto.Cache[string, []byte]
	flight     flights
	fetchSlots chan struct{}
	ahead      *budget
	stats      counters
	log        *slog.Logger

	// holding are the blocks that Groups hold for readers to come.
	holdMu  sync.Mutex
	holding map[string]*heldBlock

	// closeMu orders Set against Close: ristretto's Close closes the
	// channel that Set sends on, and blocks reach the cache from
	// goroutines that may outlive the last reader.
	closeMu sync.RWMutex
	closed  bool
}

// New builds a cache.
func New(opts Options) (*Cache, error) {
	if opts.BlockSize <= 0 {
		return nil, errors.New("block size must be positive")
	}
	if opts.CacheBytes < 2*opts.BlockSize {
		return nil, fmt.Errorf("cache size %d is less than two blocks of %d", opts.CacheBytes, opts.BlockSize)
	}
	if opts.MaxConcurrency <= 0 {
		opts.MaxConcurrency = 16
	}
	aheadBytes := opts.CacheBytes / 2
	if opts.MaxPrefetchBlocks <= 0 {
		opts.MaxPrefetchBlocks = 8
	}
	if max := int(aheadBytes / opts.BlockSize); opts.MaxPrefetchBlocks > max {
		opts.MaxPrefetchBlocks = max
	}
	kept := opts.CacheBytes - aheadBytes
	rc, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters: max(1000, 10*kept/opts.BlockSize),
		MaxCost:     kept,
		BufferItems: 64,
		Metrics:     true, // for Stats.KeptBytes: a few striped atomic counters
	})
	if err != nil {
		return nil, fmt.Errorf("block cache: %w", err)
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Cache{
		opts:       opts,
		blocks:     rc,
		fetchSlots: make(chan struct{}, opts.MaxConcurrency),
		ahead:      newBudget(aheadBytes),
		log:        log,
		holding:    make(map[string]*heldBlock),
	}, nil
}

// Close releases the cache. Blocks that arrive afterwards are dropped.
func (c *Cache) Close() {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if !c.closed {
		c.closed = true
		c.blocks.Close()
	}
}

// keep offers a fetched block to the cache.
func (c *Cache) keep(key string, b []byte) {
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if !c.closed {
		c.blocks.Set(key, b, int64(cap(b)))
	}
}

// BlockSize is the size of a block.
func (c *Cache) BlockSize() int64 { return c.opts.BlockSize }

func blockKey(id string, idx int64) string {
	return id + "\x00" + strconv.FormatInt(idx, 10)
}

// fetchBlock returns block idx of obj, from the cache or from one fetch
// shared by every concurrent caller; it is kept in the cache afterwards.
func (c *Cache) fetchBlock(ctx context.Context, obj *Object, idx int64) ([]byte, error) {
	key := blockKey(obj.ID, idx)
	if b, ok := c.blocks.Get(key); ok {
		c.stats.hits.Add(1)
		c.offerDisk(obj, idx, b)
		return b, nil
	}
	c.stats.misses.Add(1)
	// The fetch is shared: one caller giving up does not fail the others;
	// it is cancelled when the last one gives up.
	return c.flight.do(ctx, key, func(fctx context.Context) ([]byte, error) {
		b, err := c.loadBlock(fctx, obj, idx)
		if err == nil {
			c.keep(key, b)
		}
		return b, err
	})
}

// loadBlock fetches block idx and hands it to the disk tier, with the
// checksums of its chunks computed as they arrived. Storing waits while
// the disk's queue is full, so that a reader slows to the disk's pace
// rather than leaving holes in it.
func (c *Cache) loadBlock(ctx context.Context, obj *Object, idx int64) ([]byte, error) {
	n := c.blockLen(obj, idx)
	buf := make([]byte, n)
	toDisk := c.opts.Disk != nil && obj.OnDisk
	var sums *diskcache.Sums
	var filled func(int)
	if toDisk {
		sums = diskcache.NewSums(buf)
		filled = sums.Filled
	}
	b, err := c.fetchInto(ctx, obj, idx*c.opts.BlockSize, buf, filled)
	if err != nil {
		return nil, err
	}
	if toDisk && int64(len(b)) == n {
		c.opts.Disk.Store(ctx, obj.ID, idx, b, sums)
	}
	return b, nil
}

// offerDisk hands a block found in memory to the disk tier when the disk
// lacks it (it was evicted there, or its write was dropped), so that
// reading a file through the mount always fills the disk.
func (c *Cache) offerDisk(obj *Object, idx int64, b []byte) {
	if c.opts.Disk != nil && obj.OnDisk && int64(len(b)) == c.blockLen(obj, idx) && !c.opts.Disk.Has(obj.ID, idx) {
		c.opts.Disk.Offer(obj.ID, idx, b)
	}
}

// Kept returns how many bytes of obj the disk tier holds, and false when
// there is no disk tier.
func (c *Cache) Kept(obj Object) (int64, bool) {
	if c.opts.Disk == nil {
		return 0, false
	}
	if !obj.OnDisk {
		return 0, true
	}
	return c.opts.Disk.Kept(obj.ID, obj.Size), true
}

// DiskStats returns the disk tier's counters, and false without one.
func (c *Cache) DiskStats() (diskcache.Stats, bool) {
	if c.opts.Disk == nil {
		return diskcache.Stats{}, false
	}
	return c.opts.Disk.Stats(), true
}

// HasDisk reports whether the cache has a disk tier.
func (c *Cache) HasDisk() bool { return c.opts.Disk != nil }

// fetchRange reads n bytes at off, within the global concurrency limit.
func (c *Cache) fetchRange(ctx context.Context, obj *Object, off, n int64) ([]byte, error) {
	return c.fetchInto(ctx, obj, off, make([]byte, n), nil)
}

// fetchInto is fetchRange into buf, telling filled as the bytes arrive.
func (c *Cache) fetchInto(ctx context.Context, obj *Object, off int64, buf []byte, filled func(int)) ([]byte, error) {
	select {
	case c.fetchSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-c.fetchSlots }()
	got, err := obj.Fetch(ctx, off, buf, filled)
	c.stats.fetches.Add(1)
	c.stats.bytesFetched.Add(int64(got))
	if err != nil {
		return nil, fmt.Errorf("read %d bytes at %d: %w", len(buf), off, err)
	}
	return buf[:got], nil
}

func (c *Cache) blockLen(obj *Object, idx int64) int64 {
	return min(c.opts.BlockSize, obj.Size-idx*c.opts.BlockSize)
}
