package cache

// Read-ahead design.
//
// Each Reader (one per open file handle) watches its own reads. A read that
// starts where the previous one ended, or at offset 0, is sequential; any
// other read is a seek, which drops the reader's read-ahead and resets its
// window to one block.
//
// While reads are sequential, the reader keeps up to `window` blocks after
// the current one in flight or fetched, each a separate ranged GET, so
// several GETs run at once. The window doubles each time the reader moves
// into a new block, up to MaxPrefetchBlocks. Blocks fetched ahead are
// pinned in the reader (ristretto may refuse or evict a block at any time,
// so the cache alone cannot hold them) until the reader has moved past
// them; then they are handed to the cache. Their bytes are taken from the
// cache's read-ahead budget; when it is spent, reading ahead stops short
// instead of growing memory. A synchronous read never waits for budget.
//
// A random read that misses the cache fetches just the bytes it needs
// (rounded out to 4 KiB), so random 4 KiB reads cost one small GET each,
// not a whole block.

import (
	"context"
)

// ahead is one block fetched (or being fetched) ahead of the reader.
type ahead struct {
	done chan struct{}
	buf  []byte
	err  error
	cost int64
}

// prefetchLocked starts fetches for the blocks after idx that the window
// covers and that are neither pinned nor cached.
func (r *Reader) prefetchLocked(idx int64) {
	c := r.c
	last := (r.obj.Size - 1) / c.opts.BlockSize
	for i := idx + 1; i <= idx+int64(r.window) && i <= last; i++ {
		if _, ok := r.pinned[i]; ok {
			continue
		}
		key := blockKey(r.obj.ID, i)
		if _, ok := c.blocks.Get(key); ok {
			continue
		}
		if r.onDisk(i) {
			continue // read from the disk tier; the kernel reads that ahead
		}
		cost := c.blockLen(&r.obj, i)
		if !c.ahead.tryTake(cost) {
			return
		}
		a := &ahead{done: make(chan struct{}), cost: cost}
		r.pinned[i] = a
		go func(i int64) {
			a.buf, a.err = c.loadBlock(r.ctx, &r.obj, i)
			close(a.done)
		}(i)
	}
}

// takePinned returns block idx if it was fetched ahead, waiting for the
// fetch to finish. A failed read-ahead is forgotten so that the caller
// fetches the block itself.
func (r *Reader) takePinned(ctx context.Context, idx int64) ([]byte, bool, error) {
	r.mu.Lock()
	a, ok := r.pinned[idx]
	r.mu.Unlock()
	if !ok {
		return nil, false, nil
	}
	select {
	case <-a.done:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	if a.err != nil {
		r.mu.Lock()
		r.unpinLocked(idx, false)
		r.mu.Unlock()
		return nil, false, nil
	}
	r.c.stats.prefetchHits.Add(1)
	return a.buf, true, nil
}

// unpinLocked drops block idx from the reader, handing a fetched block to
// the cache when keep is set, and returns its bytes to the budget.
func (r *Reader) unpinLocked(idx int64, keep bool) {
	a, ok := r.pinned[idx]
	if !ok {
		return
	}
	delete(r.pinned, idx)
	go func() {
		// Wait off the lock for a fetch still running (Close cancels it).
		<-a.done
		if keep && a.err == nil {
			r.c.keep(blockKey(r.obj.ID, idx), a.buf)
		}
		r.c.ahead.give(a.cost)
	}()
}
