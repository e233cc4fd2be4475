package writeback

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/s3io"
)

// Commit makes S3 hold the file as it is now, and returns the object's
// info. It returns only when S3 has acknowledged the object. On failure
// the multipart upload is aborted and the file stays changed, so a later
// Commit tries again and Close keeps the staged bytes.
func (f *File) Commit(ctx context.Context) (s3io.ObjectInfo, error) {
	return f.commit(ctx, false)
}

// CommitClose is Commit for a program's close. When the upload fails,
// the staged bytes and a manifest saying the program closed the file are
// fsynced before it returns, so the next mount uploads them even if this
// one dies right after telling the program. (A failed fsync does not
// seal: the program may still be in the middle of writing.)
func (f *File) CommitClose(ctx context.Context) (s3io.ObjectInfo, error) {
	return f.commit(ctx, true)
}

func (f *File) commit(ctx context.Context, closing bool) (s3io.ObjectInfo, error) {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	f.tried = f.changeSeq
	if f.discarded {
		f.waitIdle()
		f.abortStreamLocked()
		return s3io.ObjectInfo{}, ErrDiscarded
	}
	if f.broken != nil {
		f.waitIdle()
		f.abortStreamLocked()
		return s3io.ObjectInfo{}, f.broken
	}
	if !f.changed {
		if f.base == nil {
			return s3io.ObjectInfo{Key: f.key}, nil
		}
		return *f.base, nil
	}
	f.waitIdle()
	var info s3io.ObjectInfo
	var err error
	f.stateMu.Lock()
	stale := f.mp != nil && (f.mp.Bucket != f.bucket || f.mp.Key != f.key)
	streaming := f.mp != nil && !stale
	f.stateMu.Unlock()
	if stale {
		// Parts streamed before a rename belong to the old key: the
		// object must not appear there.
		f.abortStreamLocked()
	}
	if f.size <= f.m.layout.partSize(1) || f.onlyMetaChangedLocked() && f.size <= maxCopySize && !streaming {
		info, err = f.commitSingleLocked(ctx)
		f.abortStreamLocked()
	} else {
		info, err = f.commitMultipartLocked(ctx)
	}
	if err != nil {
		f.abortStreamLocked()
		f.m.log.Warn("upload failed; data stays staged", "bucket", f.bucket, "key", f.key, "path", f.path, "err", err)
		if ctx.Err() == nil { // an unmount or a cancelled sync is no failure of the upload
			f.m.failed.Add(1)
			f.stateMu.Lock()
			f.failures++
			f.lastErr = err.Error()
			f.stateMu.Unlock()
		}
		if closing {
			if serr := f.sealLocked(); serr != nil {
				f.m.log.Error("staged data of a failed close not made durable", "path", f.path, "err", serr)
			}
		}
		return s3io.ObjectInfo{}, err
	}
	info = f.newInfoLocked(info)
	f.stateMu.Lock()
	f.failures, f.lastErr = 0, ""
	f.stateMu.Unlock()
	f.partBytes.Store(0)
	// A copy of the base onto itself keeps what it had (tags and an ACL
	// put back, for a base that was not this mount's own upload).
	ours := !f.keptGuards || f.baseOurs
	f.keptGuards = false
	f.base, f.baseOurs = &info, ours
	f.publishLocked()
	f.baseLimit = f.size
	f.dirty = nil
	f.changed = false
	f.publishLocked()
	f.committedLocked()
	return info, nil
}

// onlyMetaChangedLocked reports whether the object's bytes are the base's.
func (f *File) onlyMetaChangedLocked() bool {
	bs := f.blockSize()
	return f.base != nil && f.size == f.base.Size && f.baseLimit == f.size &&
		!f.dirty.any(0, (f.size+bs-1)/bs)
}

// commitSingleLocked writes an object of at most one part with one
// request: a server-side copy when only metadata changed, else PutObject.
func (f *File) commitSingleLocked(ctx context.Context) (s3io.ObjectInfo, error) {
	opts := f.objectOptionsLocked()
	metaOnly := f.onlyMetaChangedLocked()
	var guards objectGuards
	if metaOnly {
		var err error
		// Written by this mount with these options, the base has no tags
		// and gets its ACL again from the copy: nothing to read back.
		if !f.baseOurs {
			if guards, err = f.m.readGuards(ctx, f.bucket, f.key); err != nil {
				return s3io.ObjectInfo{}, fmt.Errorf("update metadata of %s: read its tags and ACL: %w", f.key, err)
			}
		}
		info, err := f.m.store.CopyObject(ctx, f.baseSourceLocked(), f.bucket, f.key,
			s3io.CopyOptions{WriteOptions: opts, ReplaceMetadata: true})
		switch {
		case errors.Is(err, s3io.ErrNotImplemented):
			f.m.log.Warn("server refused CopyObject; reading and uploading the object instead",
				"bucket", f.bucket, "key", f.key)
		case err != nil:
			return info, fmt.Errorf("update metadata of %s: %w", f.key, err)
		default:
			f.keptGuards = true
			return info, f.restoreGuards(ctx, guards)
		}
	}
	bs := f.blockSize()
	if err := f.fetchLocked(ctx, 0, (f.size+bs-1)/bs); err != nil {
		return s3io.ObjectInfo{}, err
	}
	info, err := f.m.store.PutObject(ctx, f.bucket, f.key, f.stageBody(0, f.size), f.size, opts)
	if err != nil {
		return info, fmt.Errorf("upload %s: %w", f.key, err)
	}
	if metaOnly {
		return info, f.restoreGuards(ctx, guards)
	}
	return info, nil
}

// restoreGuards puts back the tags and ACL a metadata change may have
// lost (see objectGuards).
func (f *File) restoreGuards(ctx context.Context, g objectGuards) error {
	if err := g.restore(ctx, f.m.store, f.bucket, f.key); err != nil {
		return fmt.Errorf("update metadata of %s: restore its tags and ACL: %w", f.key, err)
	}
	return nil
}

func (f *File) baseSourceLocked() s3io.CopySource {
	return s3io.CopySource{Bucket: f.bucket, Key: f.key, IfMatch: f.base.ETag, SSEC: f.readOptionsLocked().SSEC}
}

// commitMultipartLocked completes a multipart upload: parts streamed
// earlier are kept, parts the writes did not touch are copied from the
// base on the server, and the rest are uploaded from the staging file.
func (f *File) commitMultipartLocked(ctx context.Context) (s3io.ObjectInfo, error) {
	l := f.m.layout
	bs := f.blockSize()
	count := l.parts(f.size)
	if count > maxParts {
		return s3io.ObjectInfo{}, fmt.Errorf("%d bytes need more than %d parts", f.size, maxParts)
	}
	// The upload is recorded in the manifest, and parts are read from
	// the staging file without opMu.
	if err := f.spillLocked(); err != nil {
		return s3io.ObjectInfo{}, err
	}
	up, err := f.ensureUpload(ctx)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	parts := make([]s3io.Part, count)
	var copies, uploads []int
	for n := 1; n <= count; n++ {
		off, size := l.span(n, f.size)
		f.stateMu.Lock()
		sp, ok := f.streamed[n]
		current := ok && sp.gen == f.gen[n] && sp.part.Size == size
		f.stateMu.Unlock()
		switch {
		case current:
			parts[n-1] = sp.part
		case f.base != nil && off+size <= f.baseLimit && !f.dirty.any(off/bs, (off+size+bs-1)/bs):
			copies = append(copies, n)
		default:
			if err := f.fetchLocked(ctx, off/bs, (off+size+bs-1)/bs); err != nil {
				return s3io.ObjectInfo{}, err
			}
			uploads = append(uploads, n)
		}
	}
	refused, err := f.sendPartsLocked(ctx, up, parts, uploads, copies)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	if len(refused) > 0 {
		// Some servers refuse some copies (501 for an SSE-C source, say):
		// those parts are read and uploaded instead.
		f.m.log.Warn("server refused UploadPartCopy; reading and uploading those parts instead",
			"bucket", f.bucket, "key", f.key, "parts", len(refused))
		for _, n := range refused {
			off, size := l.span(n, f.size)
			if err := f.fetchLocked(ctx, off/bs, (off+size+bs-1)/bs); err != nil {
				return s3io.ObjectInfo{}, err
			}
		}
		if _, err := f.sendPartsLocked(ctx, up, parts, refused, nil); err != nil {
			return s3io.ObjectInfo{}, err
		}
	}
	info, err := f.m.store.CompleteMultipartUpload(ctx, up, parts)
	if err != nil {
		return info, fmt.Errorf("complete upload of %s: %w", f.key, err)
	}
	f.stateMu.Lock()
	f.mp = nil
	clear(f.streamed)
	mpMeta := f.mpMeta
	f.stateMu.Unlock()
	f.uploadEnded(up.ID)
	if !mpMeta.equal(f.meta) {
		// Metadata changed after the upload began (chmod of an open file).
		info.Key, info.Size = f.key, f.size
		return f.m.Copy(ctx, info, f.bucket, f.readOptionsLocked().SSEC, f.bucket, f.key, s3io.CopyOptions{
			WriteOptions: f.objectOptionsLocked(), ReplaceMetadata: true})
	}
	return info, nil
}

// sendPartsLocked uploads parts from the staging file and copies others
// from the base, several at once, filling parts. Copies the server
// refuses as not implemented are returned, not failed.
func (f *File) sendPartsLocked(ctx context.Context, up s3io.Upload, parts []s3io.Part, uploads, copies []int) (refused []int, err error) {
	l := f.m.layout
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range uploads {
		g.Go(func() error {
			off, size := l.span(n, f.size)
			p, err := f.uploadPart(gctx, up, n, off, size)
			mu.Lock()
			parts[n-1] = p
			mu.Unlock()
			return err
		})
	}
	for _, n := range copies {
		src := f.baseSourceLocked()
		g.Go(func() error {
			off, size := l.span(n, f.size)
			p, err := f.copyPart(gctx, up, n, src, s3io.Range{Off: off, Len: size})
			mu.Lock()
			defer mu.Unlock()
			if errors.Is(err, s3io.ErrNotImplemented) {
				refused = append(refused, n)
				return nil
			}
			parts[n-1] = p
			return err
		})
	}
	err = g.Wait()
	return refused, err
}

// copyPart makes part n from a range of an existing object.
func (f *File) copyPart(ctx context.Context, up s3io.Upload, n int, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	if err := f.m.acquire(ctx); err != nil {
		return s3io.Part{}, err
	}
	defer f.m.release()
	p, err := f.m.store.UploadPartCopy(ctx, up, int32(n), src, r)
	if err != nil {
		return p, fmt.Errorf("copy part %d of %s: %w", n, up.Key, err)
	}
	p.Size = r.Len
	return p, nil
}
