package fs

import (
	"context"
	"strings"
	"sync"

	"github.com/s3mount/s3mount/s3io"
)

// listMetadataConcurrency bounds the HEADs one listing page sends at once.
const listMetadataConcurrency = 16

// fillMetadata gives each object of a listing page its metadata (type,
// mode, owner, mtime: s3fs's x-amz-meta-*), which ListObjectsV2 does not
// carry, with HEADs sent in parallel, at most listMetadataConcurrency at
// once. Without it a symlink listed by `ls -l` is shown as a regular file
// and a stored mode or mtime as the mount's defaults, to every later
// lookup within the TTL (`git add -A` after `ls` committed symlinks as
// files; `rsync -a`, `cp -a`, `tar c` copied wrong types and times).
//
// Directories are common prefixes, which no listing describes: the marker
// of each of dirs ("dir/", where a directory keeps its mode, owner and
// mtime) is asked for the same way, by the same HEADs; the answer is
// returned by prefix, a directory without a marker included.
//
// The page after this one is listed (and filled) in the background while
// the kernel consumes this one, so the HEADs overlap its work. An object
// or marker whose HEAD fails keeps what the listing said (a later lookup
// asks again). Cost: one HEAD per listed object (none where listings
// carry metadata) and per listed directory, which --list-metadata=none
// turns off.
func (f *FS) fillMetadata(ctx context.Context, bucket string, objects []s3io.ObjectInfo, dirs []string) map[string]*markerState {
	if f.cfg.NoListMetadata {
		return nil
	}
	sem := make(chan struct{}, listMetadataConcurrency)
	var wg sync.WaitGroup
	for i := range objects {
		o := &objects[i]
		if o.HasMetadata || strings.HasSuffix(o.Key, "/") {
			continue // known already, or a directory marker (not shown as a file)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			full, err := f.store.HeadObject(ctx, bucket, o.Key, f.cfg.ReadOptions)
			if err != nil || (o.ETag != "" && full.ETag != o.ETag) {
				return // gone, changed since the listing, or not ours to read
			}
			full.Key = o.Key
			*o = full
		}()
	}
	markers := make([]*markerState, len(dirs))
	for i, prefix := range dirs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			markers[i], _ = f.fetchMarker(ctx, bucket, prefix) // nil on an error: unknown
		}()
	}
	wg.Wait()
	byPrefix := make(map[string]*markerState, len(dirs))
	for i, prefix := range dirs {
		if markers[i] != nil {
			byPrefix[prefix] = markers[i]
		}
	}
	return byPrefix
}
