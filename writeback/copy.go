package writeback

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/s3mount/s3mount/s3io"
)

// maxCopySize is the largest object CopyObject copies in one request (a
// variable so that tests can lower it).
var maxCopySize int64 = 5 << 30

// Copy copies src (its Key, Size and ETag; in src.Bucket or the
// destination bucket when empty) to bucket/key on the server: one
// CopyObject up to 5 GiB, a multipart upload of copied parts above. With
// opts.ReplaceMetadata the copy gets opts' metadata, otherwise the
// source's; a multipart copy always takes opts' metadata, so callers pass
// the source's when they mean to keep it.
//
// srcKey is the source's SSE-C key (nil: the mount's); opts.SSEC the
// destination's.
func (m *Manager) Copy(ctx context.Context, src s3io.ObjectInfo, srcBucket string, srcKey s3io.SSECustomerKey, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	if srcKey == nil {
		srcKey = m.opts.ReadOptions.SSEC
	}
	if src.Size == 0 && strings.HasSuffix(src.Key, "/") {
		return m.remakeMarker(ctx, src, srcBucket, srcKey, bucket, key, opts)
	}
	info, err := m.copyOnServer(ctx, src, srcBucket, srcKey, bucket, key, opts)
	if errors.Is(err, s3io.ErrNotImplemented) {
		// Some servers refuse some copies (501 for an SSE-C source): read
		// the object and upload it, once, for this object.
		m.log.Warn("server refused the copy; reading and uploading the object instead",
			"bucket", bucket, "from", src.Key, "to", key)
		return m.copyByReading(ctx, src, srcBucket, srcKey, bucket, key, opts)
	}
	return info, err
}

// remakeMarker copies a directory marker ("dir/", no bytes) by writing a
// new empty object with its metadata: some gateways (versitygw) refuse
// every CopyObject of a key ending in "/", and a marker has nothing to
// copy but its metadata. It costs a HEAD and a PUT instead of one copy.
func (m *Manager) remakeMarker(ctx context.Context, src s3io.ObjectInfo, srcBucket string, srcKey s3io.SSECustomerKey, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	wo := opts.WriteOptions
	if !opts.ReplaceMetadata {
		if srcBucket == "" {
			srcBucket = bucket
		}
		head, err := m.store.HeadObject(ctx, srcBucket, src.Key, s3io.ReadOptions{SSEC: srcKey, IfMatch: src.ETag})
		if err != nil {
			return s3io.ObjectInfo{}, fmt.Errorf("copy marker %s to %s: %w", src.Key, key, err)
		}
		wo.Metadata, wo.ContentType = head.Metadata, head.ContentType
	}
	info, err := m.putMarker(ctx, bucket, key, wo)
	if err != nil {
		return info, fmt.Errorf("copy marker %s to %s: %w", src.Key, key, err)
	}
	return info, nil
}

// PutMarker writes the directory marker key ("dir/", no bytes) with meta,
// as a new object of this mount (its encryption, storage class, ACL):
// mkdir makes one, and chmod, chown and utimens of a directory write it
// again with new metadata, for the reason remakeMarker gives. It costs
// one PUT.
func (m *Manager) PutMarker(ctx context.Context, bucket, key string, meta Meta) (s3io.ObjectInfo, error) {
	return m.putMarker(ctx, bucket, key, m.objectOptions(meta))
}

// putMarker writes every directory marker, renames' copies included.
func (m *Manager) putMarker(ctx context.Context, bucket, key string, wo s3io.WriteOptions) (s3io.ObjectInfo, error) {
	return m.store.PutObject(ctx, bucket, key, bytes.NewReader(nil), 0, wo)
}

func (m *Manager) copyOnServer(ctx context.Context, src s3io.ObjectInfo, srcBucket string, srcKey s3io.SSECustomerKey, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	source := s3io.CopySource{Bucket: srcBucket, Key: src.Key, IfMatch: src.ETag, SSEC: srcKey}
	if src.Size <= maxCopySize {
		info, err := m.store.CopyObject(ctx, source, bucket, key, opts)
		if err != nil {
			return info, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
		}
		info.Size = src.Size
		return info, nil
	}
	return m.copyInParts(ctx, src, bucket, key, opts, func(ctx context.Context, up s3io.Upload, n int32, r s3io.Range) (s3io.Part, error) {
		return m.store.UploadPartCopy(ctx, up, n, source, r)
	})
}

// copyByReading copies src to bucket/key through this machine, one part
// in memory per upload slot. A multipart copy needs the source's metadata
// in opts, as for copyOnServer.
func (m *Manager) copyByReading(ctx context.Context, src s3io.ObjectInfo, srcBucket string, srcKey s3io.SSECustomerKey, bucket, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	ropts := m.opts.ReadOptions
	ropts.SSEC = srcKey
	ropts.IfMatch = src.ETag
	read := func(off, size int64) ([]byte, error) {
		buf := make([]byte, size)
		n, err := m.store.ReadRange(ctx, srcBucket, src.Key, off, buf, ropts)
		if err == nil && int64(n) < size {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	if src.Size <= m.layout.partSize(1) {
		buf, err := read(0, src.Size)
		if err != nil {
			return s3io.ObjectInfo{}, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
		}
		info, err := m.store.PutObject(ctx, bucket, key, bytes.NewReader(buf), src.Size, opts.WriteOptions)
		if err != nil {
			return info, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
		}
		info.Size = src.Size
		return info, nil
	}
	return m.copyInParts(ctx, src, bucket, key, opts, func(ctx context.Context, up s3io.Upload, n int32, r s3io.Range) (s3io.Part, error) {
		buf, err := read(r.Off, r.Len)
		if err != nil {
			return s3io.Part{}, err
		}
		return m.store.UploadPart(ctx, up, n, bytes.NewReader(buf), r.Len)
	})
}

// copyInParts makes bucket/key as a multipart upload of src's size, part
// by part with makePart (several at once), and aborts it on failure.
func (m *Manager) copyInParts(ctx context.Context, src s3io.ObjectInfo, bucket, key string, opts s3io.CopyOptions,
	makePart func(context.Context, s3io.Upload, int32, s3io.Range) (s3io.Part, error)) (s3io.ObjectInfo, error) {
	id, err := m.store.CreateMultipartUpload(ctx, bucket, key, opts.WriteOptions)
	if err != nil {
		return s3io.ObjectInfo{}, fmt.Errorf("copy %s to %s: %w", src.Key, key, err)
	}
	up := s3io.Upload{Bucket: bucket, Key: key, ID: id, SSEC: opts.SSEC, ContentMD5: opts.ContentMD5}
	count := m.layout.parts(src.Size)
	parts := make([]s3io.Part, count)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(m.opts.Concurrency)
	for n := 1; n <= count; n++ {
		g.Go(func() error {
			off, size := m.layout.span(n, src.Size)
			p, err := makePart(gctx, up, int32(n), s3io.Range{Off: off, Len: size})
			if err != nil {
				return fmt.Errorf("part %d of %s: %w", n, key, err)
			}
			parts[n-1] = p // each goroutine its own element
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
