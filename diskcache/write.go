package diskcache

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// job is one block waiting to be written.
type job struct {
	id   string
	idx  int64
	data []byte
	sums *Sums
}

// Store queues block idx of id for writing, waiting while the queue is
// full (until ctx is done). data must not change afterwards. sums, when
// not nil, are data's checksums as it arrived (NewSums); the chunks they
// lack are summed by the writer. A wrong sum is no risk to readers: the
// block would fail its check and count as a miss.
func (c *Cache) Store(ctx context.Context, id string, idx int64, data []byte, sums *Sums) {
	c.enqueue(ctx, job{id: id, idx: idx, data: data, sums: sums}, true)
}

// Offer queues block idx of id for writing when there is room now, and
// drops it otherwise. The writer sums its chunks.
func (c *Cache) Offer(id string, idx int64, data []byte) {
	c.enqueue(context.Background(), job{id: id, idx: idx, data: data}, false)
}

func (c *Cache) enqueue(ctx context.Context, j job, wait bool) {
	n := int64(len(j.data))
	if n > c.opts.QueueBytes {
		return
	}
	c.closeMu.RLock()
	defer c.closeMu.RUnlock()
	if c.closed {
		return
	}
	if wait {
		if !c.room.TryAcquire(n) {
			// The disk is behind: the reader waits for it.
			c.stats.waited.Add(1)
			if c.room.Acquire(ctx, n) != nil {
				c.stats.dropped.Add(1)
				return
			}
		}
	} else if !c.room.TryAcquire(n) {
		c.stats.dropped.Add(1)
		return
	}
	// The queue holds fewer jobs than room allows only for tiny blocks;
	// then this waits for the writers, who never wait for anything held
	// here.
	c.queue <- j
}

func (c *Cache) writer() {
	defer c.wg.Done()
	for j := range c.queue {
		if err := c.write(j); err != nil {
			c.stats.failed.Add(1)
			c.warnOnce("write", "disk cache: writing a block failed; the block stays uncached (logged once)",
				"dir", c.opts.Dir, "err", err)
		}
		c.room.Release(int64(len(j.data)))
	}
}

// write puts one block in place: in a temporary file, renamed when
// complete. It evicts older blocks first when the block does not fit.
func (c *Cache) write(j job) error {
	rel := c.blockRel(j.id, j.idx)
	path := filepath.Join(c.root, rel)
	name := c.name(j.id)
	want := fileSize(name, int64(len(j.data)))
	if c.index.has(rel) {
		return nil
	}
	if st, err := os.Stat(path); err == nil && st.Size() == want {
		// Known to the directory but not yet to the index being rebuilt.
		return nil
	}
	if !c.makeRoom(diskSize(want)) {
		c.stats.dropped.Add(1)
		return nil
	}
	// Until the block is in the index, its room stays reserved, so that
	// two writers never both take the last room.
	defer c.space.unreserve(diskSize(want))
	tmp := filepath.Join(c.tmp, fmt.Sprintf("blk-%d", c.tmpSeq.Add(1)))
	err := c.writeFile(tmp, encodeHeader(name, j.idx*c.opts.BlockSize, j.data, j.sums.of(j.data)), j.data)
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(path), 0o700); err == nil {
			err = os.Rename(tmp, path)
		}
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("disk cache: write block %d: %w", j.idx, err)
	}
	c.index.add(rel, diskSize(want))
	c.space.took(diskSize(want))
	c.stats.writes.Add(1)
	c.stats.bytesWritten.Add(int64(len(j.data)))
	return nil
}

// writeFile writes a new file of header and data. It writes with
// O_DIRECT when the buffers allow it: through the page cache, writing a
// GiB costs a second or two of CPU on small virtual machines, which a cold
// read shares with the server; direct, it costs almost none (but the
// blocks are then not in the page cache until they are read). File
// systems that refuse O_DIRECT get buffered writes.
func (c *Cache) writeFile(path string, hdr, data []byte) error {
	if !c.noDirect.Load() && directOK(hdr) && directOK(data) {
		err := writeWith(path, syscall.O_DIRECT, hdr, data)
		if !errors.Is(err, syscall.EINVAL) {
			return err
		}
		os.Remove(path)
		c.noDirect.Store(true)
		c.log.Info("disk cache: the file system refuses O_DIRECT; blocks are written through the page cache", "dir", c.opts.Dir)
	}
	return writeWith(path, 0, hdr, data)
}

func writeWith(path string, flag int, hdr, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|flag, 0o600)
	if err != nil {
		return err
	}
	err = writeBoth(f, hdr, data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeBoth writes hdr then data with one writev: with O_DIRECT, two
// writes are two trips to the disk, each waited for.
func writeBoth(f *os.File, hdr, data []byte) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var n int
	var werr error
	if err := rc.Write(func(fd uintptr) bool {
		for {
			n, werr = unix.Writev(int(fd), [][]byte{hdr, data})
			if werr != unix.EINTR {
				return true
			}
		}
	}); err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	// A short write (the disk filled up, a signal): the rest, in order.
	for _, b := range [][]byte{hdr, data} {
		if n >= len(b) {
			n -= len(b)
			continue
		}
		if _, err := f.Write(b[n:]); err != nil {
			// Not wrapped: an EINVAL here (the rest of a direct write
			// is unaligned) is no refusal of O_DIRECT.
			return fmt.Errorf("write after a short write: %v", err)
		}
		n = 0
	}
	return nil
}

// directAlign is what O_DIRECT asks of buffers and lengths (4 KiB covers
// every logical block size in use).
const directAlign = 4096

// directOK reports whether b may be written with O_DIRECT: its address and
// length are multiples of directAlign. Go allocates large byte slices
// page-aligned, so whole blocks fetched from S3 qualify; an object's short
// last block does not, and is written through the page cache.
func directOK(b []byte) bool {
	return len(b)%directAlign == 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%directAlign == 0
}

// makeRoom evicts least recently used blocks until n more bytes fit,
// and a little more, so that evictions come in batches. It reports
// whether n fits.
func (c *Cache) makeRoom(n int64) bool {
	c.evictMu.Lock()
	defer c.evictMu.Unlock()
	over := c.space.over(n, c.index)
	if over <= 0 {
		c.space.reserve(n)
		return true
	}
	// Evict a batch: 1 % of the limit beyond what is needed.
	over += c.space.slack()
	for over > 0 {
		rel, ok := c.index.oldest()
		if !ok {
			c.warnOnce("full", "disk cache: full and nothing left to evict; blocks are not cached (logged once)",
				"dir", c.opts.Dir, "max_bytes", c.opts.MaxBytes)
			break
		}
		size, _ := c.index.remove(rel)
		path := filepath.Join(c.root, rel)
		_ = os.Remove(path)
		_ = os.Remove(filepath.Dir(path))
		c.space.freed(size)
		c.stats.evicted.Add(1)
		over -= size
	}
	if c.space.over(n, c.index) > 0 {
		return false
	}
	c.space.reserve(n)
	return true
}

// space tells how far over its limits the cache would be.
type space struct {
	dir   string
	max   int64
	floor float64

	mu sync.Mutex
	// Free space at the last statfs, and bytes taken (or freed) since.
	free, since, floorBytes, total int64
	at                             time.Time
	// reserved is room promised to blocks being written.
	reserved int64
}

func newSpace(dir string, max int64, floor float64) *space {
	return &space{dir: dir, max: max, floor: floor}
}

func (s *space) took(n int64)      { s.mu.Lock(); s.since += n; s.mu.Unlock() }
func (s *space) reserve(n int64)   { s.mu.Lock(); s.reserved += n; s.mu.Unlock() }
func (s *space) unreserve(n int64) { s.mu.Lock(); s.reserved -= n; s.mu.Unlock() }
func (s *space) freed(n int64)     { s.mu.Lock(); s.since -= n; s.mu.Unlock() }

// over returns by how many bytes n more would pass the size limit or the
// free-space floor (<= 0: it fits).
func (s *space) over(n int64, x *index) int64 {
	_, used := x.size()
	s.mu.Lock()
	defer s.mu.Unlock()
	n += s.reserved
	var over int64 = -1 << 62
	if s.max > 0 {
		over = used + n - s.max
	}
	if s.floor <= 0 {
		return over
	}
	if time.Since(s.at) > time.Second || s.free-s.since-n < s.floorBytes+64<<20 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(s.dir, &st); err == nil {
			s.free, s.since = int64(st.Bavail)*st.Bsize, 0
			s.total = int64(st.Blocks) * st.Bsize
			s.floorBytes = int64(float64(s.total) * s.floor)
			s.at = time.Now()
		}
	}
	return max(over, s.floorBytes-(s.free-s.since-n))
}

// slack is the extra an eviction frees: 1 % of the limit (or of the file
// system), so that not every write evicts.
func (s *space) slack() int64 {
	if s.max > 0 {
		return s.max / 100
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total / 100
}
