package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/s3mount/s3mount/credcmd"
	"github.com/s3mount/s3mount/fs"
	"github.com/s3mount/s3mount/metrics"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/awsstore"
	"github.com/s3mount/s3mount/writeback"
)

// checkPerUser refuses what a --per-user mount cannot mean: one bucket, or
// one set of keys, for every user. changed tells the flags given.
func checkPerUser(o *Options, changed func(string) bool) error {
	switch {
	case !o.AllowOther:
		return errors.New("--per-user needs --allow-other (the users are others than root)")
	case o.Bucket != "" || o.Prefix != "":
		return errors.New("--per-user mounts every bucket each user's keys can list: give only MOUNTPOINT, no bucket or --prefix")
	case o.PasswdFile != "":
		return errors.New("--per-user reads each user's ~/.passwd-s3fs: --passwd-file has no place")
	case o.Profile != "":
		return errors.New("--per-user takes no --profile: each user's keys are their own")
	case o.NoSignRequest:
		return errors.New("--per-user and --no-sign-request: anonymous requests are nobody's")
	case o.CacheDir != "":
		return errors.New("--per-user keeps no --cache-dir: its blocks would be shared by every user")
	case changed("uid") || changed("gid"):
		return errors.New("--per-user gives each user's tree their own uid and gid: --uid and --gid have no place")
	}
	return nil
}

// userStagingDir is user uid's staging directory: their files are
// recovered with their keys only.
func userStagingDir(base string, uid uint32) string {
	return filepath.Join(base, "uid-"+strconv.FormatUint(uint64(uid), 10))
}

// servePerUser mounts and serves a --per-user mount.
func servePerUser(ctx context.Context, opts *Options, readOpts s3io.ReadOptions, logger *slog.Logger, ready *readiness) error {
	if os.Geteuid() != 0 {
		return fail(exitUsage, "--per-user must run as root: it reads each user's ~/.passwd-s3fs and runs the credentials command as them")
	}
	rec := metrics.New()
	debug.SetMemoryLimit(opts.CacheSize + 64<<20)
	// One cache for every user, under a budget for all: each user's FS
	// names its blocks with IDs of its own.
	blocks, err := newBlockCache(opts, nil, logger)
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
		registerMountMetrics(rec, nil, blocks, nil, nil)
	}
	o := &userOpener{opts: opts, readOpts: readOpts, log: logger, observe: rec.Observe, requests: rec.ObserveRequest}
	defer o.close()
	status := &statusSources{opts: opts, started: time.Now(), rec: rec, blocks: blocks}
	p := fs.NewPerUser(fs.PerUserConfig{
		MetadataTTL: opts.MetadataTTL,
		NegativeTTL: opts.NegativeMetadataTTL,
		ReadOnly:    opts.ReadOnly,
		Open:        o.open,
		Status:      status.text,
		Logger:      logger,
	}, blocks)
	status.perUser = p
	name := opts.FSName
	if name == "" {
		name = "s3mount-per-user"
	}
	server, err := p.Mount(opts.MountPoint, fs.MountOptions{FSName: name, AllowOther: true, NonEmpty: opts.AllowNonEmpty})
	if err != nil {
		return fail(exitFUSE, "%v", err)
	}
	if err := server.WaitMount(); err != nil {
		return fail(exitFUSE, "mount %s: %v", opts.MountPoint, err)
	}
	logger.Info("mounted per user", "mountpoint", opts.MountPoint)
	ready.ok()
	if err := sdNotify("READY=1\nSTATUS=mounted per user " + opts.MountPoint); err != nil {
		logger.Warn("systemd readiness not sent", "err", err)
	}
	if !opts.ReadOnly {
		go recoverUsers(ctx, p, opts.Write.StagingDir, logger)
	}

	unmountOnSignal(server.Unmount, server.Wait, logger)
	server.Wait()
	logger.Info("unmounted", "mountpoint", opts.MountPoint)
	_ = sdNotify("STOPPING=1\nSTATUS=unmounted; finishing queued uploads")
	if !opts.Write.AsyncUpload && !opts.ReadOnly {
		for _, f := range p.FSes() { // directory attributes are written behind
			if err := f.FlushMarkers(ctx); err != nil {
				logger.Error("directory attribute changes not written to S3 at unmount are lost", "err", err)
			}
		}
	}
	if opts.Write.AsyncUpload && !opts.ReadOnly {
		if err := p.SyncAll(ctx); err != nil {
			logger.Error("uploads still failing at unmount stay staged for the next mount", "err", err)
		}
	}
	return nil
}

// recoverUsers builds, right after the mount, the tree of every user who
// has staged data of an earlier mount, so that it is uploaded (with their
// keys) without waiting for them to come back.
func recoverUsers(ctx context.Context, p *fs.PerUser, staging string, logger *slog.Logger) {
	entries, err := os.ReadDir(staging)
	if err != nil {
		return
	}
	for _, e := range entries {
		n, ok := strings.CutPrefix(e.Name(), "uid-")
		uid, err := strconv.ParseUint(n, 10, 32)
		if !ok || err != nil || !e.IsDir() || uid == 0 {
			continue
		}
		sub, _ := os.ReadDir(filepath.Join(staging, e.Name()))
		if len(sub) == 0 {
			continue
		}
		u, err := fs.OSUsers{}.ByUID(uint32(uid))
		if err != nil {
			logger.Warn("staged data of a uid that is no user; left alone", "dir", filepath.Join(staging, e.Name()), "err", err)
			continue
		}
		// Its failure is logged by the per-user tree.
		_, _ = p.UserFS(ctx, u)
	}
}

// userOpener builds each user's store and upload manager.
type userOpener struct {
	opts     *Options
	readOpts s3io.ReadOptions
	log      *slog.Logger
	observe  s3io.AttemptObserver
	requests s3io.RequestObserver

	mu      sync.Mutex
	uploads []*writeback.Manager
}

// open builds u's parts. Its errors name the cause in one line, without
// a secret and without the command's stderr (which is the user's, and
// this goes to the daemon's log).
func (o *userOpener) open(ctx context.Context, u fs.User) (fs.UserParts, error) {
	logger := o.log.With("user", u.Name)
	keys, err := userKeys(o.opts, u)
	if err != nil {
		return fs.UserParts{}, err
	}
	cfg := storeConfig(o.opts, logger, o.observe)
	cfg.Credentials = keys
	store, err := awsstore.New(ctx, cfg)
	if err != nil {
		return fs.UserParts{}, fmt.Errorf("S3 client: %w", err)
	}
	if err := store.CheckCredentials(ctx); err != nil {
		var ce *credcmd.Error
		if errors.As(err, &ce) {
			return fs.UserParts{}, ce // its Error() holds no stderr
		}
		return fs.UserParts{}, err
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	err = store.ProbeService(pctx)
	cancel()
	if err != nil {
		switch {
		case errors.Is(err, s3io.ErrInvalidCredentials):
			return fs.UserParts{}, fmt.Errorf("the keys (access key %s) were rejected by %s: %w", store.AccessKeyID(ctx), endpointName(o.opts), err)
		case errors.Is(err, s3io.ErrAccessDenied):
			// Keys that may not list buckets may still reach some: the
			// tree is built, and shows what a lookup finds.
			logger.Info("the user's keys may not list buckets; their directory lists none", "err", err)
		default:
			return fs.UserParts{}, fmt.Errorf("checking the keys at %s: %w", endpointName(o.opts), err)
		}
	}
	// Each user's requests have a --max-requests ceiling of their own.
	limited := s3io.Limit(s3io.Count(store, o.requests), o.opts.MaxRequests)
	parts := fs.UserParts{Store: limited, Config: fsConfig(o.opts, o.readOpts, logger)}
	if o.opts.ReadOnly {
		return parts, nil
	}
	dir := userStagingDir(o.opts.Write.StagingDir, u.UID)
	uploads, err := writeback.New(limited, uploadOptions(ctx, o.opts, o.readOpts, dir, store, logger))
	if err != nil {
		return fs.UserParts{}, err
	}
	o.mu.Lock()
	o.uploads = append(o.uploads, uploads)
	o.mu.Unlock()
	if rep, err := uploads.Recover(ctx); err != nil {
		logger.Warn("recovery of staged data failed", "staging_dir", dir, "err", err)
	} else if len(rep.Uploaded)+len(rep.Kept)+len(rep.Failed) > 0 {
		logger.Warn("staged data of an earlier mount", "uploaded", len(rep.Uploaded),
			"kept_aside", len(rep.Kept), "failed", len(rep.Failed), "staging_dir", dir)
	}
	parts.Uploads = uploads
	return parts, nil
}

func (o *userOpener) close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, u := range o.uploads {
		u.Close()
	}
	o.uploads = nil
}
