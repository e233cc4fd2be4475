package diskcache

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sync/semaphore"
)

// Options configure a disk cache.
type Options struct {
	Dir string
	// MaxBytes bounds the block files; 0 leaves only the free-space floor.
	MaxBytes int64
	// MinFreeFraction of the file system is always left free (0.05 when
	// zero; negative for none).
	MinFreeFraction float64
	// BlockSize is the size of every block but an object's last.
	BlockSize int64
	// Namespace tells apart objects of different servers that share a
	// bucket, key and ETag (the caller passes the endpoint).
	Namespace string
	// QueueBytes bounds the memory of blocks waiting to be written
	// (default 64 MiB, at least two blocks).
	QueueBytes int64
	// Writers write blocks in parallel (default 2).
	Writers int
	Logger  *slog.Logger
}

// ErrInUse says that another process uses the directory.
var ErrInUse = errors.New("the cache directory is in use by another s3mount")

// ErrNotPrivate says that the directory is open to other users.
var ErrNotPrivate = errors.New("the cache directory is not private")

// Cache is a disk cache in one directory. Safe for concurrent use.
type Cache struct {
	opts Options
	root string // Dir/v1
	tmp  string
	lock *os.File
	log  *slog.Logger

	index *index
	space *space

	room  *semaphore.Weighted // bytes of queued blocks
	queue chan job
	wg    sync.WaitGroup
	// closeMu orders Store and Offer against Close, which closes queue.
	closeMu sync.RWMutex
	closed  bool

	evictMu  sync.Mutex   // one eviction at a time
	tmpSeq   atomic.Int64 // names of files being written
	noDirect atomic.Bool  // the file system refused O_DIRECT

	stats     counters
	warnMu    sync.Mutex
	warnedFor map[string]bool
}

// Open opens (or creates) the cache in opts.Dir, refusing a directory that
// others may read or that another process uses. The index of the blocks
// already there is rebuilt in the background.
func Open(opts Options) (*Cache, error) {
	if opts.BlockSize <= 0 {
		return nil, errors.New("disk cache: block size must be positive")
	}
	if opts.MinFreeFraction == 0 {
		opts.MinFreeFraction = 0.05
	}
	if opts.QueueBytes <= 0 {
		opts.QueueBytes = 64 << 20
	}
	opts.QueueBytes = max(opts.QueueBytes, 2*opts.BlockSize)
	if opts.Writers <= 0 {
		opts.Writers = 2
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if err := checkPrivate(opts.Dir); err != nil {
		return nil, err
	}
	root := filepath.Join(opts.Dir, "v1")
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	lock, err := lockRoot(root)
	if err != nil {
		return nil, err
	}
	c := &Cache{
		opts:      opts,
		root:      root,
		tmp:       filepath.Join(root, "tmp"),
		lock:      lock,
		log:       opts.Logger,
		index:     newIndex(),
		space:     newSpace(root, opts.MaxBytes, opts.MinFreeFraction),
		room:      semaphore.NewWeighted(opts.QueueBytes),
		queue:     make(chan job, 4096),
		warnedFor: make(map[string]bool),
	}
	// Blocks a dead process was writing: never renamed, never valid.
	_ = os.RemoveAll(c.tmp)
	if err := os.Mkdir(c.tmp, 0o700); err != nil {
		lock.Close()
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	go c.index.rebuild(root, c.log)
	for i := 0; i < opts.Writers; i++ {
		c.wg.Add(1)
		go c.writer()
	}
	return c, nil
}

// Close writes the blocks still queued, then gives up the directory.
func (c *Cache) Close() {
	c.closeMu.Lock()
	if c.closed {
		c.closeMu.Unlock()
		return
	}
	c.closed = true
	close(c.queue)
	c.closeMu.Unlock()
	c.wg.Wait()
	c.lock.Close()
}

// Dir is the cache directory.
func (c *Cache) Dir() string { return c.opts.Dir }

// checkPrivate makes dir (0700) or checks that it is the caller's and
// closed to everybody else: cached bytes are stored unencrypted.
func checkPrivate(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("disk cache: %w", err)
	}
	st, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("disk cache: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("disk cache: %s is not a directory", dir)
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && int(sys.Uid) != os.Geteuid() {
		return fmt.Errorf("%w: %s belongs to uid %d, not to this user (%d)", ErrNotPrivate, dir, sys.Uid, os.Geteuid())
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%w: %s is open to group or others (mode %04o), and cached bytes are stored unencrypted: chmod 700 it",
			ErrNotPrivate, dir, perm)
	}
	return nil
}

// lockRoot takes the directory's lock without waiting, and writes the
// process id in it for the message a second process gets.
func lockRoot(root string) (*os.File, error) {
	path := filepath.Join(root, "lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("disk cache: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		holder := strings.TrimSpace(string(b[:n]))
		if holder == "" {
			holder = "unknown"
		}
		return nil, fmt.Errorf("%w (pid %s): give each mount its own --cache-dir", ErrInUse, holder)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}

// name is what a block file of id says it holds.
func (c *Cache) name(id string) string { return c.opts.Namespace + "\x00" + id }

// objectDir is the directory of id's blocks, relative to the root.
func (c *Cache) objectDir(id string) string {
	h := sha256.New()
	h.Write([]byte(c.name(id)))
	h.Write([]byte("\x00" + strconv.FormatInt(c.opts.BlockSize, 10)))
	sum := hex.EncodeToString(h.Sum(nil)[:16])
	return filepath.Join(sum[:2], sum[2:])
}

// blockRel is the path of block idx of id, relative to the root.
func (c *Cache) blockRel(id string, idx int64) string {
	return filepath.Join(c.objectDir(id), strconv.FormatInt(idx, 10))
}

// warnOnce logs msg once per kind.
func (c *Cache) warnOnce(kind, msg string, args ...any) {
	c.warnMu.Lock()
	seen := c.warnedFor[kind]
	c.warnedFor[kind] = true
	c.warnMu.Unlock()
	if !seen {
		c.log.Warn(msg, args...)
	}
}
