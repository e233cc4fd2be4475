package fs

import (
	"sync"

	"github.com/s3mount/s3mount/writeback"
)

// fileWriting is the write state of a file node, made when the file is
// first opened for writing (or created, renamed or removed with a writer
// possibly open) and kept for the node's life: few of the million nodes
// the kernel may hold ever have one, so the node itself stays small.
type fileWriting struct {
	// openMu serializes opening and releasing the staged writer.
	openMu sync.Mutex
	// w holds the file's bytes while it is open for writing (guarded by
	// the node's mu; set and cleared under openMu too).
	w *writeback.File
	// writers counts w's handles (guarded by openMu).
	writers int
	// unflushed counts write handles the program has not closed yet
	// (guarded by the node's mu): fchmod and futimens reach us without a
	// handle, and go out with the upload at close while one is open.
	unflushed int
}

// writingLocked returns the node's fileWriting, making it; n.mu is held.
func (n *fileNode) writingLocked() *fileWriting {
	if n.wr == nil {
		n.wr = &fileWriting{}
	}
	return n.wr
}

// writerLocked returns the staged writer, nil when the file is not open
// for writing; n.mu is held.
func (n *fileNode) writerLocked() *writeback.File {
	if n.wr == nil {
		return nil
	}
	return n.wr.w
}

// writer is writerLocked taking n.mu.
func (n *fileNode) writer() *writeback.File {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.writerLocked()
}

// lockOpen locks the node's openMu and returns its fileWriting; the caller
// unlocks wr.openMu.
func (n *fileNode) lockOpen() *fileWriting {
	n.mu.Lock()
	wr := n.writingLocked()
	n.mu.Unlock()
	wr.openMu.Lock()
	return wr
}
