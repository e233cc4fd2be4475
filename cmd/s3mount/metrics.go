package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/s3mount/s3mount/cache"
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
// time. uploads is nil on a read-only mount.
func registerMountMetrics(rec *metrics.Recorder, limit *s3io.Limited, blocks *cache.Cache, uploads *writeback.Manager, fsys *fs.FS) {
	rec.GaugeFunc("s3_requests_in_flight", "S3 requests running now (at most --max-requests).",
		func() float64 { return float64(limit.InFlight()) })
	rec.GaugeFunc("s3_requests_waiting", "S3 requests waiting for one of the --max-requests slots now.",
		func() float64 { return float64(limit.Waiting()) })
	rec.CounterFunc("cache_hits_total", "Block reads served from the block cache.",
		func() float64 { return float64(blocks.Stats().Hits) })
	rec.CounterFunc("cache_misses_total", "Block reads that had to fetch from S3.",
		func() float64 { return float64(blocks.Stats().Misses) })
	rec.GaugeFunc("cache_kept_bytes", "What the blocks kept in the cache cost now.",
		func() float64 { return float64(blocks.Stats().KeptBytes) })
	if uploads == nil {
		return
	}
	rec.GaugeFunc("staged_bytes", "Disk the staging files occupy now.",
		func() float64 { return float64(uploads.Stats().StagedBytes) })
	rec.CounterFunc("uploads_failed_total", "Uploads (commits of a file) that failed.",
		func() float64 { return float64(uploads.Stats().UploadsFailed) })
	rec.CounterFunc("uploads_retried_total", "Uploads tried again in the background after a failed close.",
		func() float64 { return float64(uploads.Stats().UploadsRetried) })
	rec.GaugeFunc("uploads_pending", "Files closed whose upload is not done: queued (--async-upload) or failed and retried.",
		func() float64 { return float64(fsys.RetainedCount()) })
}
