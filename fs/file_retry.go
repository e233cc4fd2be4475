package fs

import (
	"sync"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// A file whose last close failed stays open in the mount while its upload
// is retried in the background: it shows and reads the bytes the program
// wrote, a new open continues from them, and its next close or fsync
// succeeds only once S3 has them. retainedWriters holds these writers with
// the node that shows each. The kernel may forget that node meanwhile; the
// next node made for the same object adopts the writer.
type retainedWriters struct {
	mu    sync.Mutex
	nodes map[*writeback.File]*fileNode
}

func (r *retainedWriters) set(w *writeback.File, n *fileNode) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.nodes == nil {
		r.nodes = make(map[*writeback.File]*fileNode)
	}
	r.nodes[w] = n
}

func (r *retainedWriters) remove(w *writeback.File) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.nodes, w)
}

// all returns the retained writers.
func (r *retainedWriters) all() []*writeback.File {
	r.mu.Lock()
	defer r.mu.Unlock()
	ws := make([]*writeback.File, 0, len(r.nodes))
	for w := range r.nodes {
		ws = append(ws, w)
	}
	return ws
}

func (r *retainedWriters) owner(w *writeback.File) *fileNode {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.nodes[w]
}

// at returns the retained writer of bucket/key, if any, that still holds
// bytes for it (not removed, not uploaded).
func (r *retainedWriters) at(bucket, key string) *writeback.File {
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.nodes {
		if b, k := w.Location(); b == bucket && k == key && w.UploadPending() {
			return w
		}
	}
	return nil
}

// retain keeps the node's writer after its last release, with bytes S3
// does not have, and starts retrying their upload. Called under openMu.
func (n *fileNode) retain(w *writeback.File) {
	bucket, key := w.Location()
	if err := w.Keep(); err != nil {
		n.fs.log.Error("staged data of a failed upload may not survive a crash", "bucket", bucket, "key", printableKey(key), "err", err)
	}
	n.fs.log.Warn("upload failed at close; the mount keeps the data and retries in the background",
		"bucket", bucket, "key", printableKey(key))
	n.fs.retained.set(w, n)
	w.RetryInBackground(n.fs.wb.RetryDelay(), func(info s3io.ObjectInfo, uploaded bool) { n.fs.retryDone(w, info, uploaded) })
}

// queue keeps the node's writer after its last release in asynchronous
// mode and uploads it in the background at once; a failure is retried as
// after a failed close. Called under openMu.
func (n *fileNode) queue(w *writeback.File) {
	if err := w.SealAsync(); err != nil { // closed through mmap or by a child only
		n.fs.log.Warn("staged file not sealed", "err", err)
	}
	n.fs.retained.set(w, n)
	w.UploadInBackground(asyncUploadDelay, func(info s3io.ObjectInfo, uploaded bool) { n.fs.retryDone(w, info, uploaded) })
}

// asyncUploadDelay is how long a file closed in asynchronous mode waits
// before its upload starts: what a program does right after a close
// (rsync's chmod, utimens and rename of its temporary file, tar's
// utimens) then goes with the one PUT, at the file's final name, instead
// of a copy each. fsync, s3mount sync and the unmount do not wait for it.
const asyncUploadDelay = 100 * time.Millisecond

// retryDone releases a retained writer that needs no more retries, unless
// a handle has it open again (its last release then decides).
func (f *FS) retryDone(w *writeback.File, info s3io.ObjectInfo, uploaded bool) {
	n := f.retained.owner(w)
	if n == nil {
		return
	}
	if n.retryEnded(w) {
		n.closeWriter(w) // after openMu: see closeWriter
	}
}

// retryEnded is retryDone under openMu; it reports whether w is to be
// closed.
func (n *fileNode) retryEnded(w *writeback.File) bool {
	f := n.fs
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	if n.writer() != w {
		f.retained.remove(w) // released already, by another loop's end
		return false
	}
	if wr.writers > 0 {
		return false
	}
	if w.Unsaved() {
		// Changed after the loop's last upload (a chmod or utimens right
		// after close): upload again; a loop started for that change
		// already makes this a no-op.
		w.RetryInBackground(0, func(info s3io.ObjectInfo, uploaded bool) { f.retryDone(w, info, uploaded) })
		return false
	}
	// releaseWriter records what the writer uploaded last; info may be
	// older (a rename may have moved the file since the retry began).
	return n.releaseWriter(w)
}

// releaseWriter drops the node's writer, and reports whether the caller
// must then close it (closeWriter), once it has let go of openMu. Called
// under openMu with no handle open.
func (n *fileNode) releaseWriter(w *writeback.File) bool {
	n.fs.retained.remove(w)
	n.fs.writers.remove(w)
	n.mu.Lock()
	current := n.writerLocked() == w
	if current {
		n.wr.w = nil
	}
	n.mu.Unlock()
	if !current {
		return false // released before
	}
	if c := w.Committed(); c != nil && !w.Unsaved() {
		// What the writer last uploaded (perhaps in the background) is
		// what S3 holds now.
		n.uploaded(*c, w.BaseOurs())
	}
	return true
}

// closeWriter releases a writer's staging file. It may send requests (an
// abort of a multipart upload, the delete of a parked copy), so it runs
// after openMu is let go: an open or stat of the file must not wait for
// them. Nothing refers to w any more.
func (n *fileNode) closeWriter(w *writeback.File) {
	if err := w.Close(); err != nil {
		n.fs.log.Error("closed with data not in S3", "err", err)
	}
}

// adoptRetained gives a new node the retained writer of its object.
func (n *fileNode) adoptRetained() {
	w := n.fs.retained.at(n.bucket, n.key)
	if w == nil {
		return
	}
	n.wr = &fileWriting{w: w}
	n.fs.retained.set(w, n)
}

// retainedInfo describes a retained writer's file, for a lookup that finds
// no node for it.
func retainedInfo(w *writeback.File) s3io.ObjectInfo {
	_, key := w.Location()
	meta := w.Meta()
	return s3io.ObjectInfo{Key: key, Size: w.Size(), Metadata: meta.UserMetadata, ContentType: meta.ContentType, HasMetadata: true}
}
