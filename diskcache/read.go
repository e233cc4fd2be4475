package diskcache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Block is one open block file whose header names the block asked for.
// Its bytes are checked as they are read: ReadAt reads the 64 KiB chunks
// that hold the range and compares their checksums, so a damaged file is
// found by the read that would have served it. Safe for concurrent use;
// Close it when done.
type Block struct {
	c    *Cache
	f    *os.File
	h    header
	rel  string
	data int64 // offset of the data in the file

	mu        sync.Mutex
	mapped    []byte // the file, mapped by Check
	mapFailed bool
	checked   []bool // chunks Check has verified
	damaged   bool   // Check found a bad chunk
}

// Open opens block idx of object id, n bytes long, when the disk holds
// it. A file whose header or length is wrong is removed (a miss). Opening
// counts as a use for the eviction order.
func (c *Cache) Open(id string, idx, n int64) (*Block, bool) {
	rel := c.blockRel(id, idx)
	f, h, data, err := c.open(rel, id, idx, n)
	if err != nil {
		c.miss(rel, err)
		return nil, false
	}
	c.index.touch(rel)
	now := syscall.NsecToTimeval(time.Now().UnixNano())
	_ = syscall.Futimes(int(f.Fd()), []syscall.Timeval{now, now})
	c.stats.hits.Add(1)
	return &Block{c: c, f: f, h: h, rel: rel, data: data}, true
}

// Close closes the file.
func (b *Block) Close() {
	b.unmap()
	b.f.Close()
}

// ReadAt fills p with the block's bytes at off, checked. It reports false
// when the range is outside the block or the file turns out damaged
// (then it is removed, so that the block is fetched and written again).
func (b *Block) ReadAt(p []byte, off int64) bool {
	n := b.h.length
	end := off + int64(len(p))
	if off < 0 || end > n {
		return false
	}
	b.mu.Lock()
	damaged := b.damaged
	b.mu.Unlock()
	if damaged {
		return false
	}
	if len(p) == 0 {
		return true
	}
	first := off / chunkSize * chunkSize
	last := min((end+chunkSize-1)/chunkSize*chunkSize, n)
	var err error
	if first == off && last == end {
		// Whole chunks (sequential reads): straight into p.
		err = b.readChunks(p, first)
	} else {
		buf := getScratch(int(last - first))
		if err = b.readChunks(buf, first); err == nil {
			copy(p, buf[off-first:])
		}
		putScratch(buf)
	}
	if err != nil {
		b.c.miss(b.rel, err)
		return false
	}
	b.c.stats.bytesRead.Add(int64(len(p)))
	return true
}

// readChunks reads whole chunks from offset first (a chunk boundary) into
// buf and checks them.
func (b *Block) readChunks(buf []byte, first int64) error {
	if _, err := b.f.ReadAt(buf, b.data+first); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return b.h.checkChunks(int(first/chunkSize), buf)
}

// scratch holds buffers for reads that do not cover whole chunks, so that
// random reads do not allocate (and fault in) new memory each time.
var scratch sync.Pool

func getScratch(n int) []byte {
	if b, ok := scratch.Get().(*[]byte); ok && cap(*b) >= n {
		return (*b)[:n]
	}
	return make([]byte, n, max(n, 2*chunkSize))
}

func putScratch(b []byte) {
	if cap(b) <= 4<<20 {
		scratch.Put(&b)
	}
}

// WillNeed asks the kernel to read block idx of id into the page cache
// ahead of the reader, when the disk holds it.
func (c *Cache) WillNeed(id string, idx int64) {
	f, err := os.Open(filepath.Join(c.root, c.blockRel(id, idx)))
	if err != nil {
		return
	}
	_ = unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_WILLNEED)
	f.Close()
}

// open opens a block file and checks that its header is block idx of id,
// n bytes long, and that the file is as long as the header says.
func (c *Cache) open(rel, id string, idx, n int64) (*os.File, header, int64, error) {
	f, err := os.Open(filepath.Join(c.root, rel))
	if err != nil {
		return nil, header{}, 0, err
	}
	h, data, err := readHeader(f)
	if err == nil {
		switch {
		case h.name != c.name(id) || h.offset != idx*c.opts.BlockSize:
			err = fmt.Errorf("%w: holds another block", errCorrupt)
		case h.length != n:
			err = fmt.Errorf("%w: %d bytes, want %d", errCorrupt, h.length, n)
		}
	}
	if err == nil {
		var st syscall.Stat_t
		if err = syscall.Fstat(int(f.Fd()), &st); err == nil && st.Size != data+n {
			err = fmt.Errorf("%w: file is %d bytes, want %d", errCorrupt, st.Size, data+n)
		}
	}
	if err != nil {
		f.Close()
		return nil, header{}, 0, err
	}
	return f, h, data, nil
}

// readHeader reads and checks a block file's header.
func readHeader(f *os.File) (header, int64, error) {
	b := getScratch(dataAlign)
	defer putScratch(b)
	got, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return header{}, 0, err
	}
	n, err := headerSize(b[:got])
	if err != nil {
		return header{}, 0, err
	}
	hb := b[:got]
	if n > got {
		hb = make([]byte, n)
		if _, err := f.ReadAt(hb, 0); err != nil {
			return header{}, 0, fmt.Errorf("%w: header: %v", errCorrupt, err)
		}
	}
	h, err := decodeHeader(hb)
	return h, dataOffset(n), err
}

// miss handles a block that could not be read: absent is a plain miss; a
// damaged file is removed (and logged), so that the block is fetched and
// written again.
func (c *Cache) miss(rel string, err error) {
	c.stats.misses.Add(1)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	c.stats.corrupt.Add(1)
	c.log.Warn("disk cache: block file is damaged; removed, the block is read from S3 again",
		"file", filepath.Join(c.root, rel), "err", err)
	c.remove(rel)
}

// Has reports whether the disk holds block idx of id: the index says so,
// or, while the index is still being rebuilt, the file exists.
func (c *Cache) Has(id string, idx int64) bool {
	rel := c.blockRel(id, idx)
	if c.index.has(rel) {
		return true
	}
	if c.index.isReady() {
		return false
	}
	_, err := os.Stat(filepath.Join(c.root, rel))
	return err == nil
}

// Kept returns how many bytes of an object of size bytes are held on
// disk: the lengths of the blocks whose files exist with the right size
// (their checksums are checked only when they are read).
func (c *Cache) Kept(id string, size int64) int64 {
	entries, err := os.ReadDir(filepath.Join(c.root, c.objectDir(id)))
	if err != nil {
		return 0
	}
	bs := c.opts.BlockSize
	var n int64
	for _, e := range entries {
		idx, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil || idx < 0 || idx*bs >= size {
			continue
		}
		length := min(bs, size-idx*bs)
		if info, err := e.Info(); err != nil || info.Size() != fileSize(c.name(id), length) {
			continue
		}
		n += length
	}
	return n
}

// remove deletes a block file, and its object's directory once empty.
func (c *Cache) remove(rel string) {
	path := filepath.Join(c.root, rel)
	if err := os.Remove(path); err == nil || errors.Is(err, fs.ErrNotExist) {
		if size, ok := c.index.remove(rel); ok {
			c.space.freed(size)
		}
	}
	_ = os.Remove(filepath.Dir(path)) // fails while other blocks are there
}
