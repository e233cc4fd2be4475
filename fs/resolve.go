package fs

import (
	"context"
	"errors"

	"github.com/s3mount/s3mount/s3io"
)

// resolution is what a name in a directory turned out to be.
type resolution struct {
	isDir bool
	info  *s3io.ObjectInfo // the object, when it is a file
	// marker is what the listing said of a directory's marker "key/": it
	// sorts first, so a one-key listing shows it when there is one (with
	// its metadata where listings carry metadata).
	marker *markerState
}

// resolve finds out whether key is a directory (some key starts with
// key+"/"), an object, or nothing, without listing the parent: a
// HeadObject and a one-key listing run at once, as mountpoint-s3 does. A
// directory wins over an object of the same name.
func (f *FS) resolve(ctx context.Context, bucket, key string) (resolution, error) {
	type headResult struct {
		info s3io.ObjectInfo
		err  error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	headc := make(chan headResult, 1)
	go func() {
		info, err := f.store.HeadObject(ctx, bucket, key, f.cfg.ReadOptions)
		headc <- headResult{info, err}
	}()
	page, listErr := f.store.List(ctx, s3io.ListRequest{
		Bucket: bucket, Prefix: key + "/", Delimiter: "/", MaxKeys: 1,
		WithMetadata: !f.cfg.NoListMetadata,
	})
	if listErr == nil && (len(page.Objects) > 0 || len(page.CommonPrefixes) > 0) {
		r := resolution{isDir: true, marker: noMarker} // the HEAD is cancelled
		if len(page.Objects) > 0 && page.Objects[0].Key == key+"/" {
			r.marker = &markerState{found: true, info: page.Objects[0]}
		}
		return r, nil
	}
	head := <-headc
	if errors.Is(head.err, s3io.ErrSSECKey) {
		head.info, head.err = f.listedInfo(ctx, bucket, key, head.err)
	}
	switch {
	case head.err == nil:
		head.info.Key = key
		return resolution{info: &head.info}, nil
	case !errors.Is(head.err, s3io.ErrNotFound):
		return resolution{}, head.err
	case listErr != nil:
		return resolution{}, listErr
	default:
		return resolution{}, nil
	}
}

// listedInfo describes an object that HEAD refused for want of its SSE-C
// key, from a one-key listing: it can then be looked up, listed and given
// its key with setxattr s3.sse_c_key; reading it without the key gives
// EACCES.
func (f *FS) listedInfo(ctx context.Context, bucket, key string, headErr error) (s3io.ObjectInfo, error) {
	page, err := f.store.List(ctx, s3io.ListRequest{Bucket: bucket, Prefix: key, MaxKeys: 1})
	if err != nil || len(page.Objects) == 0 || page.Objects[0].Key != key {
		return s3io.ObjectInfo{}, headErr
	}
	if f.needsKey.first(bucket + "/" + key) {
		f.log.Warn("object needs an SSE-C key that was not given or is wrong; reads give EACCES "+
			"(set one with --sse-c-key-file, or for this file with setxattr s3.sse_c_key)",
			"bucket", bucket, "key", printableKey(key))
	}
	return page.Objects[0], nil
}
