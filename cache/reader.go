package cache

import (
	"context"
	"sync"
)

// pageSize is the alignment of random reads.
const pageSize = 4096

// seqSlack is how far from the expected offset a read may start and still
// count as sequential. The kernel sends a sequential reader's read-ahead as
// up to a dozen concurrent requests of up to 1 MiB (FUSE's max_background
// and max_read), served by as many goroutines, so that on a busy machine a
// read arrives 4 MiB and more behind one that followed it; at 2 MiB such a
// read counted as a seek, which dropped the blocks fetched ahead and had
// them fetched again (2.7 GiB fetched for a cold cat of 1 GiB on 2 busy
// cores).
const seqSlack = 16 << 20

// Reader reads one object version for one open file handle. Its read-ahead
// state is its own. Safe for concurrent use.
type Reader struct {
	c      *Cache
	obj    Object
	ctx    context.Context // read-ahead fetches; cancelled by Close
	cancel context.CancelFunc

	mu        sync.Mutex
	nextOff   int64 // where a sequential read would start
	reads     int64
	streaming bool
	window    int
	lastIdx   int64
	pinned    map[int64]*ahead
	// cur is the block the reader is in, kept here because ristretto adds
	// blocks asynchronously and may refuse them; prev is the one it was
	// in before, for reads that arrive late (see seqSlack).
	curIdx, prevIdx int64
	cur, prev       []byte
	// disk is the block file the reader is in, when the disk tier holds
	// the block; advised is the next block to announce to the kernel;
	// diskBad are blocks whose file failed a read.
	disk    *diskRef
	advised int64
	diskBad map[int64]bool
}

// NewReader returns a reader for obj.
func (c *Cache) NewReader(obj Object) *Reader {
	ctx, cancel := context.WithCancel(context.Background())
	return &Reader{c: c, obj: obj, ctx: ctx, cancel: cancel, window: 1, lastIdx: -1, curIdx: -1, prevIdx: -1, pinned: make(map[int64]*ahead)}
}

// Close cancels the reader's read-ahead and releases its pinned blocks.
func (r *Reader) Close() {
	r.cancel()
	r.mu.Lock()
	for idx := range r.pinned {
		r.unpinLocked(idx, false)
	}
	old := r.disk
	r.disk = nil
	r.mu.Unlock()
	r.retire(old)
}

// ReadAt reads into p at off. It returns fewer bytes than len(p) only at
// the end of the object (and 0, nil at or past it).
func (r *Reader) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	n, _, err := r.read(ctx, p, off, false)
	return n, err
}

// ReadSpan is ReadAt, except that a read that falls within one block may
// come back as a Span of the block's bytes instead of bytes in p (n is
// then 0), for a caller that can send them without a copy: a block in
// memory, or the checked, mapped pages of a disk-tier block file. Release
// the span once its bytes are sent.
func (r *Reader) ReadSpan(ctx context.Context, p []byte, off int64) (int, *Span, error) {
	return r.read(ctx, p, off, true)
}

func (r *Reader) read(ctx context.Context, p []byte, off int64, spans bool) (int, *Span, error) {
	size := r.obj.Size
	if off >= size || len(p) == 0 {
		return 0, nil, nil
	}
	if rest := size - off; int64(len(p)) > rest {
		p = p[:rest]
	}
	bs := r.c.opts.BlockSize
	sequential := r.observe(off, int64(len(p)))
	if !sequential {
		n, err := r.readRandom(ctx, p, off)
		return n, nil, err
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		idx := pos / bs
		within := pos - idx*bs
		block, disk, err := r.block(ctx, idx)
		if err != nil {
			return n, nil, err
		}
		if disk != nil {
			m := int(min(int64(len(p)-n), r.c.blockLen(&r.obj, idx)-within))
			if spans && n == 0 && m == len(p) {
				if sp := r.span(disk, within, m); sp != nil {
					return 0, sp, nil
				}
			}
			ok := disk.b.ReadAt(p[n:n+m], within)
			r.release(disk)
			if !ok {
				r.dropDisk(disk) // damaged: the block is fetched instead
				continue
			}
			n += m
			continue
		}
		if within >= int64(len(block)) {
			break // the object was shorter than its size said
		}
		if spans && n == 0 && within+int64(len(p)) <= int64(len(block)) {
			// Blocks never change once fetched: the caller may send this
			// one's bytes as they are, without a copy into p.
			return 0, &Span{Data: block[within : within+int64(len(p)) : within+int64(len(p))], release: func() {}}, nil
		}
		n += copy(p[n:], block[within:])
	}
	return n, nil, nil
}

// observe records a read and reports whether it continues a sequential
// stream; a seek drops the read-ahead.
func (r *Reader) observe(off, n int64) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	// A stream starts with a read at the start of the object or exactly
	// where the last one ended. Once streaming, reads may arrive slightly
	// out of order (the kernel sends read-ahead requests concurrently), so
	// the stream goes on while they stay near the expected offset.
	var sequential bool
	switch {
	case r.reads == 0:
		sequential = off < r.c.opts.BlockSize
	case r.streaming:
		sequential = off >= r.nextOff-seqSlack && off <= r.nextOff+seqSlack
	default:
		sequential = off == r.nextOff
	}
	r.reads++
	r.streaming = sequential
	if sequential {
		r.nextOff = max(r.nextOff, off+n)
	} else {
		r.nextOff = off + n
	}
	if !sequential {
		r.window = 1
		r.lastIdx = -1
		for idx := range r.pinned {
			r.unpinLocked(idx, false)
		}
	}
	return sequential
}

// block returns block idx for a sequential reader, from memory or as an
// open block file of the disk tier (with a use taken: release it), and
// keeps the window of read-ahead going.
func (r *Reader) block(ctx context.Context, idx int64) ([]byte, *diskRef, error) {
	r.mu.Lock()
	if idx != r.lastIdx {
		if r.lastIdx >= 0 && idx == r.lastIdx+1 && r.window < r.c.opts.MaxPrefetchBlocks {
			r.window *= 2
			if r.window > r.c.opts.MaxPrefetchBlocks {
				r.window = r.c.opts.MaxPrefetchBlocks
			}
		}
		// Blocks behind the reader are done with: the cache may keep them.
		// The one just behind stays pinned for the reads that arrive late
		// (see seqSlack): handed to the cache, whose admission is
		// asynchronous and may refuse it, it could be missing for them.
		for i := range r.pinned {
			if i < idx-1 {
				r.unpinLocked(i, true)
			}
		}
		r.lastIdx = idx
	}
	r.prefetchLocked(idx)
	if r.curIdx == idx {
		b := r.cur
		r.mu.Unlock()
		return b, nil, nil
	}
	if r.prevIdx == idx {
		b := r.prev
		r.mu.Unlock()
		return b, nil, nil
	}
	if d := r.disk; d != nil && d.idx == idx {
		d.users++
		r.mu.Unlock()
		return nil, d, nil
	}
	r.mu.Unlock()

	b, ok, err := r.takePinned(ctx, idx)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		b, ok = r.c.takeHeld(ctx, blockKey(r.obj.ID, idx)) // fetched by a Group before the open
	}
	if !ok {
		if b, ok = r.c.blocks.Get(blockKey(r.obj.ID, idx)); ok {
			r.c.stats.hits.Add(1)
			r.c.offerDisk(&r.obj, idx, b)
		} else if d := r.openDisk(idx); d != nil {
			return nil, d, nil
		} else if b, err = r.c.fetchBlock(ctx, &r.obj, idx); err != nil {
			return nil, nil, err
		}
	}
	r.mu.Lock()
	r.prevIdx, r.prev = r.curIdx, r.cur
	r.curIdx, r.cur = idx, b
	r.mu.Unlock()
	return b, nil, nil
}

// readRandom serves a read after a seek: from cached blocks when they hold
// it, else with one fetch of just the pages it covers.
func (r *Reader) readRandom(ctx context.Context, p []byte, off int64) (int, error) {
	bs := r.c.opts.BlockSize
	first, last := off/bs, (off+int64(len(p))-1)/bs
	if first == last {
		if b, ok := r.c.blocks.Get(blockKey(r.obj.ID, first)); ok {
			r.c.stats.hits.Add(1)
			return copy(p, b[off-first*bs:]), nil
		}
	}
	if r.readDisk(p, off) {
		return len(p), nil
	}
	r.c.stats.misses.Add(1)
	start := off &^ (pageSize - 1)
	end := min((off+int64(len(p))+pageSize-1)&^(pageSize-1), r.obj.Size)
	buf, err := r.c.fetchRange(ctx, &r.obj, start, end-start)
	if err != nil {
		return 0, err
	}
	if off-start >= int64(len(buf)) {
		return 0, nil
	}
	return copy(p, buf[off-start:]), nil
}
