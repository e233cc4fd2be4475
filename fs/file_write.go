package fs

import (
	"context"
	"errors"
	"mime"
	"path"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// writeHandle is an open file whose bytes live in the node's staged
// writer. Every handle of a node shares one writer, so readers and writers
// of one file see the same bytes.
type writeHandle struct {
	n *fileNode
	w *writeback.File
	// reader: opened read-only while another descriptor writes; it reads
	// the writer's bytes and never commits them.
	reader bool

	flushed bool // closed by the program (guarded by n.mu)
	opener  int  // the thread that opened the handle, 0 if unknown
}

var (
	_ = (gofs.FileReader)((*writeHandle)(nil))
	_ = (gofs.FileWriter)((*writeHandle)(nil))
	_ = (gofs.FileFlusher)((*writeHandle)(nil))
	_ = (gofs.FileFsyncer)((*writeHandle)(nil))
	_ = (gofs.FileReleaser)((*writeHandle)(nil))
)

// openWriter returns a handle on the node's writer, staging the object
// first when nobody has it open for writing.
func (n *fileNode) openWriter(ctx context.Context, truncate bool) (*writeHandle, syscall.Errno) {
	if n.fs.readOnly() {
		return nil, syscall.EROFS
	}
	// The object's info (a HEAD, when a listing gave no metadata) is asked
	// for before openMu, so that a reader's open of the file need not wait
	// for it; under openMu it is then the node's (a writer that came and
	// went meanwhile updated it).
	if n.writer() == nil {
		if _, err := n.fullInfo(ctx); err != nil {
			return nil, n.fail("open for writing", err)
		}
	}
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	w := n.writer()
	if w == nil {
		info, err := n.fullInfo(ctx)
		if err != nil {
			return nil, n.fail("open for writing", err)
		}
		if fileMode(&info, 0)&syscall.S_IFMT == syscall.S_IFLNK {
			return nil, syscall.ELOOP
		}
		bucket, key := n.location()
		if truncate {
			w, err = n.fs.wb.Create(bucket, key, writeback.Meta{ContentType: info.ContentType, UserMetadata: info.Metadata})
		} else {
			w, err = n.fs.wb.Open(bucket, key, info)
		}
		if err != nil {
			return nil, n.fail("open for writing", err)
		}
		if key := n.ssecOwn(); key != nil {
			w.UseKey(key)
		}
		n.mu.Lock()
		wr.w, n.opened = w, false
		n.mu.Unlock()
		n.fs.writers.add(w)
	} else if truncate {
		if err := w.Truncate(ctx, 0); err != nil {
			return nil, n.fail("truncate", err)
		}
	}
	wr.writers++
	n.mu.Lock()
	wr.unflushed++
	n.mu.Unlock()
	return &writeHandle{n: n, w: w, opener: callerThread(ctx)}, 0
}

// shareWriter returns a handle on the node's writer when it has one.
func (n *fileNode) shareWriter() *writeHandle {
	if n.writer() == nil {
		// Not taking openMu: a chmod or truncate of a file nobody has
		// open holds it across its copy or upload.
		return nil
	}
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	w := n.writer()
	if w == nil {
		return nil
	}
	wr.writers++
	n.mu.Lock()
	wr.unflushed++
	n.mu.Unlock()
	return &writeHandle{n: n, w: w, reader: true}
}

// fail logs a failed operation on the node and returns its errno.
func (n *fileNode) fail(op string, err error) syscall.Errno {
	bucket, key := n.location()
	errno := toErrno(err)
	level := n.fs.log.Warn
	if errno == syscall.ENOENT || errors.Is(err, context.Canceled) {
		level = n.fs.log.Debug
	}
	level(op+" failed", "bucket", bucket, "key", printableKey(key), "err", err)
	return errno
}

// commit makes S3 hold what was written through the node's writer.
func (n *fileNode) commit(ctx context.Context, w *writeback.File) syscall.Errno {
	return n.commitWith(ctx, w, w.Commit)
}

// commitClose is commit for a program's close: a failed upload's data is
// durable before the program is told (see writeback.File.CommitClose).
func (n *fileNode) commitClose(ctx context.Context, w *writeback.File) syscall.Errno {
	return n.commitWith(ctx, w, w.CommitClose)
}

func (n *fileNode) commitWith(ctx context.Context, w *writeback.File, commit func(context.Context) (s3io.ObjectInfo, error)) syscall.Errno {
	ctx = uninterruptible(ctx)
	info, err := commit(ctx)
	switch {
	case errors.Is(err, writeback.ErrDiscarded):
		return 0
	case err != nil:
		return n.fail("upload", err)
	}
	n.uploaded(info, w.BaseOurs())
	return 0
}

func (h *writeHandle) Read(ctx context.Context, dest []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	ctx, done := killable(ctx) // as readHandle.Read: a handled signal is no EINTR
	defer done()
	got, err := h.w.ReadAt(ctx, dest, off)
	if err != nil {
		return nil, h.n.fail("read", err)
	}
	return fuse.ReadResultData(dest[:got]), 0
}

func (h *writeHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	ctx = uninterruptible(ctx)
	h.setFlushed(false) // a dup of a closed descriptor still writes
	got, err := h.w.WriteAt(ctx, data, off)
	if err != nil {
		return uint32(got), h.n.fail("write", err)
	}
	return uint32(got), 0
}

// Flush runs at every close(2): the program learns there whether S3 has
// its data. A handle opened for reading commits nothing: its close must
// never publish another descriptor's half-written bytes.
//
// A flush from another process than the one that opened the handle is
// not the program's close: a child that inherited the descriptor (any
// fork and exec, which closes it) would publish half-written bytes. Its
// upload waits for the program's own close, or for the last release (as
// in mountpoint-s3 and goofys).
func (h *writeHandle) Flush(ctx context.Context) syscall.Errno {
	if h.reader {
		h.setFlushed(true)
		return 0
	}
	if p := callerThread(ctx); !sameProcess(p, h.opener) {
		_, key := h.n.location()
		h.n.fs.log.Debug("close by a process that did not open the file: upload left to the opener's close",
			"key", printableKey(key), "pid", p, "opener", h.opener)
		return 0
	}
	h.setFlushed(true)
	if h.n.fs.cfg.AsyncUpload {
		// The bytes are staged; the upload follows the last release.
		if err := h.w.SealAsync(); err != nil {
			return h.n.fail("close", err)
		}
		return 0
	}
	return h.n.commitClose(ctx, h.w)
}

// setFlushed records whether the program has closed the handle, keeping
// the node's count of handles still open in the program.
func (h *writeHandle) setFlushed(flushed bool) {
	n := h.n
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case flushed && !h.flushed:
		n.wr.unflushed--
	case !flushed && h.flushed:
		n.wr.unflushed++
	}
	h.flushed = flushed
}

func (h *writeHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if h.reader && !(h.n.fs.cfg.AsyncUpload && h.w.Unsaved()) {
		return 0 // nothing of this descriptor's to make durable
	}
	// In asynchronous mode `sync FILE` (a read-only fsync) of a file whose
	// upload is queued waits for it, as fsync does on a local disk.
	return h.n.commit(ctx, h.w)
}

// Release drops the handle; the last one releases the staging file, or
// keeps it when its bytes never reached S3 (Flush reported that already).
func (h *writeHandle) Release(ctx context.Context) syscall.Errno {
	if h.release() {
		h.n.closeWriter(h.w)
	}
	return 0
}

// release is Release under openMu; it reports whether the writer is to be
// closed, which Release does after letting go of openMu.
func (h *writeHandle) release() bool {
	n := h.n
	h.setFlushed(true)
	wr := n.lockOpen()
	defer wr.openMu.Unlock()
	wr.writers--
	if wr.writers > 0 {
		return false
	}
	if n.fs.cfg.AsyncUpload {
		if h.w.Unsaved() {
			n.queue(h.w) // uploaded in the background, many files at once
			return false
		}
		return n.releaseWriter(h.w)
	}
	if h.w.ChangedSinceCommit() {
		// Changed after the last flush (a truncate or chmod between close
		// and release, or pages written through mmap): upload now. A flush
		// that failed is not tried again here.
		n.commit(context.Background(), h.w)
	}
	if h.w.Unsaved() {
		n.retain(h.w) // the program saw the error; the mount keeps trying
		return false
	}
	return n.releaseWriter(h.w)
}

// contentType guesses a new object's Content-Type from its name.
func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
