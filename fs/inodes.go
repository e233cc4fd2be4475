package fs

import (
	"strings"
	"sync"
)

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

// forget drops path's number: a file removed and made again is a new
// inode, as on any file system.
func (t *inodeTable) forget(path string) {
	t.mu.Lock()
	delete(t.ino, path)
	t.mu.Unlock()
}

// rename gives newPath the inode number of oldPath, so that a renamed file
// keeps its st_ino.
func (t *inodeTable) rename(oldPath, newPath string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n, ok := t.ino[oldPath]; ok {
		delete(t.ino, oldPath)
		t.ino[newPath] = n
	}
}

// renamePrefix does rename for every path under oldPrefix.
func (t *inodeTable) renamePrefix(oldPrefix, newPrefix string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	moved := make(map[string]uint64)
	for p, n := range t.ino {
		if strings.HasPrefix(p, oldPrefix) {
			delete(t.ino, p)
			moved[newPrefix+strings.TrimPrefix(p, oldPrefix)] = n
		}
	}
	for p, n := range moved {
		t.ino[p] = n
	}
}
