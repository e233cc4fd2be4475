package writeback

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/s3mount/s3mount/s3io"
)

// readyPartsLocked returns the parts that a write of [off, end) finished:
// wholly written, with the writer already past them. Only such parts are
// streamed; the rest wait for the commit.
func (f *File) readyPartsLocked(off, end int64) []int {
	if end <= off {
		return nil
	}
	l := f.m.layout
	bs := f.blockSize()
	var ready []int
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	// A write that starts a part finishes the one before it.
	for n := l.partAt(max(off-1, 0)); n < l.partAt(end-1); n++ {
		from, size := l.partRange(n)
		if f.inflight[n] || f.streamed[n].gen == f.gen[n] && f.streamed[n].part.Number != 0 {
			continue
		}
		if !f.dirty.all(from/bs, (from+size)/bs) {
			continue
		}
		f.inflight[n] = true
		ready = append(ready, n)
	}
	return ready
}

// stream uploads ready parts in the background. It waits while the file
// has too many parts queued, so a writer cannot get arbitrarily far ahead
// of S3.
func (f *File) stream(ctx context.Context, ready []int) error {
	for i, n := range ready {
		select {
		case f.queue <- struct{}{}:
		case <-ctx.Done():
			f.stateMu.Lock()
			for _, m := range ready[i:] {
				delete(f.inflight, m)
			}
			f.idle.Broadcast()
			f.stateMu.Unlock()
			return ctx.Err()
		}
		f.stateMu.Lock()
		gen := f.gen[n]
		f.stateMu.Unlock()
		go f.uploadStreamed(n, gen)
	}
	return nil
}

// uploadStreamed uploads part n as it was at generation gen. A failure is
// only logged: the commit uploads the part again and reports its error.
func (f *File) uploadStreamed(n int, gen uint64) {
	var part = struct {
		ok  bool
		val streamedPart
	}{}
	defer func() {
		<-f.queue
		f.stateMu.Lock()
		delete(f.inflight, n)
		if part.ok && f.gen[n] == gen {
			f.streamed[n] = part.val
		}
		f.idle.Broadcast()
		f.stateMu.Unlock()
	}()
	ctx := f.m.ctx
	up, err := f.ensureUpload(ctx)
	if err != nil {
		f.m.log.Warn("starting multipart upload failed; will retry at close", "key", up.Key, "err", err)
		return
	}
	off, size := f.m.layout.partRange(n)
	p, err := f.uploadPart(ctx, up, n, off, size)
	if err != nil {
		f.m.log.Warn("part upload failed; will retry at close", "key", up.Key, "part", n, "err", err)
		return
	}
	part.ok, part.val = true, streamedPart{part: p, gen: gen}
}

// uploadPart uploads bytes [off, off+size) of the staging file as part n,
// within the mount's upload concurrency.
func (f *File) uploadPart(ctx context.Context, up s3io.Upload, n int, off, size int64) (s3io.Part, error) {
	if err := f.m.acquire(ctx); err != nil {
		return s3io.Part{}, err
	}
	defer f.m.release()
	body := io.NewSectionReader(f.staging, off, size)
	p, err := f.m.store.UploadPart(ctx, up, int32(n), body, size)
	if err != nil {
		return p, fmt.Errorf("upload part %d of %s: %w", n, up.Key, err)
	}
	p.Size = size
	f.partBytes.Add(size)
	return p, nil
}

// ensureUpload returns the file's multipart upload, starting it when there
// is none.
//
// mpMu, not stateMu, is held across the request: stat and listings read
// the file's metadata under stateMu and must not wait for S3.
func (f *File) ensureUpload(ctx context.Context) (s3io.Upload, error) {
	f.mpMu.Lock()
	defer f.mpMu.Unlock()
	f.stateMu.Lock()
	if f.mp != nil {
		up := *f.mp
		f.stateMu.Unlock()
		return up, nil
	}
	// A SetMeta after this point is caught by the commit, which compares
	// mpMeta with the final metadata.
	meta, bucket, key, ssec := f.shared.meta.clone(), f.shared.bucket, f.shared.key, f.shared.ssec
	f.stateMu.Unlock()
	opts := f.m.objectOptionsWithKey(meta, ssec)
	ref := f.uploadStarting(bucket, key)
	id, err := f.m.store.CreateMultipartUpload(ctx, bucket, key, opts)
	up := s3io.Upload{Bucket: bucket, Key: key, ID: id, SSEC: opts.SSEC, ContentMD5: opts.ContentMD5}
	if err != nil {
		return up, fmt.Errorf("start multipart upload of %s: %w", key, err)
	}
	f.uploadStarted(ref, id) // before an abort can find it in f.mp
	f.stateMu.Lock()
	f.mp, f.mpMeta = &up, meta
	f.stateMu.Unlock()
	return up, nil
}

// waitIdle waits until no part upload is running.
func (f *File) waitIdle() {
	f.stateMu.Lock()
	for len(f.inflight) > 0 {
		f.idle.Wait()
	}
	f.stateMu.Unlock()
}

// abortStreamLocked discards the multipart upload, if any, and its parts.
func (f *File) abortStreamLocked() {
	f.stateMu.Lock()
	up := f.mp
	f.mp = nil
	clear(f.streamed)
	f.stateMu.Unlock()
	f.partBytes.Store(0)
	if up == nil {
		return
	}
	if err := f.m.store.AbortMultipartUpload(context.WithoutCancel(f.m.ctx), *up); err != nil && !errors.Is(err, s3io.ErrNotFound) {
		// Still in the manifest: recovery aborts it if the file stays
		// staged; otherwise a lifecycle rule must.
		f.m.log.Warn("abort of multipart upload failed; its parts stay until recovery or a lifecycle rule removes them",
			"bucket", up.Bucket, "key", up.Key, "upload_id", up.ID, "err", err)
		return
	}
	f.uploadEnded(up.ID)
}
