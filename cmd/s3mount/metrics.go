package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/diskcache"
	"github.com/s3mount/s3mount/fs"
	"github.com/s3mount/s3mount/metrics"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// serveMetrics listens on addr before the mount, so that a taken port
// fails the mount, and serves /metrics until stop.
func serveMetrics(addr string, rec *metrics.Recorder, logger *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fail(exitUsage, "--metrics-addr: %w", err)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		logger.Warn("metrics served beyond loopback, without authentication", "addr", ln.Addr().String())
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", rec.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server stopped", "err", err)
		}
	}()
	logger.Info("serving metrics", "url", "http://"+ln.Addr().String()+"/metrics")
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	}, nil
}

// registerMountMetrics adds to rec the counts the request limit, the
// cache, the uploads and the file system keep themselves, read at scrape
// time. uploads is nil on a read-only mount; uploads, fsys and limit are
// nil on a --per-user mount.
func registerMountMetrics(rec *metrics.Recorder, limit *s3io.Limited, blocks *cache.Cache, uploads *writeback.Manager, fsys *fs.FS) {
	if limit != nil { // a --per-user mount has one per user
		rec.GaugeFunc("s3_requests_in_flight", "S3 requests running now (at most --max-requests).",
			func() float64 { return float64(limit.InFlight()) })
		rec.GaugeFunc("s3_requests_waiting", "S3 requests waiting for one of the --max-requests slots now.",
			func() float64 { return float64(limit.Waiting()) })
	}
	rec.CounterFunc("cache_hits_total", "Block reads served from the block cache.",
		func() float64 { return float64(blocks.Stats().Hits) })
	rec.CounterFunc("cache_misses_total", "Block reads that had to fetch from S3.",
		func() float64 { return float64(blocks.Stats().Misses) })
	rec.GaugeFunc("cache_kept_bytes", "What the blocks kept in the cache cost now.",
		func() float64 { return float64(blocks.Stats().KeptBytes) })
	rec.CounterFunc("cache_readahead_hits_total", "Blocks fetched ahead of a sequential reader that it then read.",
		func() float64 { return float64(blocks.Stats().PrefetchHits) })
	rec.CounterFunc("cache_dir_readahead_hits_total", "Files of a directory read in order that were fetched before their open.",
		func() float64 { return float64(blocks.Stats().GroupHits) })
	if _, ok := blocks.DiskStats(); ok {
		disk := func(f func(diskcache.Stats) int64) func() float64 {
			return func() float64 {
				st, _ := blocks.DiskStats()
				return float64(f(st))
			}
		}
		rec.CounterFunc("disk_cache_hits_total", "Blocks (or random reads) served from --cache-dir.",
			disk(func(st diskcache.Stats) int64 { return st.Hits }))
		rec.CounterFunc("disk_cache_misses_total", "Block reads that --cache-dir could not serve.",
			disk(func(st diskcache.Stats) int64 { return st.Misses }))
		rec.CounterFunc("disk_cache_written_bytes_total", "Bytes written to --cache-dir.",
			disk(func(st diskcache.Stats) int64 { return st.BytesWritten }))
		rec.CounterFunc("disk_cache_evicted_total", "Blocks evicted from --cache-dir to stay within its size.",
			disk(func(st diskcache.Stats) int64 { return st.Evicted }))
		rec.CounterFunc("disk_cache_corrupt_total", "Block files that failed their checksums (removed and fetched again).",
			disk(func(st diskcache.Stats) int64 { return st.Corrupt }))
		rec.GaugeFunc("disk_cache_bytes", "Bytes of the block files in --cache-dir now.",
			disk(func(st diskcache.Stats) int64 { return st.Bytes }))
		rec.GaugeFunc("disk_cache_blocks", "Block files in --cache-dir now.",
			disk(func(st diskcache.Stats) int64 { return int64(st.Blocks) }))
	}
	if uploads == nil {
		return
	}
	rec.GaugeFunc("staged_bytes", "Disk the staging files occupy now, and memory new small files are staged in.",
		func() float64 { return float64(uploads.Stats().StagedBytes) })
	rec.GaugeFunc("staged_memory_bytes", "Of staged_bytes, the memory new small files are staged in.",
		func() float64 { return float64(uploads.Stats().MemStagedBytes) })
	rec.CounterFunc("staging_files_created_total", "Staging files made (a small new file uploaded by its close makes none).",
		func() float64 { return float64(uploads.Stats().StagingFilesCreated) })
	rec.CounterFunc("uploads_failed_total", "Uploads (commits of a file) that failed.",
		func() float64 { return float64(uploads.Stats().UploadsFailed) })
	rec.CounterFunc("uploads_retried_total", "Uploads tried again in the background after a failed close.",
		func() float64 { return float64(uploads.Stats().UploadsRetried) })
	rec.GaugeFunc("uploads_pending", "Files closed whose upload is not done: queued (--async-upload) or failed and retried.",
		func() float64 { return float64(fsys.RetainedCount()) })
}
