package cache

import (
	"context"
	"sync"
	"time"
)

// Group fetches the first block of objects that a reader is expected to
// open next (the files of a directory read one after another: `cat dir/*`,
// `tar c`, `cp -r`, `rsync` out), several at once, and holds each until a
// Reader of that object version takes it or the group lets it go: at
// Close, or when it holds maxHeld blocks and fetches another (the oldest
// goes first; ristretto may still keep it), or groupIdle after its last
// Fetch.
//
// Held blocks are pinned outside ristretto (which may refuse a new block
// at any time) and paid for from the same read-ahead budget as a reader's
// own read-ahead: when it is spent, Fetch does nothing. A Reader finds a
// held block before it looks in ristretto, waiting for it when its fetch
// is still running.
type Group struct {
	c       *Cache
	maxHeld int
	ctx     context.Context // the fetches; cancelled by Close
	cancel  context.CancelFunc

	mu     sync.Mutex
	closed bool
	held   map[string]*heldBlock // by block key
	seq    int                   // fetches started, for the oldest-first order
	idle   *time.Timer           // lets go of every held block groupIdle after the last Fetch
}

// groupIdle is how long a group keeps what it holds after its last Fetch:
// a program that stopped reading the directory does not keep read-ahead
// budget pinned until the group is closed.
var groupIdle = 5 * time.Second // a variable for tests

// heldBlock is one block the group fetched (or is fetching).
type heldBlock struct {
	g    *Group
	seq  int // when it was fetched, oldest first
	cost int64
	done chan struct{} // closed when the fetch has ended
	buf  []byte        // set (under g.mu) when fetched
}

// NewGroup returns an empty group that holds at most maxHeld blocks.
func (c *Cache) NewGroup(maxHeld int) *Group {
	ctx, cancel := context.WithCancel(context.Background())
	return &Group{c: c, maxHeld: max(1, maxHeld), ctx: ctx, cancel: cancel, held: make(map[string]*heldBlock)}
}

// Fetch starts fetching block 0 of obj in the background, unless it is
// held or cached already (in memory or in the disk tier: then it asks the
// kernel to read the block's file ahead) or the read-ahead budget is
// spent. It reports whether a fetch was started.
func (g *Group) Fetch(obj Object) bool {
	c := g.c
	if obj.Size <= 0 {
		return false
	}
	key := blockKey(obj.ID, 0)
	if _, ok := c.blocks.Get(key); ok {
		return false
	}
	if disk := c.opts.Disk; disk != nil && obj.OnDisk && disk.Has(obj.ID, 0) {
		// The reader reads it from the disk tier, faster than a GET. The
		// kernel reads the file in meanwhile, so that files read one after
		// another do not each wait for the device in turn.
		go disk.WillNeed(obj.ID, 0)
		return false
	}
	cost := c.blockLen(&obj, 0)
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.held[key]; ok || g.closed {
		return false
	}
	if len(g.held) >= g.maxHeld {
		g.releaseOldestLocked()
	}
	c.holdMu.Lock()
	defer c.holdMu.Unlock()
	if _, ok := c.holding[key]; ok {
		return false // another group holds it
	}
	if !c.ahead.tryTake(cost) {
		return false
	}
	g.seq++
	if g.idle == nil {
		g.idle = time.AfterFunc(groupIdle, g.releaseAll)
	} else {
		g.idle.Reset(groupIdle)
	}
	h := &heldBlock{g: g, seq: g.seq, cost: cost, done: make(chan struct{})}
	g.held[key] = h
	c.holding[key] = h
	go func() {
		b, err := c.flight.do(g.ctx, key, func(fctx context.Context) ([]byte, error) {
			b, err := c.loadBlock(fctx, &obj, 0)
			if err == nil {
				c.keep(key, b)
			}
			return b, err
		})
		defer close(h.done)
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.held[key] != h {
			return // dropped or closed meanwhile: already paid back
		}
		if err != nil {
			g.releaseLocked(key, h) // the reader fetches it itself
			return
		}
		h.buf = b
	}()
	return true
}

// releaseOldestLocked lets go of the block fetched first.
func (g *Group) releaseOldestLocked() {
	var oldestKey string
	var oldest *heldBlock
	for key, h := range g.held {
		if oldest == nil || h.seq < oldest.seq {
			oldestKey, oldest = key, h
		}
	}
	if oldest != nil {
		g.releaseLocked(oldestKey, oldest)
	}
}

// Close cancels the group's fetches and lets go of every held block.
func (g *Group) Close() {
	g.cancel()
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.idle != nil {
		g.idle.Stop()
	}
	g.releaseAllLocked()
}

// releaseAll lets go of every held block, the group staying usable.
func (g *Group) releaseAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.releaseAllLocked()
}

func (g *Group) releaseAllLocked() {
	for key, h := range g.held {
		g.releaseLocked(key, h)
	}
}

// Held reports how many blocks the group holds or is fetching.
func (g *Group) Held() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.held)
}

func (g *Group) releaseLocked(key string, h *heldBlock) {
	delete(g.held, key)
	g.c.holdMu.Lock()
	if g.c.holding[key] == h {
		delete(g.c.holding, key)
	}
	g.c.holdMu.Unlock()
	g.c.ahead.give(h.cost)
}

// takeHeld returns block key when a group holds it, waiting for its
// fetch when that is still running, and lets the group go of it (the
// caller now owns the bytes).
func (c *Cache) takeHeld(ctx context.Context, key string) ([]byte, bool) {
	c.holdMu.Lock()
	h, ok := c.holding[key]
	c.holdMu.Unlock()
	if !ok {
		return nil, false
	}
	select {
	case <-h.done:
	case <-ctx.Done():
		return nil, false
	}
	g := h.g
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.held[key] != h || h.buf == nil {
		return nil, false // failed, or let go meanwhile
	}
	b := h.buf
	g.releaseLocked(key, h)
	c.stats.groupHits.Add(1)
	return b, true
}
