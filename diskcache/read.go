package diskcache

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Load returns block idx of object id when the disk holds it, complete
// (n bytes) and intact. A file that fails its checks is removed, and the
// block is a miss.
func (c *Cache) Load(id string, idx, n int64) ([]byte, bool) {
	rel := c.blockRel(id, idx)
	f, h, err := c.open(rel, id, idx, n)
	if err != nil {
		c.miss(rel, err)
		return nil, false
	}
	defer f.Close()
	buf := make([]byte, n)
	if err := c.readChunks(f, h, 0, buf); err != nil {
		c.miss(rel, err)
		return nil, false
	}
	c.used(f, rel)
	c.stats.hits.Add(1)
	c.stats.bytesRead.Add(n)
	return buf, true
}

// LoadAt fills p with the bytes at off within block idx of id (n bytes
// long), reading and checking only the chunks that hold them.
func (c *Cache) LoadAt(id string, idx, n int64, p []byte, off int64) bool {
	if off < 0 || off+int64(len(p)) > n {
		return false
	}
	rel := c.blockRel(id, idx)
	f, h, err := c.open(rel, id, idx, n)
	if err != nil {
		c.miss(rel, err)
		return false
	}
	defer f.Close()
	first := off / chunkSize
	end := min((off+int64(len(p))+chunkSize-1)/chunkSize*chunkSize, n)
	buf := make([]byte, end-first*chunkSize)
	if err := c.readChunks(f, h, int(first), buf); err != nil {
		c.miss(rel, err)
		return false
	}
	copy(p, buf[off-first*chunkSize:])
	c.used(f, rel)
	c.stats.hits.Add(1)
	c.stats.bytesRead.Add(int64(len(p)))
	return true
}

// fileHandle is an open block file and where its data starts.
type fileHandle struct {
	*os.File
	data int64
}

// open opens a block file and checks that its header is block idx of id,
// n bytes long, and that the file is as long as the header says.
func (c *Cache) open(rel, id string, idx, n int64) (fileHandle, header, error) {
	f, err := os.Open(filepath.Join(c.root, rel))
	if err != nil {
		return fileHandle{}, header{}, err
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
		return fileHandle{}, header{}, err
	}
	return fileHandle{File: f, data: data}, h, nil
}

// readHeader reads and checks a block file's header.
func readHeader(f *os.File) (header, int64, error) {
	b := make([]byte, dataAlign)
	got, err := f.ReadAt(b, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return header{}, 0, err
	}
	b = b[:got]
	n, err := headerSize(b)
	if err != nil {
		return header{}, 0, err
	}
	if n > len(b) {
		more := make([]byte, n)
		if _, err := f.ReadAt(more, 0); err != nil {
			return header{}, 0, fmt.Errorf("%w: header: %v", errCorrupt, err)
		}
		b = more
	}
	h, err := decodeHeader(b)
	return h, dataOffset(n), err
}

// readChunks reads buf from chunk first on and checks it.
func (c *Cache) readChunks(f fileHandle, h header, first int, buf []byte) error {
	if _, err := f.ReadAt(buf, f.data+int64(first)*chunkSize); err != nil {
		return fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return h.checkChunks(first, buf)
}

// miss handles a block that could not be read: absent is a plain miss; a
// corrupted file is removed (and logged), so that the block is fetched and
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

// used records a hit: the block moves to the front of the eviction order,
// and its mtime says so for the index the next mount rebuilds.
func (c *Cache) used(f fileHandle, rel string) {
	c.index.touch(rel)
	now := time.Now()
	tv := []syscall.Timeval{syscall.NsecToTimeval(now.UnixNano()), syscall.NsecToTimeval(now.UnixNano())}
	_ = syscall.Futimes(int(f.Fd()), tv)
}

// Has reports whether the index knows block idx of id. (While the index
// is being rebuilt it may not know a block that is there.)
func (c *Cache) Has(id string, idx int64) bool { return c.index.has(c.blockRel(id, idx)) }

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
