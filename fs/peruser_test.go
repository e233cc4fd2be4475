package fs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// fakeUsers is a Users of a few names.
type fakeUsers map[string]User

func (f fakeUsers) ByName(name string) (User, error) {
	if u, ok := f[name]; ok {
		return u, nil
	}
	return User{}, errors.New("no such user")
}

func (f fakeUsers) ByUID(uid uint32) (User, error) {
	for _, u := range f {
		if u.UID == uid {
			return u, nil
		}
	}
	return User{}, errors.New("no such uid")
}

func asUID(uid uint32) context.Context {
	return fuse.NewContext(context.Background(), &fuse.Caller{Owner: fuse.Owner{Uid: uid, Gid: uid}})
}

// TestPerUserRootIsolatesUsers drives the per-user root's nodes directly
// (no mount: the callers' uids are made up): each user reaches only their
// own directory, built once with their own store; a user without keys gets
// EACCES and one log line; no two users' nodes or blocks share a name.
func TestPerUserRootIsolatesUsers(t *testing.T) {
	users := fakeUsers{
		"alice": {Name: "alice", UID: 1001, GID: 1001},
		"bob":   {Name: "bob", UID: 1002, GID: 1002},
		"carol": {Name: "carol", UID: 1003, GID: 1003},
	}
	// The same bucket and key, with each user's own bytes.
	stores := map[string]*memstore.Store{}
	for _, n := range []string{"alice", "bob"} {
		st := memstore.New()
		st.AddBucket("b")
		st.PutBytes("b", "k", []byte(n+"'s bytes"), nil)
		stores[n] = st
	}
	var opens atomic.Int32
	var logBuf bytes.Buffer
	c, err := cache.New(cache.Options{CacheBytes: 8 << 20, BlockSize: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	p := NewPerUser(PerUserConfig{
		MetadataTTL: time.Minute, NegativeTTL: time.Second, ReadOnly: true, Users: users,
		Logger: slog.New(slog.NewTextHandler(&logBuf, nil)),
		Open: func(ctx context.Context, u User) (UserParts, error) {
			opens.Add(1)
			st, ok := stores[u.Name]
			if !ok {
				return UserParts{}, errors.New("no keys: no ~/.passwd-s3fs")
			}
			return UserParts{Store: st, Config: Config{ReadOnly: true, FileMode: 0o644, DirMode: 0o755, MetadataTTL: time.Minute}}, nil
		},
	}, c)
	root := p.Root().(*usersRoot)
	gofs.NewNodeFS(root, p.Options()) // gives the root its bridge

	lookup := func(uid uint32, name string) (*gofs.Inode, fuse.EntryOut, syscall.Errno) {
		var out fuse.EntryOut
		in, errno := root.Lookup(asUID(uid), name, &out)
		return in, out, errno
	}
	for _, c := range []struct {
		uid  uint32
		name string
		want syscall.Errno
	}{
		{1001, "bob", syscall.EACCES},   // another user's
		{1002, "alice", syscall.EACCES}, // another user's
		{0, "alice", syscall.EACCES},    // root has no way in
		{1001, "nobody-such", syscall.ENOENT},
		{1003, "carol", syscall.EACCES}, // no keys
		{1003, "carol", syscall.EACCES}, // still none: not logged again
	} {
		if _, _, errno := lookup(c.uid, c.name); errno != c.want {
			t.Errorf("uid %d looks up %s: %v, want %v", c.uid, c.name, errno, c.want)
		}
	}
	if n := strings.Count(logBuf.String(), "user has no tree"); n != 1 || !strings.Contains(logBuf.String(), "user=carol") {
		t.Errorf("log for carol's two refusals: %q, want one line naming her", logBuf.String())
	}

	inos := map[string]uint64{}
	var blockIDs []string
	for _, u := range []User{users["alice"], users["bob"]} {
		in, out, errno := lookup(u.UID, u.Name)
		if errno != 0 {
			t.Fatalf("%s looks up their directory: %v", u.Name, errno)
		}
		if out.Mode != syscall.S_IFDIR|0o700 || out.Uid != u.UID || out.Gid != u.GID {
			t.Errorf("%s's directory: mode %o uid %d gid %d, want 0700 and theirs", u.Name, out.Mode, out.Uid, out.Gid)
		}
		br := in.Operations().(*bucketsRoot)
		var bout fuse.EntryOut
		bucket, errno := br.Lookup(asUID(u.UID), "b", &bout)
		if errno != 0 {
			t.Fatalf("%s looks up bucket b: %v", u.Name, errno)
		}
		inos[u.Name+" dir"] = in.StableAttr().Ino
		inos[u.Name+" bucket"] = bucket.StableAttr().Ino
		info := s3io.ObjectInfo{Key: "k", Size: 9, ETag: `"same"`}
		blockIDs = append(blockIDs, br.fs.cacheObject("b", "k", &info, s3io.ReadOptions{}).ID)

		ds, errno := root.Readdir(asUID(u.UID))
		if errno != 0 {
			t.Fatal(errno)
		}
		var names []string
		for ds.HasNext() {
			e, _ := ds.Next()
			names = append(names, e.Name)
		}
		if len(names) != 1 || names[0] != u.Name {
			t.Errorf("%s lists the root: %q, want only their own name", u.Name, names)
		}
	}
	if inos["alice bucket"] == inos["bob bucket"] || inos["alice dir"] == inos["bob dir"] {
		t.Errorf("alice's and bob's nodes share numbers: %v", inos)
	}
	if blockIDs[0] == blockIDs[1] {
		t.Errorf("alice's and bob's blocks of the same object share the cache ID %q", blockIDs[0])
	}
	for _, uid := range []uint32{1003, 0} {
		ds, _ := root.Readdir(asUID(uid))
		if ds.HasNext() {
			t.Errorf("uid %d (no keys, or root) lists a directory in the root", uid)
		}
	}
	if n := opens.Load(); n != 3 {
		t.Errorf("Open ran %d times for alice, bob and carol (within FailedRetry), want 3", n)
	}
}
