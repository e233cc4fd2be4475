package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/s3io"
)

// Meta is what an object carries besides its bytes.
type Meta struct {
	ContentType  string
	UserMetadata map[string]string
}

func (m Meta) clone() Meta {
	return Meta{ContentType: m.ContentType, UserMetadata: maps.Clone(m.UserMetadata)}
}

func (m Meta) equal(o Meta) bool {
	return m.ContentType == o.ContentType && maps.Equal(m.UserMetadata, o.UserMetadata)
}

// ErrDiscarded is returned by a commit of a file that was removed.
var ErrDiscarded = errors.New("file was removed while open")

// File is one object open for writing, staged in a local file.
//
// opMu serializes the file's operations (writes, reads, truncates,
// commits); they may wait for S3 while holding it, which delays only other
// operations on this one file, like an inode lock. stateMu guards what the
// background part uploads share with them.
type File struct {
	m       *Manager
	staging *os.File  // nil while the bytes are in mem
	mem     *memStage // a new file's bytes until they spill (memstage.go)
	path    string    // of the staging file; stateMu and manMu guard its change

	opMu       sync.Mutex
	bucket     string
	key        string
	base       *s3io.ObjectInfo // the object the bytes start from; nil for a new one
	baseOurs   bool             // base was uploaded by this mount (see BaseIsOurs)
	keptGuards bool             // the commit being made copied the base onto itself
	baseLimit  int64            // bytes of base still visible: shrinking lowers it
	size       int64
	present    bitmap // blocks whose bytes are in the staging file
	dirty      bitmap // blocks written since the last commit
	changed    bool   // something to commit: bytes, size, metadata, or a new object
	changeSeq  uint64 // counts changes
	tried      uint64 // changeSeq at the last Commit
	manifested bool   // the manifest of this change is on disk
	sealed     bool   // that manifest says closed, durably (sealLocked)
	meta       Meta
	discarded  bool
	published  struct {
		size    atomic.Int64
		pending atomic.Bool
		base    atomic.Pointer[s3io.ObjectInfo] // read-only once stored
		unsaved atomic.Bool                     // Unsaved, without waiting for opMu
		sealed  atomic.Bool                     // the program closed the bytes staged
	}
	ssec s3io.SSECustomerKey // the file's own SSE-C key, if any
	// broken is the first failed write to the staging file (a full disk):
	// the file's bytes are not what the program wrote, so they are never
	// uploaded, and every later commit returns this error.
	broken error

	mpMu     sync.Mutex // held while the multipart upload is started
	stateMu  sync.Mutex
	idle     *sync.Cond // signalled when a part upload ends
	shared   target     // copy of bucket, key and meta for part uploads
	gen      map[int]uint64
	streamed map[int]streamedPart
	inflight map[int]bool
	mp       *s3io.Upload // the multipart upload streamed parts belong to
	mpMeta   Meta
	queue    chan struct{} // parts scheduled and not yet uploaded
	retrying bool          // a RetryInBackground loop runs
	// failures counts the commits that failed since the last one that
	// succeeded; lastErr is the last failure's message (for status).
	failures int
	lastErr  string
	// partBytes counts the bytes of parts uploaded to the current
	// multipart upload (a part sent again counts again), for status.
	partBytes atomic.Int64
	// parked is the copy of the base that a removed file reads its
	// unstaged bytes from (see Detach), if any.
	parked *parkedBase
	// detached is the base a fetching Detach let go of, for Reattach: a
	// removal that failed leaves that object in S3.
	detached *s3io.ObjectInfo
	// diskUsed is what the staging file occupied on disk when last
	// measured, as counted in the mount's staging budget.
	diskUsed int64

	// manMu orders writes of the manifest, which part uploads make too
	// (to record a multipart upload they begin); it guards onDisk, the
	// manifest last written (nil when there is none), and uploads.
	manMu   sync.Mutex
	onDisk  *manifest
	uploads []uploadRef
}

// target is where, with what metadata and SSE-C key the object goes.
type target struct {
	bucket, key string
	meta        Meta
	ssec        s3io.SSECustomerKey
}

type streamedPart struct {
	part s3io.Part
	gen  uint64
}

// Create starts a new object: it is committed even if nothing is written.
func (m *Manager) Create(bucket, key string, meta Meta) (*File, error) {
	f := m.newMemFile(bucket, key, meta)
	if f == nil {
		var err error
		if f, err = m.newFile(bucket, key, nil, meta); err != nil {
			return nil, err
		}
	}
	if err := f.markChangedLocked(); err != nil {
		f.remove()
		return nil, err
	}
	return f, nil
}

// Open starts changing base, an existing object (its info from HeadObject,
// so that its metadata is known). Nothing is fetched until needed.
func (m *Manager) Open(bucket, key string, base s3io.ObjectInfo) (*File, error) {
	meta := Meta{ContentType: base.ContentType, UserMetadata: base.Metadata}
	f, err := m.newFile(bucket, key, &base, meta)
	if err != nil {
		return nil, err
	}
	if err := f.staging.Truncate(base.Size); err != nil {
		f.remove()
		return nil, fmt.Errorf("staging file %s: %w", f.path, err)
	}
	f.size, f.baseLimit = base.Size, base.Size
	f.publishLocked()
	return f, nil
}

func (m *Manager) newFile(bucket, key string, base *s3io.ObjectInfo, meta Meta) (*File, error) {
	staging, err := m.createStaging()
	if err != nil {
		return nil, err
	}
	return m.fileFor(staging, bucket, key, base, meta), nil
}

// fileFor wraps a locked staging file (nil for a memory-staged file).
func (m *Manager) fileFor(staging *os.File, bucket, key string, base *s3io.ObjectInfo, meta Meta) *File {
	f := &File{
		m: m, staging: staging,
		bucket: bucket, key: key, base: base, meta: meta.clone(),
		gen:      make(map[int]uint64),
		streamed: make(map[int]streamedPart),
		inflight: make(map[int]bool),
		queue:    make(chan struct{}, m.opts.MaxQueuedParts),
	}
	if staging != nil {
		f.path = staging.Name()
	}
	f.idle = sync.NewCond(&f.stateMu)
	f.shared = target{bucket, key, meta.clone(), nil}
	f.publishLocked()
	return f
}

// BaseIsOurs says that the base was uploaded by this mount, with its
// write options and no tags or ACL set since: a change of metadata only
// then copies it without first reading its tags and ACL to put back
// (touch or chmod right after a close cost one request, not three).
func (f *File) BaseIsOurs() {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.baseOurs = true
}

// GuardsSet says that tags or an ACL were put on the base: a change of
// metadata must read them first, to put them back (see BaseIsOurs).
func (f *File) GuardsSet() {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.baseOurs = false
}

// BaseOurs reports whether the object S3 has for the file was uploaded by
// this mount with no tags or ACL of another's (see BaseIsOurs): after a
// commit of new bytes it is; after a copy of metadata onto a base that
// was not, it is not.
func (f *File) BaseOurs() bool {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.baseOurs
}

// UseKey makes the file read and write its object with this SSE-C key
// instead of the mount's (a key set for one file). Call it before any I/O.
func (f *File) UseKey(key s3io.SSECustomerKey) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.ssec = key
	f.shareLocked()
}

// readOptionsLocked are the options of reads of the base.
func (f *File) readOptionsLocked() s3io.ReadOptions {
	opts := f.m.opts.ReadOptions
	if f.ssec != nil {
		opts.SSEC = f.ssec
	}
	return opts
}

// objectOptionsLocked are the write options of the new object.
func (f *File) objectOptionsLocked() s3io.WriteOptions {
	return f.m.objectOptionsWithKey(f.meta, f.ssec)
}

// Size is the file's current size.
//
// Size, Meta and Pending do not wait for opMu, which an upload holds for
// its whole length: stat and readdir of a file being uploaded answer at
// once, from what publishLocked last recorded.
func (f *File) Size() int64 { return f.published.size.Load() }

// Meta returns the metadata the object will have.
func (f *File) Meta() Meta {
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	return f.shared.meta.clone()
}

// SetMeta changes the metadata the object will have (chmod, chown,
// utimens of an open file).
func (f *File) SetMeta(update func(*Meta)) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	update(&f.meta)
	if err := f.markChangedLocked(); err != nil {
		f.m.log.Warn("staging manifest not written", "err", err)
	}
	f.shareLocked()
}

// shareLocked publishes target and metadata to the part uploads.
func (f *File) shareLocked() {
	f.stateMu.Lock()
	f.shared = target{f.bucket, f.key, f.meta.clone(), f.ssec}
	f.stateMu.Unlock()
}

// ChangedSinceCommit reports whether something changed after the last
// Commit was tried (whether it succeeded or not).
func (f *File) ChangedSinceCommit() bool {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.changed && !f.discarded && f.changeSeq != f.tried
}

// Pending reports whether the file is new and S3 has no object for it
// yet: a listing cannot show it.
func (f *File) Pending() bool { return f.published.pending.Load() }

// publishLocked records size and state for Size and Pending.
func (f *File) publishLocked() {
	f.published.size.Store(f.size)
	f.published.pending.Store(f.base == nil && !f.discarded)
	f.published.base.Store(f.base)
	f.published.unsaved.Store(f.changed && !f.discarded && f.broken == nil)
	f.published.sealed.Store(f.sealed)
}

// ClosedByProgram reports whether the staged bytes are what the program
// closed (no write since its close), as last recorded.
func (f *File) ClosedByProgram() bool { return f.published.sealed.Load() }

// UploadPending is Unsaved as last recorded: it never waits for an upload
// in progress (stat, lookups and getxattr must not).
func (f *File) UploadPending() bool { return f.published.unsaved.Load() }

// Committed returns what S3 holds of the file as far as it knows (the
// object it started from, or its last upload), or nil for a new file not
// uploaded yet. It does not wait for an upload; do not modify the result.
func (f *File) Committed() *s3io.ObjectInfo { return f.published.base.Load() }

// Changed reports whether the file holds something S3 does not have yet.
func (f *File) Changed() bool {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.changed && !f.discarded
}

// Rename makes the file's next commit go to bucket/key. The caller
// commits first, so there is no multipart upload under the old key; moved
// is the base's copy at the new key (its ETag may differ), when known.
func (f *File) Rename(bucket, key string, moved *s3io.ObjectInfo) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.bucket, f.key = bucket, key
	if f.base != nil {
		base := *f.base
		base.Key = key
		if moved != nil && moved.ETag != "" {
			base.ETag = moved.ETag
		}
		f.base = &base
	}
	f.publishLocked()
	f.shareLocked()
}

// Retarget makes a file that S3 has no object for yet (Pending: new, never
// uploaded) go to bucket/key instead, with nothing to copy or delete: a
// rename of it. The manifest, if written, names the new key before
// Retarget returns, so a crash never publishes the file under the old one.
// It reports false, changing nothing, when S3 has the object by now (an
// upload ended meanwhile): the rename must then copy it.
func (f *File) Retarget(bucket, key string) (bool, error) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if f.base != nil {
		return false, nil
	}
	oldBucket, oldKey := f.bucket, f.key
	f.bucket, f.key = bucket, key
	f.manMu.Lock()
	onDisk := f.onDisk
	f.manMu.Unlock()
	if onDisk != nil {
		closed := onDisk.closed()
		if err := f.writeManifestLocked(closed, closed && !f.m.opts.AsyncUpload); err != nil {
			f.bucket, f.key = oldBucket, oldKey
			return false, err
		}
	}
	f.publishLocked()
	f.shareLocked()
	return true, nil
}

func (f *File) blockSize() int64 { return f.m.opts.BlockSize }

// needsFetchLocked reports whether block i holds base bytes that are not
// staged yet.
func (f *File) needsFetchLocked(i int64) bool {
	return !f.present.has(i) && i*f.blockSize() < f.baseLimit
}

// fetchLocked stages the base bytes of every block in [from, to) that
// lacks them, several at once.
func (f *File) fetchLocked(ctx context.Context, from, to int64) error {
	var missing []int64
	for i := from; i < to; i++ {
		if f.needsFetchLocked(i) {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := f.m.reserve(ctx, int64(len(missing))*f.blockSize()); err != nil {
		return err
	}
	defer f.measureLocked()
	opts := f.readOptionsLocked()
	opts.IfMatch = f.base.ETag // never mix bytes of two versions
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(f.m.opts.Concurrency)
	for _, i := range missing {
		g.Go(func() error {
			off := i * f.blockSize()
			buf := make([]byte, min(f.blockSize(), f.baseLimit-off))
			n, err := f.m.store.ReadRange(gctx, f.bucket, f.baseKeyLocked(), off, buf, opts)
			if err != nil {
				return fmt.Errorf("read %s at %d for staging: %w", f.key, off, err)
			}
			if n < len(buf) {
				return fmt.Errorf("read %s at %d for staging: %w", f.key, off, io.ErrUnexpectedEOF)
			}
			if _, err := f.stageWriteAt(buf, off); err != nil {
				return fmt.Errorf("staging file %s: %w", f.path, err)
			}
			return nil
		})
	}
	err := g.Wait()
	if err != nil {
		return err
	}
	for _, i := range missing {
		f.present.set(i)
	}
	return nil
}

// ReadAt reads the file's current bytes.
func (f *File) ReadAt(ctx context.Context, p []byte, off int64) (int, error) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if off >= f.size {
		return 0, nil
	}
	n := min(int64(len(p)), f.size-off)
	bs := f.blockSize()
	if err := f.fetchLocked(ctx, off/bs, (off+n+bs-1)/bs); err != nil {
		return 0, err
	}
	got, err := f.stageReadAt(p[:n], off)
	if err != nil && !errors.Is(err, io.EOF) {
		return got, fmt.Errorf("staging file %s: %w", f.path, err)
	}
	return got, nil
}

// WriteAt writes p at off. Base bytes of the blocks at either end that p
// covers only in part are staged first.
func (f *File) WriteAt(ctx context.Context, p []byte, off int64) (int, error) {
	end := off + int64(len(p))
	if end > maxObjectSize {
		return 0, fmt.Errorf("write beyond S3's object size limit: %w", syscall.EFBIG)
	}
	if len(p) == 0 {
		return 0, nil
	}
	f.opMu.Lock()
	bs := f.blockSize()
	if err := f.m.reserve(ctx, f.newBytesLocked(off, end)); err != nil {
		// As with a full disk: the file is not what the program meant to
		// write, so it is never uploaded.
		f.broken = err
		f.publishLocked()
		f.opMu.Unlock()
		return 0, err
	}
	for _, i := range []int64{off / bs, (end - 1) / bs} {
		if f.needsFetchLocked(i) && !f.coversBaseLocked(i, off, end) {
			if err := f.fetchLocked(ctx, i, i+1); err != nil {
				f.opMu.Unlock()
				return 0, err
			}
		}
	}
	if err := f.unsealLocked(); err != nil {
		f.opMu.Unlock()
		return 0, err
	}
	n, err := f.stageWriteAt(p, off)
	f.measureLocked()
	if n > 0 {
		written := off + int64(n)
		for i := off / bs; i <= (written-1)/bs; i++ {
			f.present.set(i)
			f.dirty.set(i)
		}
		f.size = max(f.size, written)
		f.publishLocked()
		f.touchPartsLocked(off, written)
		if merr := f.markChangedLocked(); merr != nil && err == nil {
			err = merr
		}
	}
	ready := f.readyPartsLocked(off, off+int64(n))
	if err != nil {
		err = fmt.Errorf("staging file %s: %w", f.path, err)
		f.broken = err
		f.publishLocked()
	}
	f.opMu.Unlock()
	if err != nil {
		return n, err
	}
	return n, f.stream(ctx, ready)
}

// coversBaseLocked reports whether [off, end) covers every base byte of
// block i, so the block need not be fetched before the write.
func (f *File) coversBaseLocked(i, off, end int64) bool {
	from := i * f.blockSize()
	to := min(from+f.blockSize(), f.baseLimit)
	return off <= from && end >= to
}

// touchPartsLocked marks the parts holding [off, end) as changed, so that
// an upload of their old bytes is not used.
func (f *File) touchPartsLocked(off, end int64) {
	l := f.m.layout
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	for n := l.partAt(off); n <= l.partAt(end-1); n++ {
		f.gen[n]++
	}
}

// Truncate changes the file's size; new bytes read as zeros.
func (f *File) Truncate(ctx context.Context, size int64) error {
	if size > maxObjectSize {
		return fmt.Errorf("truncate beyond S3's object size limit: %w", syscall.EFBIG)
	}
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if err := f.unsealLocked(); err != nil {
		return err
	}
	if err := f.stageTruncate(size); err != nil {
		f.broken = fmt.Errorf("staging file %s: %w", f.path, err)
		f.publishLocked()
		return f.broken
	}
	f.measureLocked()
	bs := f.blockSize()
	if size < f.size {
		f.baseLimit = min(f.baseLimit, size)
		f.dirty.clearFrom((size + bs - 1) / bs)
	}
	from := min(size, f.size)
	f.size = size
	f.publishLocked()
	if err := f.markChangedLocked(); err != nil {
		return err
	}
	l := f.m.layout
	f.stateMu.Lock()
	last := l.parts(size)
	for n := range f.gen {
		if n >= l.partAt(from) || n > last {
			f.gen[n]++
		}
	}
	for n := range f.streamed {
		if n > last {
			delete(f.streamed, n)
		}
	}
	f.stateMu.Unlock()
	return nil
}

// Close releases the staging file. A file whose changes never reached S3
// keeps it, and Close says where.
func (f *File) Close() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.waitIdle()
	f.abortStreamLocked()
	f.dropParkedLocked()
	if f.broken != nil {
		f.remove() // bytes the program was told were not written; free the disk
		return fmt.Errorf("%s/%s not uploaded: %w", f.bucket, f.key, f.broken)
	}
	if f.changed && !f.discarded {
		// The data must survive a crash before the program is told it is
		// kept (a failed close sealed it already; see CommitClose).
		err := f.sealLocked()
		if f.staging == nil { // no staging file could be made for it
			f.remove()
			f.m.log.Error("upload never completed and the data could not be staged on disk: lost",
				"bucket", f.bucket, "key", f.key, "err", err)
			return fmt.Errorf("%s/%s not uploaded: %w", f.bucket, f.key, err)
		}
		f.unmeasure() // the next mount's now
		f.staging.Close()
		f.m.log.Error("upload never completed: data kept in the staging directory",
			"bucket", f.bucket, "key", f.key, "path", f.path, "manifest_err", err)
		return fmt.Errorf("%s/%s not uploaded; data kept in %s", f.bucket, f.key, f.path)
	}
	f.remove()
	return nil
}

func (f *File) remove() {
	f.unmeasure()
	if f.staging == nil {
		f.mem = nil
		return
	}
	f.staging.Close()
	unlinkMissingOK(f.path)
	f.manMu.Lock()
	onDisk := f.onDisk
	f.manMu.Unlock()
	if onDisk != nil || f.manifested {
		unlinkMissingOK(manifestPath(f.path))
	}
}

// newInfo is what S3 holds after a successful commit.
func (f *File) newInfoLocked(info s3io.ObjectInfo) s3io.ObjectInfo {
	info.Key = f.key
	info.Size = f.size
	info.Metadata = maps.Clone(f.meta.UserMetadata)
	info.ContentType = f.meta.ContentType
	info.HasMetadata = true
	if info.ModTime.IsZero() {
		info.ModTime = time.Now()
	}
	// Multipart completions and copies do not echo these back.
	opts := f.objectOptionsLocked()
	if info.StorageClass == "" {
		info.StorageClass = opts.StorageClass
	}
	if info.SSE == "" {
		info.SSE, info.SSEKMSKeyID = opts.SSE, opts.SSEKMSKeyID
	}
	return info
}
