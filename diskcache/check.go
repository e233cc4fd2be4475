package diskcache

import (
	"fmt"
	"hash/crc32"
	"runtime/debug"
	"syscall"
)

// Mapped returns [off, off+n) of the block as the kernel's own pages,
// mapped read-only, after checking the chunks that hold it: a caller that
// writes them to /dev/fuse sends checked bytes that were never copied into
// the process. The slice is valid until Close. Each chunk is checked once
// per open. It returns nil when the file turns out damaged (it is then
// removed) or cannot be mapped (then the caller reads with ReadAt).
//
// Block files are never changed in place (a new version is a new file,
// renamed over), so the pages checked are the pages sent. A file cut
// short by someone else while mapped makes a checksum fault (caught) or
// the write to /dev/fuse fail with EFAULT, never a crash.
func (b *Block) Mapped(off, n int64) []byte {
	if !b.check(off, n) {
		return nil
	}
	return b.mapped[b.data+off : b.data+off+n : b.data+off+n]
}

func (b *Block) check(off, n int64) bool {
	if off < 0 || n <= 0 || off+n > b.h.length {
		return false
	}
	first, last := int(off/chunkSize), int((off+n-1)/chunkSize)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mapped == nil {
		if b.mapFailed {
			return false
		}
		m, err := syscall.Mmap(int(b.f.Fd()), 0, int(b.data+b.h.length), syscall.PROT_READ, syscall.MAP_SHARED|syscall.MAP_POPULATE)
		if err != nil {
			b.mapFailed = true
			return false
		}
		b.mapped = m
		b.checked = make([]bool, len(b.h.crcs))
	}
	for i := first; i <= last; i++ {
		if b.checked[i] {
			continue
		}
		start := b.data + int64(i)*chunkSize
		end := min(start+chunkSize, b.data+b.h.length)
		sum, ok := checksumMapped(b.mapped[start:end])
		if !ok || sum != b.h.crcs[i] {
			b.damaged = true
			b.c.miss(b.rel, fmt.Errorf("%w: checksum of chunk %d", errCorrupt, i))
			return false
		}
		b.checked[i] = true
	}
	return true
}

// checksumMapped computes the CRC of mapped file pages. A file cut short
// under the mapping makes the access fault: that is reported, not a crash.
func checksumMapped(p []byte) (sum uint32, ok bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	return crc32.Checksum(p, castagnoli), true
}

// unmap drops the mapping; the block is being closed.
func (b *Block) unmap() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mapped != nil {
		_ = syscall.Munmap(b.mapped)
		b.mapped = nil
	}
}
