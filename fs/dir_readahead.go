package fs

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
)

// Directory read-ahead.
//
// A program that reads the files of a directory one after another (`cat
// dir/*`, `tar c`, `cp -r` or `rsync` out of the mount) pays one GET per
// file, one at a time, unless the mount fetches the next files before they
// are opened. Each complete listing of a directory leaves behind its
// regular files (at most maxStreamFiles, for the maxStreams directories
// listed last) in two orders: the listing's (names: `cat dir/*`, `tar c`,
// `rsync`) and by inode number (`cp -r` sorts a directory so before it
// copies). When a program opens streamStart files of one directory in one
// of those orders, the next files in it (up to a window that doubles from
// 4 to maxStreamAhead) are fetched in parallel into the listing's
// cache.Group: their first block, for files of at most maxStreamFileSize
// bytes, within the block cache's read-ahead budget. The order followed
// longest fetches (both, while they agree so far: locally the two orders
// often coincide). An open that follows neither order closes the group,
// cancelling its fetches and letting go of what it holds; the group also
// lets go of its oldest blocks beyond twice the window. The read-ahead
// uses the listing's version of each file: one that changed since is
// simply never claimed, since a block is only found by the version the
// open sees.
const (
	maxStreams        = 8
	maxStreamFiles    = 10000
	maxStreamAhead    = 32
	maxStreamFileSize = 1 << 20
	streamStart       = 3
)

// listedFile is one regular file of a listing, as the read-ahead needs it.
type listedFile struct {
	name string
	ino  uint64
	info s3io.ObjectInfo // key, size, ETag and mtime only
}

// dirStreams are the recent listings' orders and the programs' progress
// through them.
type dirStreams struct {
	mu    sync.Mutex
	byDir map[string]*dirStream // by bucket "\x00" prefix
	order []string              // keys of byDir, least recently used first
}

// dirStream is one listing, followed in each order a program may use.
type dirStream struct {
	listedAt time.Time
	orders   []*fileOrder
	group    *cache.Group // what was fetched ahead, while some order is followed
	// names are every name the listing showed, and those made here since;
	// nil when there were more than maxStreamFiles (see listedAbsent).
	names map[string]struct{}
}

// fileOrder is a program's progress through a listing in one order.
type fileOrder struct {
	files []*listedFile
	index map[string]int
	last  int // the file opened last, -1 before the first
	run   int // files opened in this order so far, that one included
	ahead int // the last file fetched ahead
}

func newFileOrder(files []*listedFile) *fileOrder {
	o := &fileOrder{files: files, index: make(map[string]int, len(files)), last: -1, ahead: -1}
	for i, lf := range files {
		o.index[lf.name] = i
	}
	return o
}

// listedOrder collects a listing's regular files for the read-ahead, and
// its names.
type listedOrder struct {
	files     []listedFile
	full      bool // more than maxStreamFiles: only the first are kept
	names     []string
	namesFull bool // more than maxStreamFiles names: none are kept
}

// named records one name of the listing, of any type.
func (o *listedOrder) named(name string) {
	if o.namesFull {
		return
	}
	if len(o.names) == maxStreamFiles {
		o.names, o.namesFull = nil, true
		return
	}
	o.names = append(o.names, name)
}

func (o *listedOrder) add(name string, ino uint64, info *s3io.ObjectInfo) {
	if fileMode(info, syscall.S_IFREG)&syscall.S_IFMT != syscall.S_IFREG {
		return
	}
	if len(o.files) == maxStreamFiles {
		o.full = true
		return
	}
	o.files = append(o.files, listedFile{name: name, ino: ino, info: s3io.ObjectInfo{
		Key: info.Key, Size: info.Size, ETag: info.ETag, ModTime: info.ModTime, VersionID: info.VersionID,
	}})
}

// listed records the orders and names of a complete listing of
// bucket/prefix.
func (f *FS) listed(bucket, prefix string, o *listedOrder, at time.Time) {
	st := &dirStream{listedAt: at}
	if len(o.files) >= streamStart {
		byName := make([]*listedFile, len(o.files))
		for i := range o.files {
			byName[i] = &o.files[i]
		}
		byIno := slices.Clone(byName)
		slices.SortStableFunc(byIno, func(a, b *listedFile) int { return cmp.Compare(a.ino, b.ino) })
		st.orders = []*fileOrder{newFileOrder(byName), newFileOrder(byIno)}
	}
	if !o.namesFull {
		st.names = make(map[string]struct{}, len(o.names))
		for _, name := range o.names {
			st.names[name] = struct{}{}
		}
	}
	if st.orders == nil && st.names == nil {
		return
	}
	s := &f.streams
	id := bucket + "\x00" + prefix
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byDir == nil {
		s.byDir = make(map[string]*dirStream)
	}
	if old := s.byDir[id]; old != nil {
		old.stop()
		s.forgetLocked(id)
	}
	for len(s.order) >= maxStreams {
		s.byDir[s.order[0]].stop()
		delete(s.byDir, s.order[0])
		s.order = s.order[1:]
	}
	s.byDir[id] = st
	s.order = append(s.order, id)
}

func (s *dirStreams) forgetLocked(id string) {
	delete(s.byDir, id)
	if i := slices.Index(s.order, id); i >= 0 {
		s.order = slices.Delete(s.order, i, i+1)
	}
}

// openedForReading is told of every open of bucket/key for reading, and
// fetches ahead when the opens follow one of the listing's orders.
func (f *FS) openedForReading(bucket, key string) {
	slash := strings.LastIndexByte(key, '/')
	prefix, name := key[:slash+1], key[slash+1:]
	id := bucket + "\x00" + prefix
	s := &f.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byDir[id]
	if st == nil {
		return
	}
	if !f.fresh(st.listedAt) {
		st.stop() // the listing is too old to trust for read-ahead
		s.forgetLocked(id)
		return
	}
	// Every order follows the opens; the ones the program follows longest
	// fetch ahead.
	longest := 0
	for _, o := range st.orders {
		o.follow(name)
		longest = max(longest, o.run)
	}
	if longest < streamStart {
		st.stop() // no order is followed: what was fetched ahead will not be read
		return
	}
	if st.group == nil {
		st.group = f.cache.NewGroup(2 * maxStreamAhead)
	}
	for _, o := range st.orders {
		if o.run == longest {
			o.fetchAhead(f, bucket, st.group)
		}
	}
}

// follow moves the order's progress to name.
func (o *fileOrder) follow(name string) {
	i, ok := o.index[name]
	switch {
	case !ok || i == o.last:
		return // not in the listing, or the same file again
	case i == o.last+1:
		o.run++
	default:
		o.run, o.ahead = 1, i
	}
	o.last = i
}

// fetchAhead fetches into g the files after the one opened last, up to
// the window, that it has not fetched already.
func (o *fileOrder) fetchAhead(f *FS, bucket string, g *cache.Group) {
	i := o.last
	window := min(maxStreamAhead, 1<<min(o.run-1, 5))
	for j := max(o.ahead+1, i+1); j <= i+window && j < len(o.files); j++ {
		lf := o.files[j]
		o.ahead = j
		if lf.info.Size > maxStreamFileSize {
			continue
		}
		g.Fetch(f.cacheObject(bucket, lf.info.Key, &lf.info, f.cfg.ReadOptions))
	}
}

// stop closes the stream's group, if any.
func (st *dirStream) stop() {
	if st.group != nil {
		st.group.Close()
		st.group = nil
	}
}

// listedAbsent reports whether the last complete listing of bucket/prefix
// lacks name, when it began within --negative-metadata-ttl: a lookup of a
// new name in a directory just listed (cp, tar -x or rsync into it after
// ls, or rsync's own listing) then sends nothing.
func (f *FS) listedAbsent(bucket, prefix, name string) bool {
	s := &f.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.byDir[bucket+"\x00"+prefix]
	if st == nil || st.names == nil || time.Since(st.listedAt) >= f.cfg.NegativeTTL {
		return false
	}
	_, ok := st.names[name]
	return !ok
}

// named adds a name made in bucket/prefix to its listing's names.
func (f *FS) named(bucket, prefix, name string) {
	s := &f.streams
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.byDir[bucket+"\x00"+prefix]; st != nil && st.names != nil {
		st.names[name] = struct{}{}
	}
}
