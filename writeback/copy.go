package writeback

import (
	"context"
	"fmt"
	"sync"

	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/s3io"
)

// maxCopySize is the largest object CopyObject copies in one request.
const maxCopySize = 5 << 30

// Copy copies src (its Key, Size and ETag; in src.Bucket or the
// destination bucket when empty) to bucket/key on the server: one
// CopyObject up to 5 GiB, a multipart upload of copied parts above. With
// opts.ReplaceMetadata the copy gets opts' metadata, otherwise the
// source's; a multipart copy always takes opts' metadata, so callers pass
// the source's when they mean to keep it.
func (m *Manager) Copy(ctx context.Context, src s3io.ObjectInfo, srcBucket, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	source := s3io.CopySource{Bucket: srcBucket, Key: src.Key, IfMatch: src.ETag, SSEC: m.opts.ReadOptions.SSEC}
	if src.Size <= maxCopySize {
		info, err := m.store.CopyObject(ctx, source, bucket, key, opts)
		if err != nil {
			return info, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
		}
		info.Size = src.Size
		return info, nil
	}
	id, err := m.store.CreateMultipartUpload(ctx, bucket, key, opts.WriteOptions)
	if err != nil {
		return s3io.ObjectInfo{}, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
	}
	up := s3io.Upload{Bucket: bucket, Key: key, ID: id, SSEC: opts.SSEC}
	count := m.layout.parts(src.Size)
	parts := make([]s3io.Part, count)
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for n := 1; n <= count; n++ {
		g.Go(func() error {
			off, size := m.layout.span(n, src.Size)
			p, err := m.store.UploadPartCopy(gctx, up, int32(n), source, s3io.Range{Off: off, Len: size})
			if err != nil {
				return fmt.Errorf("copy part %d of %s: %w", n, key, err)
			}
			mu.Lock()
			parts[n-1] = p
			mu.Unlock()
			return nil
		})
	}
	err = g.Wait()
	var info s3io.ObjectInfo
	if err == nil {
		info, err = m.store.CompleteMultipartUpload(ctx, up, parts)
	}
	if err != nil {
		if aerr := m.store.AbortMultipartUpload(context.WithoutCancel(ctx), up); aerr != nil {
			m.log.Warn("abort of multipart copy failed", "key", key, "upload_id", id, "err", aerr)
		}
		return s3io.ObjectInfo{}, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
	}
	info.Size = src.Size
	return info, nil
}
