package fs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/user"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// A --per-user mount: the root holds one directory per user, MOUNTPOINT/NAME,
// and each is the root of that user's own FS, built the first time the user
// enters it, with a store signed with their own keys and an upload manager of
// their own. What one user's FS fetched stays in it: its metadata and
// listings live in its nodes; its blocks are in the shared block cache under
// IDs that start with its salt; its nodes have numbers of their own (the
// FSes share one inode table, salted paths, so that no two users' nodes
// share a number, which would make go-fuse return one user's node, and the
// kernel its page cache, to another). Only the user may enter their
// directory: Lookup checks the caller's uid (which the kernel sets, so it
// cannot be forged), and the directory is 0700 and theirs, which the
// kernel enforces once it holds the entry (default_permissions). Root,
// whom the kernel lets through such a directory, is refused by rootGuard
// on every node below the mount's root.

// User is a local user, as a --per-user mount knows them.
type User struct {
	Name     string
	UID, GID uint32
	Groups   []uint32 // supplementary groups, the primary one included
	Home     string
}

// Users resolves local users; OSUsers is the system's.
type Users interface {
	ByName(name string) (User, error)
	ByUID(uid uint32) (User, error)
}

// UserParts are what Open builds for a user: the FS's Config (their uid and
// gid, say), a store that signs with their keys, and their upload manager
// (nil: read-only).
type UserParts struct {
	Config  Config
	Store   s3io.Store
	Uploads *writeback.Manager
}

// PerUserConfig configures a --per-user mount.
type PerUserConfig struct {
	// MetadataTTL and NegativeTTL are the kernel's for the root's entries;
	// each user's FS has its own in UserParts.Config.
	MetadataTTL, NegativeTTL time.Duration
	ReadOnly                 bool
	// Open builds a user's FS parts. It is called once per user, and again
	// after a failure at most every FailedRetry. Its error is logged (it
	// must not hold a secret) and gives the user EACCES.
	Open func(ctx context.Context, u User) (UserParts, error)
	// Users defaults to OSUsers.
	Users Users
	// FailedRetry is how long a failed Open is remembered (default 5 s).
	FailedRetry time.Duration
	// LogEvery bounds how often the same failure of one user is logged
	// (default 10 min).
	LogEvery time.Duration
	// Status, when set, makes the text of the root's s3.status xattr
	// (`s3mount status`), readable only by root.
	Status func() []byte
	Logger *slog.Logger
}

// PerUser is the file system of a --per-user mount.
type PerUser struct {
	cfg    PerUserConfig
	inodes *inodeTable
	cache  *cache.Cache
	log    *slog.Logger

	mu    sync.Mutex
	slots map[uint32]*userSlot // by uid
	logs  map[uint32]*failureLog
}

// userSlot is one user's FS, built once.
type userSlot struct {
	user     User
	done     chan struct{} // closed when fs or err is set
	fs       *FS
	err      error
	failedAt time.Time
}

// failureLog rate-limits the log lines of one user's failures.
type failureLog struct {
	reason string
	at     time.Time
}

// NewPerUser builds a --per-user file system. Every user's FS shares the
// block cache c (their blocks under IDs of their own).
func NewPerUser(cfg PerUserConfig, c *cache.Cache) *PerUser {
	if cfg.Users == nil {
		cfg.Users = OSUsers{}
	}
	if cfg.FailedRetry <= 0 {
		cfg.FailedRetry = 5 * time.Second
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = 10 * time.Minute
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &PerUser{cfg: cfg, inodes: newInodeTable(), cache: c, log: log,
		slots: make(map[uint32]*userSlot), logs: make(map[uint32]*failureLog)}
}

// Root returns the root node: one directory per user.
func (p *PerUser) Root() gofs.InodeEmbedder { return &usersRoot{p: p} }

// Options returns the go-fuse options of the root.
func (p *PerUser) Options() *gofs.Options {
	ttl, neg := p.cfg.MetadataTTL, p.cfg.NegativeTTL
	return &gofs.Options{
		EntryTimeout:    &ttl,
		AttrTimeout:     &ttl,
		NegativeTimeout: &neg,
		RootStableAttr:  &gofs.StableAttr{Ino: 1},
		NullPermissions: true,
	}
}

// Mount mounts the per-user tree at mountpoint.
func (p *PerUser) Mount(mountpoint string, mo MountOptions) (*fuse.Server, error) {
	return mountTree(mountpoint, p.Root(), p.Options(), mo, p.cfg.ReadOnly, true, p.log)
}

// UserTree is one user's tree, built.
type UserTree struct {
	User User
	FS   *FS
}

// Trees returns the users' trees built so far, sorted by uid.
func (p *PerUser) Trees() []UserTree {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []UserTree
	for _, s := range p.slots {
		select {
		case <-s.done:
			if s.fs != nil {
				out = append(out, UserTree{User: s.user, FS: s.fs})
			}
		default:
		}
	}
	slices.SortFunc(out, func(a, b UserTree) int { return cmp.Compare(a.User.UID, b.User.UID) })
	return out
}

// FSes returns the users' file systems built so far.
func (p *PerUser) FSes() []*FS {
	var out []*FS
	for _, t := range p.Trees() {
		out = append(out, t.FS)
	}
	return out
}

// SyncAll waits for every user's queued uploads; it returns the first
// error.
func (p *PerUser) SyncAll(ctx context.Context) error {
	var first error
	for _, f := range p.FSes() {
		if err := f.SyncAll(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// UserFS returns u's FS, building it when it is not yet (or, after a
// failure, FailedRetry ago). Concurrent callers share one build, which
// outlives a caller that gives up.
func (p *PerUser) UserFS(ctx context.Context, u User) (*FS, error) {
	p.mu.Lock()
	s := p.slots[u.UID]
	if s != nil {
		select {
		case <-s.done:
			if s.err != nil && time.Since(s.failedAt) >= p.cfg.FailedRetry {
				s = nil
			}
		default:
		}
	}
	if s == nil {
		s = &userSlot{user: u, done: make(chan struct{})}
		p.slots[u.UID] = s
		go p.build(context.WithoutCancel(ctx), u, s)
	}
	p.mu.Unlock()
	select {
	case <-s.done:
		return s.fs, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (p *PerUser) build(ctx context.Context, u User, s *userSlot) {
	parts, err := p.cfg.Open(ctx, u)
	if err != nil {
		p.logFailure(u, err)
		s.err, s.failedAt = err, time.Now()
		close(s.done)
		return
	}
	cfg := parts.Config
	cfg.Bucket, cfg.Prefix = "", ""
	cfg.UID, cfg.GID = u.UID, u.GID
	cfg.RootMode = 0o700
	if cfg.Logger == nil {
		cfg.Logger = p.log
	}
	cfg.Logger = cfg.Logger.With("user", u.Name)
	f := newFS(cfg, parts.Store, p.cache, parts.Uploads, p.inodes, "uid "+strconv.FormatUint(uint64(u.UID), 10)+"\x00")
	// Held for the mount's life: the user's directory is a persistent
	// node of the root.
	f.rootIno = p.inodes.get("\x00user " + strconv.FormatUint(uint64(u.UID), 10))
	p.log.Info("user's tree ready", "user", u.Name, "uid", u.UID)
	s.fs = f
	close(s.done)
}

// logFailure logs why u has no tree: once, then again only when the
// reason changes or LogEvery has passed.
func (p *PerUser) logFailure(u User, err error) {
	reason := err.Error()
	p.mu.Lock()
	l := p.logs[u.UID]
	if l != nil && l.reason == reason && time.Since(l.at) < p.cfg.LogEvery {
		p.mu.Unlock()
		return
	}
	p.logs[u.UID] = &failureLog{reason: reason, at: time.Now()}
	p.mu.Unlock()
	p.log.Warn("user has no tree in the per-user mount (EACCES on their directory)", "user", u.Name, "uid", u.UID, "reason", reason)
}

// usersRoot is the root of a --per-user mount.
type usersRoot struct {
	gofs.Inode
	p *PerUser
}

var (
	_ = (gofs.NodeLookuper)((*usersRoot)(nil))
	_ = (gofs.NodeReaddirer)((*usersRoot)(nil))
	_ = (gofs.NodeGetattrer)((*usersRoot)(nil))
	_ = (gofs.NodeStatfser)((*usersRoot)(nil))
	_ = (gofs.NodeGetxattrer)((*usersRoot)(nil))
)

// Getxattr has only s3.status, for root.
func (r *usersRoot) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	if attr != xStatus || r.p.cfg.Status == nil {
		return 0, syscall.ENODATA
	}
	if c, ok := fuse.FromContext(ctx); !ok || c.Uid != 0 {
		return 0, syscall.EACCES
	}
	return xattrValue(string(r.p.cfg.Status()), dest)
}

// caller returns the local user who made the request. Root has no tree:
// it could read every user's keys anyway, but a tree of its own would
// take the daemon's environment for a user's.
func (r *usersRoot) caller(ctx context.Context) (User, syscall.Errno) {
	c, ok := fuse.FromContext(ctx)
	if !ok || c.Uid == 0 {
		return User{}, syscall.EACCES
	}
	u, err := r.p.cfg.Users.ByUID(c.Uid)
	if err != nil {
		return User{}, syscall.EACCES
	}
	return u, 0
}

func (r *usersRoot) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	me, errno := r.caller(ctx)
	if errno != 0 || me.Name != name {
		if _, err := r.p.cfg.Users.ByName(name); err != nil {
			return nil, syscall.ENOENT // no such user
		}
		return nil, syscall.EACCES // another user's directory
	}
	f, err := r.p.UserFS(uninterruptible(ctx), me)
	if err != nil {
		return nil, syscall.EACCES
	}
	f.rootAttr(&out.Attr)
	if child := r.GetChild(name); child != nil {
		if b, ok := child.Operations().(*bucketsRoot); ok && b.fs == f {
			return child, 0
		}
		// The name is another uid's now (a user removed and made again).
		r.RmChild(name)
	}
	return r.NewPersistentInode(ctx, &bucketsRoot{fs: f}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: f.rootIno}), 0
}

// Readdir shows each user their own directory only, and only when they
// have keys: the names of the others are in /etc/passwd, but which of
// them use the mount is theirs to know.
func (r *usersRoot) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	me, errno := r.caller(ctx)
	if errno != 0 {
		return gofs.NewListDirStream(nil), 0
	}
	f, err := r.p.UserFS(ctx, me)
	if err != nil {
		return gofs.NewListDirStream(nil), 0
	}
	return gofs.NewListDirStream([]fuse.DirEntry{{Name: me.Name, Mode: syscall.S_IFDIR, Ino: f.rootIno}}), 0
}

func (r *usersRoot) Getattr(ctx context.Context, fh gofs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Ino = 1
	out.Mode = syscall.S_IFDIR | 0o755
	out.Nlink = 1
	out.Size = 4096
	out.Blksize = blockSizeHint
	return 0
}

func (r *usersRoot) Statfs(ctx context.Context, out *fuse.StatfsOut) syscall.Errno {
	statfsOut(out)
	return 0
}

// OSUsers resolves users through os/user: /etc/passwd and /etc/group in
// a binary built without cgo, the system's NSS (LDAP, SSSD) with it.
type OSUsers struct{}

func (OSUsers) ByName(name string) (User, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return User{}, err
	}
	return fromOSUser(u)
}

func (OSUsers) ByUID(uid uint32) (User, error) {
	u, err := user.LookupId(strconv.FormatUint(uint64(uid), 10))
	if err != nil {
		return User{}, err
	}
	return fromOSUser(u)
}

func fromOSUser(u *user.User) (User, error) {
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return User{}, fmt.Errorf("user %s: %w", u.Username, err)
	}
	out := User{Name: u.Username, UID: uint32(uid), GID: uint32(gid), Home: u.HomeDir, Groups: []uint32{uint32(gid)}}
	ids, err := u.GroupIds()
	if err != nil {
		return User{}, fmt.Errorf("groups of user %s: %w", u.Username, err)
	}
	for _, s := range ids {
		if g, err := strconv.ParseUint(s, 10, 32); err == nil && !slices.Contains(out.Groups, uint32(g)) {
			out.Groups = append(out.Groups, uint32(g))
		}
	}
	return out, nil
}
