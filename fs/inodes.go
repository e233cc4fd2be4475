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
	mu sync.Mutex
	// live maps each number a node the kernel holds has to that node's
	// path, or to "" once the path was detached from it (the file was
	// removed, or replaced by a rename, while still held).
	live map[uint64]string
	// moved maps each live path whose number is not its hash (a collision
	// gave it the next free one, or a rename kept its old path's) to that
	// number. Nearly every live path has its hash: live alone finds it,
	// and this map stays small.
	moved map[string]uint64
	// peak is the most numbers held since the maps were last made: Go maps
	// never give back the room of deleted entries, so after the kernel
	// forgets most of a million inodes (find, then drop_caches) the maps
	// are made again at their current size (see shrinkLocked).
	peak int
}

// minShrink is the size below which the maps are never made again.
const minShrink = 4096

func newInodeTable() *inodeTable {
	return &inodeTable{live: make(map[uint64]string), moved: make(map[string]uint64)}
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

// numberLocked returns the number of path when a live node has it.
func (t *inodeTable) numberLocked(path string) (uint64, bool) {
	if n, ok := t.moved[path]; ok {
		return n, true
	}
	if n := hashIno(path); t.live[n] == path {
		return n, true
	}
	return 0, false
}

// setLocked gives number n to path.
func (t *inodeTable) setLocked(n uint64, path string) {
	t.live[n] = path
	if n != hashIno(path) {
		t.moved[path] = n
	}
}

// detachLocked takes path from the live node that has it, if any: a new
// node for the path gets a new number while the old one is still held.
func (t *inodeTable) detachLocked(path string) {
	if n, ok := t.numberLocked(path); ok {
		t.live[n] = ""
		delete(t.moved, path)
	}
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
	if n, ok := t.numberLocked(path); ok {
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
	t.setLocked(n, path)
	t.peak = max(t.peak, len(t.live))
	return n, path
}

// peek returns path's number without reserving it (for readdir entries,
// which the kernel does not hold).
func (t *inodeTable) peek(path string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.moved[path]; ok {
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
	if m, ok := t.moved[path]; ok && m == n {
		delete(t.moved, path)
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
	moved := make(map[string]uint64, len(t.moved))
	for p, n := range t.moved {
		moved[p] = n
	}
	t.live, t.moved, t.peak = live, moved, len(live)
}

// forget detaches path from its number: the file was removed, and a file
// made under the name later is a new inode, while the removed one, still
// open, keeps its number until the kernel forgets it.
func (t *inodeTable) forget(path string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.detachLocked(path)
}

// rename gives newPath the number of oldPath, so that a renamed file keeps
// its st_ino while the kernel holds it; a node still held at newPath (the
// file the rename replaced) keeps its number without the name.
func (t *inodeTable) rename(oldPath, newPath string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, ok := t.numberLocked(oldPath)
	if !ok {
		return
	}
	t.detachLocked(newPath)
	delete(t.moved, oldPath)
	t.setLocked(n, newPath)
}

// renamePrefix does rename for every live path under oldPrefix; the cost
// follows the number of nodes the kernel holds.
func (t *inodeTable) renamePrefix(oldPrefix, newPrefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	renamed := make(map[uint64]string)
	for n, p := range t.live {
		switch {
		case strings.HasPrefix(p, oldPrefix):
			renamed[n] = newPrefix + p[len(oldPrefix):]
			if m, ok := t.moved[p]; ok && m == n {
				delete(t.moved, p)
			}
		case strings.HasPrefix(p, newPrefix):
			// The replaced (empty) directory, if the kernel still holds it.
			t.live[n] = ""
			delete(t.moved, p)
		}
	}
	for n, p := range renamed {
		t.setLocked(n, p)
	}
}

// size is how many numbers are reserved.
func (t *inodeTable) size() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.live)
}
