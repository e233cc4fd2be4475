package main

import (
	"errors"
	"log/slog"

	"github.com/s3mount/s3mount/diskcache"
)

// diskQueueBytes is the memory of blocks waiting for the disk: 64 MiB, or
// two blocks when they are larger.
func diskQueueBytes(blockSize int64) int64 { return max(64<<20, 2*blockSize) }

// openDiskCache opens --cache-dir, or returns nil without one. A
// directory others may read, or one another mount uses, fails the mount
// as a usage error.
func openDiskCache(opts *Options, logger *slog.Logger) (*diskcache.Cache, error) {
	if opts.CacheDir == "" {
		return nil, nil
	}
	d, err := diskcache.Open(diskcache.Options{
		Dir:        opts.CacheDir,
		MaxBytes:   opts.CacheDirSize,
		BlockSize:  opts.BlockSize,
		Namespace:  endpointIdentity(opts),
		QueueBytes: diskQueueBytes(opts.BlockSize),
		Logger:     logger,
	})
	if err != nil {
		code := exitError
		if errors.Is(err, diskcache.ErrNotPrivate) || errors.Is(err, diskcache.ErrInUse) {
			code = exitUsage
		}
		return nil, fail(code, "--cache-dir: %w", err)
	}
	logger.Info("disk cache", "dir", opts.CacheDir, "max_bytes", opts.CacheDirSize, "sse_c", opts.CacheSSEC)
	return d, nil
}

// closeDiskCache writes what is queued and logs what the cache did.
func closeDiskCache(d *diskcache.Cache, logger *slog.Logger) {
	d.Close()
	st := d.Stats()
	logger.Info("disk cache closed", "hits", st.Hits, "misses", st.Misses, "written", st.Writes,
		"waited", st.Waited, "dropped", st.Dropped, "evicted", st.Evicted, "corrupt", st.Corrupt, "blocks", st.Blocks, "bytes", st.Bytes)
}
