package writeback

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// Options configure uploads.
type Options struct {
	// StagingDir holds one staging file per file open for writing.
	StagingDir string
	// PartSize is the size of the first multipart parts (a multiple of
	// BlockSize, at least 5 MiB); later parts grow (see layout).
	PartSize int64
	// BlockSize is the unit in which bytes of a base object are fetched
	// into the staging file.
	BlockSize int64
	// Concurrency bounds the uploads in flight across the mount.
	Concurrency int
	// MaxQueuedParts bounds, per file, the parts written but not yet
	// uploaded; a writer that gets further ahead waits.
	MaxQueuedParts int
	// Object applies to every new object: encryption, storage class, ACL,
	// Content-MD5. Metadata and content type come from the file.
	Object s3io.WriteOptions
	// ReadOptions apply to reads of base objects (SSE-C keys).
	ReadOptions s3io.ReadOptions
	Logger      *slog.Logger
	// Identity is the server and account staged data is for; recovery
	// uploads only data staged under the same identity.
	Identity Identity
	// RetryDelay is the wait before the first background retry of an
	// upload whose close failed; each failure doubles it, up to
	// MaxRetryDelay.
	RetryDelay, MaxRetryDelay time.Duration
	// MaxStagingBytes bounds the disk the staging files use (0: no bound
	// of its own); MinFreeFraction of the staging file system is always
	// left free (0: the default 5 %; negative: no floor).
	MaxStagingBytes int64
	// AsyncUpload: a close writes the closed manifest without fsync and
	// the upload runs in the background (fs drives it).
	AsyncUpload     bool
	MinFreeFraction float64
	// MemoryStagingBytes bounds the memory that new files small enough
	// are staged in before they reach the staging disk (see memstage.go;
	// 0: 64 MiB, negative: none). It counts in MaxStagingBytes too.
	MemoryStagingBytes int64
}

// Identity names where staged bytes belong: the endpoint (or the AWS
// region) and the access key ID (never a secret). Data staged by a mount
// of another server or account is not this mount's to upload.
type Identity struct {
	Endpoint    string `json:"endpoint,omitempty"`
	AccessKeyID string `json:"access_key_id,omitempty"`
}

// Store is what uploads need: the object data path, and the tags and ACL
// that a metadata-replacing copy must read and put back (metacopy.go).
// An s3io.Store is one.
type Store interface {
	s3io.ObjectStore
	GetObjectTagging(ctx context.Context, bucket, key string) ([]s3io.Tag, error)
	PutObjectTagging(ctx context.Context, bucket, key string, tags []s3io.Tag) error
	GetObjectACL(ctx context.Context, bucket, key string) (s3io.ACL, error)
	PutObjectACL(ctx context.Context, bucket, key, canned string) error
}

var _ Store = (s3io.Store)(nil)

// Manager creates staged files and runs their uploads.
type Manager struct {
	store  Store
	opts   Options
	layout layout
	slots  chan struct{}
	log    *slog.Logger
	// ctx is the context of background uploads, cancelled by Close.
	ctx    context.Context
	cancel context.CancelFunc
	// dir is this mount's own directory in the staging directory, locked
	// by lock while the mount lives.
	dir       string
	lock      *os.File
	closeOnce sync.Once
	retries   sync.WaitGroup // background retry loops
	budget    *budget
	// background bounds the files uploaded at once by RetryInBackground
	// (queued by asynchronous closes, or retried after failed ones).
	background chan struct{}
	// failed counts failed commits; retried, the commits the background
	// loop made again after a failed close (status and metrics).
	failed, retried atomic.Int64
	// stagingFiles counts the staging files created (Stats).
	stagingFiles atomic.Int64
}

// New checks opts and prepares the staging directory.
func New(store Store, opts Options) (*Manager, error) {
	if opts.BlockSize <= 0 {
		opts.BlockSize = 1 << 20
	}
	if opts.PartSize == 0 {
		opts.PartSize = 8 << 20
	}
	switch {
	case opts.PartSize < minPartSize || opts.PartSize > maxPartSize:
		return nil, fmt.Errorf("part size %d is outside S3's limits (5 MiB to 5 GiB)", opts.PartSize)
	case opts.PartSize%opts.BlockSize != 0:
		return nil, fmt.Errorf("part size %d is not a multiple of the block size %d", opts.PartSize, opts.BlockSize)
	case opts.StagingDir == "":
		return nil, errors.New("no staging directory")
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.RetryDelay <= 0 {
		opts.RetryDelay = defaultRetryDelay
	}
	if opts.MaxRetryDelay < opts.RetryDelay {
		opts.MaxRetryDelay = max(defaultMaxRetryDelay, opts.RetryDelay)
	}
	if opts.MaxQueuedParts <= 0 {
		opts.MaxQueuedParts = 2 * opts.Concurrency
	}
	if err := os.MkdirAll(opts.StagingDir, 0o700); err != nil {
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	dir, lock, err := ownDir(opts.StagingDir)
	if err != nil {
		return nil, err
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	floor := opts.MinFreeFraction
	if floor == 0 {
		floor = defaultMinFreeFraction
	}
	memMax := opts.MemoryStagingBytes
	if memMax == 0 {
		memMax = defaultMemStagingBytes
	}
	return &Manager{
		budget:     newBudget(dir, opts.MaxStagingBytes, memMax, floor),
		background: make(chan struct{}, 4*opts.Concurrency),
		store:      store,
		opts:       opts,
		layout:     layout{base: opts.PartSize},
		slots:      make(chan struct{}, opts.Concurrency),
		log:        log,
		ctx:        ctx,
		cancel:     cancel,
		dir:        dir,
		lock:       lock,
	}, nil
}

// Close stops background uploads and gives up the mount's staging
// directory: kept for the next mount when it holds staged data, removed
// otherwise. Files still open keep their staging files.
func (m *Manager) Close() {
	m.cancel()
	m.retries.Wait() // each loop keeps its file's bytes for the next mount
	m.closeOnce.Do(func() { releaseDir(m.dir, m.lock) })
}

// acquire takes one of the mount's upload slots.
func (m *Manager) acquire(ctx context.Context) error {
	select {
	case m.slots <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) release() { <-m.slots }

// objectOptions are the write options of a new object with the file's
// metadata.
func (m *Manager) objectOptions(meta Meta) s3io.WriteOptions {
	return m.objectOptionsWithKey(meta, nil)
}

// objectOptionsWithKey is objectOptions with an SSE-C key in place of the
// mount's, when key is set.
func (m *Manager) objectOptionsWithKey(meta Meta, key s3io.SSECustomerKey) s3io.WriteOptions {
	o := m.opts.Object
	o.Metadata = meta.UserMetadata
	o.ContentType = meta.ContentType
	if key != nil {
		o.SSEC = key
	}
	return o
}

// ObjectOptions are the write options of a new object with meta.
func (m *Manager) ObjectOptions(meta Meta) s3io.WriteOptions { return m.objectOptions(meta) }
