package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/diskcache"
	"github.com/s3mount/s3mount/fs"
	"github.com/s3mount/s3mount/metrics"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/awsstore"
	"github.com/s3mount/s3mount/writeback"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// probeTimeout bounds the mount-time check of endpoint, credentials and
// bucket, so that a black-holed endpoint fails the mount instead of hanging.
const probeTimeout = 30 * time.Second

// codedError is a failure with the exit code that classifies it.
type codedError struct {
	code int
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func fail(code int, format string, args ...any) error {
	return &codedError{code: code, err: fmt.Errorf(format, args...)}
}

// run is the whole program: it parses args, and either mounts in the
// foreground, or starts the background process and waits until it has
// mounted.
func run(ctx context.Context, progName string, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "sync" {
		return syncCommand(args[1:], stdout, stderr)
	}
	if len(args) > 0 && args[0] == "status" {
		return statusCommand(args[1:], stdout, stderr)
	}
	// The mount helper (mount.fuse.s3mount) always mounts. (A bucket named
	// prefetch is mounted as "prefetch:".)
	if len(args) > 0 && args[0] == "prefetch" && !strings.HasPrefix(progName, "mount.") {
		return runPrefetch(ctx, args[1:], stdout, stderr)
	}
	opts, err := parseArgs(progName, args, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "s3mount: %v\nTry 's3mount --help'.\n", err)
		return exitUsage
	}
	if opts.ShowHelp {
		writeUsage(stdout)
		return exitOK
	}
	if opts.ShowVersion {
		fmt.Fprintf(stdout, "s3mount %s\n", version)
		return exitOK
	}
	if !opts.Foreground && !isDaemonChild() {
		return startDaemon(ctx, stderr)
	}
	ready := readinessReporter()
	if ready != nil {
		// Relative paths were resolved by parseArgs; a daemon keeps no
		// directory busy.
		_ = os.Chdir("/")
	}
	err = serve(ctx, opts, stderr, ready)
	if err == nil {
		return exitOK
	}
	code := exitError
	var ee *codedError
	if errors.As(err, &ee) {
		code = ee.code
	}
	ready.failed(code, err)
	fmt.Fprintf(stderr, "s3mount: %v\n", err)
	return code
}

// serve mounts and serves until the file system is unmounted or a signal
// asks for it.
func serve(ctx context.Context, opts *Options, stderr io.Writer, ready *readiness) error {
	logger, closeLog, err := newLogger(opts, stderr)
	if err != nil {
		return fail(exitUsage, "%v", err)
	}
	defer closeLog()
	defer startProfile()()

	if err := checkMountPoint(opts.MountPoint, opts.AllowNonEmpty); err != nil {
		return err
	}
	// Local inputs are checked before anything goes over the network.
	w := opts.Write
	var readOpts s3io.ReadOptions
	if w.SSECKeyFile != "" {
		key, err := readSSECKey(w.SSECKeyFile)
		if err != nil {
			return fail(exitUsage, "%v", err)
		}
		readOpts.SSEC = key
		if strings.HasPrefix(strings.ToLower(opts.EndpointURL), "http://") {
			// MinIO (and S3) answer every request that carries an SSE-C key
			// over plain HTTP with a bare 400, which reads as a wrong key.
			logger.Warn("SSE-C keys over plain HTTP: MinIO and AWS refuse them (every read and write of the mount "+
				"then fails with EACCES); use an https:// endpoint (Ceph RGW accepts HTTP only with rgw_crypt_require_ssl = false)",
				"endpoint", opts.EndpointURL)
		}
	}
	if opts.PerUser {
		return servePerUser(ctx, opts, readOpts, logger, ready)
	}
	started := time.Now()
	rec := metrics.New()
	aws, err := newStore(ctx, opts, logger, rec.Observe)
	if err != nil {
		return err
	}
	if err := probe(ctx, aws, opts); err != nil {
		return err
	}
	// Every request of the mount passes one limit. Count sits beneath it,
	// so that it counts what is sent to S3 (a call cancelled while it waits
	// for a slot sent nothing) and times the server, not the queue; the
	// limit's gauges show the queue. Attempts and retries are counted
	// inside awsstore (rec.Observe), where the SDK makes them.
	store := s3io.Limit(s3io.Count(aws, rec.ObserveRequest), opts.MaxRequests)
	disk, err := openDiskCache(opts, logger)
	if err != nil {
		return err
	}
	var diskQueue int64
	if disk != nil {
		defer closeDiskCache(disk, logger)
		diskQueue = diskQueueBytes(opts.BlockSize)
	}
	// Keep the heap near the cache budget: without a limit the GC lets a
	// streaming reader's garbage grow the heap to twice the live size.
	// (followNodes raises it with the inodes the kernel holds, below.)
	debug.SetMemoryLimit(opts.CacheSize + diskQueue + 64<<20)
	blocks, err := newBlockCache(opts, disk, logger)
	if err != nil {
		return err
	}
	defer blocks.Close()

	if opts.MetricsAddr != "" {
		stop, err := serveMetrics(opts.MetricsAddr, rec, logger)
		if err != nil {
			return err
		}
		defer stop()
	}

	var uploads *writeback.Manager
	if !opts.ReadOnly {
		uploads, err = writeback.New(store, uploadOptions(ctx, opts, readOpts, w.StagingDir, aws, logger))
		if err != nil {
			return fail(exitUsage, "%v", err)
		}
		defer uploads.Close()
		// Data an earlier mount staged and never uploaded goes up first.
		if rep, err := uploads.Recover(ctx); err != nil {
			logger.Warn("recovery of staged data failed", "staging_dir", w.StagingDir, "err", err)
		} else if len(rep.Uploaded)+len(rep.Kept)+len(rep.Failed) > 0 {
			logger.Warn("staged data of an earlier mount", "uploaded", len(rep.Uploaded),
				"kept_aside", len(rep.Kept), "failed", len(rep.Failed), "staging_dir", w.StagingDir)
		}
	}

	status := &statusSources{opts: opts, started: started, rec: rec, limit: store, blocks: blocks, uploads: uploads}
	cfg := fsConfig(opts, readOpts, logger)
	cfg.Status = status.text
	fsys := fs.New(cfg, store, blocks, uploads)
	status.fsys = fsys
	followNodes(ctx, opts.CacheSize+diskQueue+64<<20, fsys.LiveNodes)
	registerMountMetrics(rec, store, blocks, uploads, fsys)
	server, err := fsys.Mount(opts.MountPoint, fs.MountOptions{
		FSName:     fsName(opts),
		AllowOther: opts.AllowOther,
		AllowRoot:  opts.AllowRoot,
		NonEmpty:   opts.AllowNonEmpty,
		// Every FUSE request and answer on stderr, for performance work
		// (how many round trips a tool's call costs), as S3MOUNT_CPUPROFILE.
		Debug: os.Getenv("S3MOUNT_FUSE_DEBUG") != "",
	})
	if err != nil {
		return fail(exitFUSE, "%v", err)
	}
	if err := server.WaitMount(); err != nil {
		return fail(exitFUSE, "mount %s: %v", opts.MountPoint, err)
	}
	logger.Info("mounted", "bucket", opts.Bucket, "prefix", opts.Prefix, "mountpoint", opts.MountPoint)
	ready.ok()
	if err := sdNotify("READY=1\nSTATUS=mounted " + opts.MountPoint); err != nil {
		logger.Warn("systemd readiness not sent", "err", err)
	}

	unmountOnSignal(server.Unmount, server.Wait, logger)
	server.Wait()
	logger.Info("unmounted", "mountpoint", opts.MountPoint)
	// Only now: a busy mount point refuses the unmount and keeps serving.
	_ = sdNotify("STOPPING=1\nSTATUS=unmounted; finishing queued uploads")
	if uploads != nil && !opts.Write.AsyncUpload {
		// Directory attribute changes are written behind in both modes.
		if err := fsys.FlushMarkers(ctx); err != nil {
			logger.Error("directory attribute changes not written to S3 at unmount are lost", "err", err)
		}
	}
	if opts.Write.AsyncUpload && uploads != nil {
		// A clean unmount waits for the uploads still queued; one that
		// fails stays staged for the next mount.
		start := time.Now()
		if err := fsys.SyncAll(ctx); err != nil {
			logger.Error("uploads still failing at unmount stay staged for the next mount", "err", err)
		} else {
			logger.Info("queued uploads done", "took", time.Since(start).Round(time.Millisecond))
		}
	}
	return nil
}

// uploadOptions are the upload manager's options: staging in stagingDir,
// for the keys store signs with.
func uploadOptions(ctx context.Context, opts *Options, readOpts s3io.ReadOptions, stagingDir string, store *awsstore.Store, logger *slog.Logger) writeback.Options {
	w := opts.Write
	return writeback.Options{
		StagingDir:     stagingDir,
		PartSize:       w.PartSize,
		Concurrency:    w.UploadConcurrency,
		MaxQueuedParts: int(w.MaxUploadMemory / w.PartSize),
		Object: s3io.WriteOptions{
			ContentMD5:   w.UploadChecksum == "md5",
			SSE:          w.SSE,
			SSEKMSKeyID:  w.SSEKMSKeyID,
			SSEC:         readOpts.SSEC,
			StorageClass: w.StorageClass,
			ACL:          w.ACL,
		},
		ReadOptions:     readOpts,
		Logger:          logger,
		RetryDelay:      w.RetryDelay,
		MaxStagingBytes: w.MaxStagingSize,
		AsyncUpload:     w.AsyncUpload,
		Identity:        writeback.Identity{Endpoint: endpointIdentity(opts), AccessKeyID: store.AccessKeyID(ctx)},
	}
}

// newBlockCache is the memory block cache the options ask for, over disk
// (nil without --cache-dir).
func newBlockCache(opts *Options, disk *diskcache.Cache, logger *slog.Logger) (*cache.Cache, error) {
	blocks, err := cache.New(cache.Options{
		CacheBytes:     opts.CacheSize,
		BlockSize:      opts.BlockSize,
		MaxConcurrency: opts.MaxConcurrency,
		Disk:           disk,
		Logger:         logger,
	})
	if err != nil {
		return nil, fail(exitUsage, "cache: %v", err)
	}
	return blocks, nil
}

// fsConfig is the node tree's configuration from the options.
func fsConfig(opts *Options, readOpts s3io.ReadOptions, logger *slog.Logger) fs.Config {
	return fs.Config{
		Bucket:         opts.Bucket,
		Prefix:         opts.Prefix,
		ReadOnly:       opts.ReadOnly,
		UID:            opts.UID,
		GID:            opts.GID,
		FileMode:       opts.FileMode,
		DirMode:        opts.DirMode,
		MetadataTTL:    opts.MetadataTTL,
		NegativeTTL:    opts.NegativeMetadataTTL,
		ReadOptions:    readOpts,
		CacheSSEC:      opts.CacheSSEC,
		Region:         opts.Region,
		PresignExpiry:  opts.Write.PresignExpiry,
		Unsigned:       opts.NoSignRequest,
		NoListMetadata: opts.ListMetadata == "none",
		MaxRenameKeys:  opts.MaxRenameKeys,
		AsyncUpload:    opts.Write.AsyncUpload,
		Logger:         logger,
	}
}

// unmountOnSignal unmounts when SIGINT or SIGTERM arrives. A busy mount
// point cannot be unmounted; the file system then keeps serving, so that no
// program loses its open files, and says so.
func unmountOnSignal(unmount func() error, wait func(), logger interface {
	Info(string, ...any)
	Warn(string, ...any)
}) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		wait()
		close(done)
	}()
	go func() {
		defer signal.Stop(sigs)
		for {
			select {
			case <-done:
				return
			case sig := <-sigs:
				logger.Info("unmounting", "signal", sig.String())
				if err := unmount(); err != nil {
					logger.Warn("unmount failed; still serving (close the open files, then signal again or run fusermount3 -u)", "err", err)
				}
			}
		}
	}()
}

func fsName(opts *Options) string {
	if opts.FSName != "" {
		return opts.FSName
	}
	if opts.Bucket == "" {
		return "s3mount"
	}
	return "s3mount:" + opts.Bucket
}

// probe makes one cheap request so that wrong credentials, a missing
// bucket or an unreachable endpoint fail the mount with a clear message.
func probe(ctx context.Context, store *awsstore.Store, opts *Options) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	var err error
	if opts.Bucket == "" {
		err = store.ProbeService(ctx)
	} else {
		err = store.ProbeBucket(ctx, opts.Bucket, opts.Prefix)
	}
	if err == nil {
		return nil
	}
	where := endpointName(opts)
	switch {
	case errors.Is(err, s3io.ErrInvalidCredentials):
		return fail(exitCredentials, "the credentials were rejected by %s: %w", where, err)
	case errors.Is(err, s3io.ErrAccessDenied):
		return fail(exitCredentials, "access denied to bucket %q at %s (check the credentials and the bucket policy): %w", opts.Bucket, where, err)
	case errors.Is(err, s3io.ErrBucketNotFound):
		return fail(exitNoBucket, "bucket %q does not exist at %s", opts.Bucket, where)
	case errors.Is(err, s3io.ErrUnreachable), errors.Is(err, context.DeadlineExceeded):
		return fail(exitUnreachable, "cannot reach %s: %w", where, err)
	default:
		return fail(exitError, "checking bucket %q at %s: %w", opts.Bucket, where, err)
	}
}

func endpointName(opts *Options) string {
	if opts.EndpointURL != "" {
		return opts.EndpointURL
	}
	return "AWS S3"
}

// endpointIdentity names the server staged data is for: the endpoint URL,
// or AWS and its region.
func endpointIdentity(opts *Options) string {
	if opts.EndpointURL != "" {
		return opts.EndpointURL
	}
	return "aws:" + opts.Region
}
