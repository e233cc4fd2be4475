package fs

import (
	"hash/fnv"
	"strings"
	"sync"
)

// inodeTable hands out inode numbers. A path's number is a hash of it
// (bucket + "/" + key, directories ending in "/"), so it is the same after
// the kernel forgets the node and after a remount, and tools comparing
// st_ino (find, tar, rsync) see a stable tree. The table holds only the
// numbers of nodes the kernel holds: they resolve hash collisions (a
// colliding path takes the next free number while the first is live) and
// keep a renamed file's number. Its size follows the kernel's inode cache,
// not the number of paths ever seen.
type inodeTable struct {
	mu     sync.Mutex
	live   map[uint64]string // number -> path of the live node holding it
	byPath map[string]uint64 // path -> number, for live nodes with a name
	// peak is the most numbers held since the maps were last made: Go maps
	// never give back the room of deleted entries, so after the kernel
	// forgets most of a million inodes (find, then drop_caches) the maps
	// are made again at their current size (see shrinkLocked).
	peak int
}

// minShrink is the size below which the maps are never made again.
const minShrink = 4096

func newInodeTable() *inodeTable {
	return &inodeTable{live: make(map[uint64]string), byPath: make(map[string]uint64)}
}

// hashIno is path's preferred number; 0 and 1 (the root's) are never used.
func hashIno(path string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(path))
	n := h.Sum64()
	if n < 2 {
		n += 2
	}
	return n
}

// get returns the number of path for a node about to be handed to the
// kernel, reserving it until release.
func (t *inodeTable) get(path string) uint64 {
	n, _ := t.getHeld(path)
	return n
}

// getHeld is get that also returns the table's copy of path, which the
// node can share (see FS.fileIno).
func (t *inodeTable) getHeld(path string) (uint64, string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.byPath[path]; ok {
		return n, t.live[n]
	}
	n := hashIno(path)
	for {
		if _, taken := t.live[n]; !taken {
			break
		}
		n++
		if n < 2 {
			n = 2
		}
	}
	t.live[n] = path
	t.byPath[path] = n
	t.peak = max(t.peak, len(t.live))
	return n, path
}

// peek returns path's number without reserving it (for readdir entries,
// which the kernel does not hold).
func (t *inodeTable) peek(path string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.byPath[path]; ok {
		return n
	}
	return hashIno(path)
}

// release frees number n: the kernel forgot its node.
func (t *inodeTable) release(n uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	path, ok := t.live[n]
	if !ok {
		return
	}
	delete(t.live, n)
	if t.byPath[path] == n {
		delete(t.byPath, path)
	}
	t.shrinkLocked()
}

// shrinkLocked makes the maps again when they hold less than a quarter of
// their peak: the copy costs what was deleted since the last one, so each
// release pays O(1) on average.
func (t *inodeTable) shrinkLocked() {
	if t.peak < minShrink || len(t.live) >= t.peak/4 {
		return
	}
	live := make(map[uint64]string, len(t.live))
	for n, p := range t.live {
		live[n] = p
	}
	byPath := make(map[string]uint64, len(t.byPath))
	for p, n := range t.byPath {
		byPath[p] = n
	}
	t.live, t.byPath, t.peak = live, byPath, len(live)
}

// forget detaches path from its number: the file was removed, and a file
// made under the name later is a new inode, while the removed one, still
// open, keeps its number until the kernel forgets it.
func (t *inodeTable) forget(path string) {
	t.mu.Lock()
	delete(t.byPath, path)
	t.mu.Unlock()
}

// rename gives newPath the number of oldPath, so that a renamed file keeps
// its st_ino while the kernel holds it.
func (t *inodeTable) rename(oldPath, newPath string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.byPath[oldPath]; ok {
		delete(t.byPath, oldPath)
		t.byPath[newPath] = n
		t.live[n] = newPath
	}
}

// renamePrefix does rename for every live path under oldPrefix; the cost
// follows the number of nodes the kernel holds.
func (t *inodeTable) renamePrefix(oldPrefix, newPrefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	moved := make(map[string]uint64)
	for p, n := range t.byPath {
		if strings.HasPrefix(p, oldPrefix) {
			delete(t.byPath, p)
			moved[newPrefix+strings.TrimPrefix(p, oldPrefix)] = n
		}
	}
	for p, n := range moved {
		t.byPath[p] = n
		t.live[n] = p
	}
}

// size is how many numbers are reserved.
func (t *inodeTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live)
}
