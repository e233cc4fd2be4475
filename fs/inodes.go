package fs

import "sync"

// inodeTable hands out inode numbers that stay the same for a path for the
// whole life of the mount, even after the kernel forgets the node, so that
// tools comparing st_ino (find, tar, rsync) see a stable tree.
type inodeTable struct {
	mu   sync.Mutex
	next uint64
	ino  map[string]uint64
}

func newInodeTable() *inodeTable {
	// 1 is the root's.
	return &inodeTable{next: 2, ino: make(map[string]uint64)}
}

// get returns the inode number of path, where path is bucket + "/" + key,
// directories ending in "/".
func (t *inodeTable) get(path string) uint64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.ino[path]; ok {
		return n
	}
	n := t.next
	t.next++
	t.ino[path] = n
	return n
}
