package cache

// The disk tier (package diskcache) sits under the memory blocks. A
// reader that misses memory opens the block's file, when the disk holds
// it, and reads from it straight into the caller's buffer: a block from
// disk is never copied into memory of its own (the kernel's page cache
// holds it), so reading from disk allocates nothing, and the memory
// budget stays for blocks fetched from S3. Each read checks the
// checksums of the 64 KiB chunks it covers. A sequential reader keeps
// one block file open, and asks the kernel to read the next ones ahead
// (posix_fadvise WILLNEED) instead of fetching them.

import (
	"sync"

	"github.com/s3mount/s3mount/diskcache"
)

// Span is a range of a block that a caller may write out without copying
// it, while it holds the span: a memory block's bytes, or the kernel's
// pages of a disk-tier block file, mapped and checked. Release gives the
// file back; it may be called more than once, and Data must not be
// touched afterwards.
type Span struct {
	Data []byte

	once    sync.Once
	release func()
}

// Release gives up the span.
func (s *Span) Release() { s.once.Do(s.release) }

// span returns a span of m bytes at within of the disk block d, which the
// caller holds a use of (the span takes it over), or nil when the bytes
// cannot be checked in place (the use stays the caller's).
func (r *Reader) span(d *diskRef, within int64, m int) *Span {
	data := d.b.Mapped(within, int64(m))
	if data == nil {
		return nil // the caller reads with ReadAt, which sees any damage
	}
	return &Span{Data: data, release: func() { r.release(d) }}
}

// diskRef is the block file a reader is in, shared by its concurrent
// reads: it is closed once the reader has moved on and no read uses it.
type diskRef struct {
	b       *diskcache.Block
	idx     int64
	users   int
	retired bool
}

// onDisk reports whether the disk tier holds block idx (for read-ahead,
// which leaves such blocks to the disk).
func (r *Reader) onDisk(idx int64) bool {
	d := r.c.opts.Disk
	return d != nil && r.obj.OnDisk && !r.diskBad[idx] && d.Has(r.obj.ID, idx)
}

// openDisk opens block idx in the disk tier and makes it the reader's
// block file, with a use taken; nil when the disk does not hold it.
func (r *Reader) openDisk(idx int64) *diskRef {
	disk := r.c.opts.Disk
	if disk == nil || !r.obj.OnDisk {
		return nil
	}
	r.mu.Lock()
	bad := r.diskBad[idx]
	r.mu.Unlock()
	if bad {
		return nil
	}
	b, ok := disk.Open(r.obj.ID, idx, r.c.blockLen(&r.obj, idx))
	if !ok {
		return nil
	}
	r.c.stats.diskHits.Add(1)
	r.mu.Lock()
	if d := r.disk; d != nil && d.idx == idx {
		// Another read of this reader opened it meanwhile.
		d.users++
		r.mu.Unlock()
		b.Close()
		return d
	}
	old := r.disk
	d := &diskRef{b: b, idx: idx, users: 1}
	r.disk = d
	// Announce the blocks after this one to the kernel, once each.
	last := (r.obj.Size - 1) / r.c.opts.BlockSize
	from := max(idx+1, r.advised)
	to := min(idx+int64(r.c.opts.MaxPrefetchBlocks), last)
	if to >= from {
		r.advised = to + 1
	}
	r.mu.Unlock()
	r.retire(old)
	if to >= from {
		id := r.obj.ID
		go func() {
			for i := from; i <= to; i++ {
				disk.WillNeed(id, i)
			}
		}()
	}
	return d
}

// release gives up a use of d.
func (r *Reader) release(d *diskRef) {
	r.mu.Lock()
	d.users--
	done := d.retired && d.users == 0
	r.mu.Unlock()
	if done {
		d.b.Close()
	}
}

// retire closes d once its last use is given up.
func (r *Reader) retire(d *diskRef) {
	if d == nil {
		return
	}
	r.mu.Lock()
	d.retired = true
	done := d.users == 0
	r.mu.Unlock()
	if done {
		d.b.Close()
	}
}

// dropDisk forgets a block file whose read failed (the disk tier has
// removed it): this reader fetches the block instead.
func (r *Reader) dropDisk(d *diskRef) {
	r.mu.Lock()
	if r.diskBad == nil {
		r.diskBad = make(map[int64]bool)
	}
	r.diskBad[d.idx] = true
	current := r.disk == d
	if current {
		r.disk = nil
	}
	r.mu.Unlock()
	if current {
		r.retire(d)
	}
}

// readDisk fills p from the disk tier when it holds every block p covers.
// (A random read that misses fetches just its pages, which are not a
// block: it leaves nothing on disk.)
func (r *Reader) readDisk(p []byte, off int64) bool {
	disk := r.c.opts.Disk
	if disk == nil || !r.obj.OnDisk {
		return false
	}
	bs := r.c.opts.BlockSize
	for n := 0; n < len(p); {
		pos := off + int64(n)
		idx := pos / bs
		within := pos - idx*bs
		m := int(min(int64(len(p)-n), bs-within))
		b, ok := disk.Open(r.obj.ID, idx, r.c.blockLen(&r.obj, idx))
		if !ok {
			return false
		}
		ok = b.ReadAt(p[n:n+m], within)
		b.Close()
		if !ok {
			return false
		}
		n += m
	}
	r.c.stats.diskHits.Add(1)
	return true
}
