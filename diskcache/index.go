package diskcache

import (
	"container/list"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// The index is in memory only: which block files exist, their sizes, and
// the order they were last used in (front: most recent). At open it is
// rebuilt in the background from a walk of the directory, ordered by the
// files' mtimes (a hit sets a file's mtime, so the order survives a
// remount). Nothing waits for the walk: reads open block files by name,
// and writes go on. Until it ends, the index undercounts what the
// directory holds, so that the size limit may be passed by what is written
// meanwhile; the first write after it evicts back under the limit.

type entry struct {
	rel  string
	size int64
}

type index struct {
	mu      sync.Mutex
	entries map[string]*list.Element
	lru     *list.List
	bytes   int64
	ready   chan struct{} // closed when the walk has ended
	took    time.Duration
	found   int
}

func newIndex() *index {
	return &index{entries: make(map[string]*list.Element), lru: list.New(), ready: make(chan struct{})}
}

func (x *index) has(rel string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	_, ok := x.entries[rel]
	return ok
}

// add records a block file just written (or replaced).
func (x *index) add(rel string, size int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if el, ok := x.entries[rel]; ok {
		e := el.Value.(*entry)
		x.bytes += size - e.size
		e.size = size
		x.lru.MoveToFront(el)
		return
	}
	x.entries[rel] = x.lru.PushFront(&entry{rel: rel, size: size})
	x.bytes += size
}

func (x *index) touch(rel string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if el, ok := x.entries[rel]; ok {
		x.lru.MoveToFront(el)
	}
}

func (x *index) remove(rel string) (int64, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	el, ok := x.entries[rel]
	if !ok {
		return 0, false
	}
	e := x.lru.Remove(el).(*entry)
	delete(x.entries, rel)
	x.bytes -= e.size
	return e.size, true
}

// oldest returns the least recently used block.
func (x *index) oldest() (string, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if el := x.lru.Back(); el != nil {
		return el.Value.(*entry).rel, true
	}
	return "", false
}

func (x *index) size() (n int, bytes int64) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.entries), x.bytes
}

func (x *index) isReady() bool {
	select {
	case <-x.ready:
		return true
	default:
		return false
	}
}

// rebuild walks root (HH/HASH/IDX) and adds what it finds behind what was
// used since the mount, oldest last.
func (x *index) rebuild(root string, log *slog.Logger) {
	start := time.Now()
	type found struct {
		rel   string
		size  int64
		mtime int64
	}
	// The top directories are walked by a few goroutines: the walk is
	// one lstat per block, and stats of different directories overlap.
	tops, _ := os.ReadDir(root)
	var mu sync.Mutex
	var all []found
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []found
			for top := range work {
				objs, _ := os.ReadDir(filepath.Join(root, top))
				for _, obj := range objs {
					dir := filepath.Join(top, obj.Name())
					blocks, _ := os.ReadDir(filepath.Join(root, dir))
					if len(blocks) == 0 {
						_ = os.Remove(filepath.Join(root, dir))
					}
					for _, b := range blocks {
						info, err := b.Info()
						if err != nil || !info.Mode().IsRegular() {
							continue
						}
						mine = append(mine, found{filepath.Join(dir, b.Name()), diskSize(info.Size()), info.ModTime().UnixNano()})
					}
				}
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	for _, top := range tops {
		if top.IsDir() && len(top.Name()) == 2 {
			work <- top.Name() // not lock, tmp
		}
	}
	close(work)
	wg.Wait()
	sort.Slice(all, func(i, j int) bool { return all[i].mtime > all[j].mtime })
	x.mu.Lock()
	for _, f := range all {
		if _, ok := x.entries[f.rel]; ok {
			continue // written or read since the mount: newer
		}
		x.entries[f.rel] = x.lru.PushBack(&entry{rel: f.rel, size: f.size})
		x.bytes += f.size
	}
	x.took, x.found = time.Since(start), len(all)
	x.mu.Unlock()
	close(x.ready)
	log.Info("disk cache: index rebuilt", "blocks", len(all), "took", x.took.Round(time.Millisecond))
}

// diskSize is what a file of n bytes occupies, in whole 4 KiB pages.
func diskSize(n int64) int64 { return (n + 4095) &^ 4095 }
