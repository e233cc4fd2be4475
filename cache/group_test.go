package cache

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

func groupObjects(n, size int) ([]*fakeObject, []Object) {
	fakes := make([]*fakeObject, n)
	objs := make([]Object, n)
	for i := range fakes {
		fakes[i] = newFake(size)
		objs[i] = Object{ID: fmt.Sprintf("obj%d", i), Size: int64(size), Fetch: fakes[i].fetch}
	}
	return fakes, objs
}

// largestFile is the biggest file under dir (a disk-tier block file).
func largestFile(t *testing.T, dir string) string {
	t.Helper()
	var path string
	var size int64
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && info.Size() > size {
			path, size = p, info.Size()
		}
		return nil
	})
	if path == "" {
		t.Fatalf("no file under %s", dir)
	}
	return path
}

// evict drops path's pages from the page cache.
func evict(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED); err != nil {
		t.Fatal(err)
	}
}

// resident reports whether every page of path is in the page cache.
func resident(t *testing.T, path string) bool {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	m, err := unix.Mmap(int(f.Fd()), 0, int(info.Size()), unix.PROT_READ, unix.MAP_SHARED)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(m)
	pages := make([]byte, (len(m)+os.Getpagesize()-1)/os.Getpagesize())
	if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&m[0])), uintptr(len(m)), uintptr(unsafe.Pointer(&pages[0]))); e != 0 {
		t.Fatalf("mincore: %v", e)
	}
	for _, p := range pages {
		if p&1 == 0 {
			return false
		}
	}
	return true
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// A file fetched by a group is read by its reader with no request of its
// own; past maxHeld blocks the oldest is let go, and Close gives back
// every byte of the budget.
func TestGroupServesTheNextFilesWithoutAFetchOfTheirOwn(t *testing.T) {
	c := newTestCache(t, 8<<20, 64<<10)
	fakes, objs := groupObjects(5, 16<<10)
	g := c.NewGroup(3)
	for i, o := range objs[:3] {
		if !g.Fetch(o) {
			t.Fatalf("Fetch(%d) started nothing", i)
		}
	}
	waitFor(t, "the group's fetches", func() bool {
		for _, f := range fakes[:3] {
			if f.fetches.Load() != 1 {
				return false
			}
		}
		return true
	})
	if g.Fetch(objs[1]) {
		t.Fatal("a held object was fetched again")
	}
	// The fetched bytes land once the flight is done; wait for them to be held.
	r := c.NewReader(objs[1])
	waitFor(t, "the held block", func() bool {
		key := blockKey(objs[1].ID, 0)
		g.mu.Lock()
		defer g.mu.Unlock()
		h := g.held[key]
		return h != nil && h.buf != nil
	})
	buf := make([]byte, 16<<10)
	if n, err := r.ReadAt(context.Background(), buf, 0); err != nil || n != len(buf) || !bytes.Equal(buf, fakes[1].data) {
		t.Fatalf("read %d bytes, %v; want the object", n, err)
	}
	r.Close()
	if n := fakes[1].fetches.Load(); n != 1 {
		t.Fatalf("object 1 fetched %d times, want once (by the group)", n)
	}
	if got := c.Stats().GroupHits; got != 1 {
		t.Fatalf("GroupHits %d, want 1", got)
	}
	if held := g.Held(); held != 2 {
		t.Fatalf("the group holds %d blocks after one was taken, want 2", held)
	}
	if !g.Fetch(objs[3]) || !g.Fetch(objs[4]) {
		t.Fatal("Fetch(3) or Fetch(4) started nothing")
	}
	g.mu.Lock()
	_, has0 := g.held[blockKey(objs[0].ID, 0)]
	g.mu.Unlock()
	if held := g.Held(); held != 3 || has0 {
		t.Fatalf("at maxHeld the group holds %d blocks (object 0 among them: %v), want 3 without the oldest", held, has0)
	}
	if used := c.ahead.inUse(); used != 3*(16<<10) {
		t.Fatalf("budget in use %d, want three blocks", used)
	}
	g.Close()
	if used := c.ahead.inUse(); used != 0 {
		t.Fatalf("budget in use after Close: %d", used)
	}
	if g.Fetch(objs[0]) {
		t.Fatal("a closed group fetched")
	}
}

// A group never holds more than the read-ahead budget, and Close cancels
// the fetches still running.
func TestGroupStaysWithinTheBudgetAndCloseCancels(t *testing.T) {
	c := newTestCache(t, 256<<10, 64<<10) // a read-ahead budget of 128 KiB: two blocks
	fakes, objs := groupObjects(4, 64<<10)
	for _, f := range fakes {
		f.delay = time.Hour // held until cancelled
	}
	g := c.NewGroup(10)
	started := 0
	for _, o := range objs {
		if g.Fetch(o) {
			started++
		}
	}
	if started != 2 {
		t.Fatalf("%d fetches started within a two-block budget", started)
	}
	waitFor(t, "two fetches in flight", func() bool { return fakes[0].fetches.Load()+fakes[1].fetches.Load() == 2 })
	g.Close()
	waitFor(t, "the cancelled fetches to end", func() bool { return c.flight.inFlight() == 0 })
	if used := c.ahead.inUse(); used != 0 {
		t.Fatalf("budget in use after Close: %d", used)
	}
}

// A reader that opens a file whose group fetch is still running shares
// that fetch instead of sending a second request.
func TestReaderSharesAGroupFetchInFlight(t *testing.T) {
	c := newTestCache(t, 8<<20, 64<<10)
	fakes, objs := groupObjects(1, 16<<10)
	fakes[0].delay = 50 * time.Millisecond
	g := c.NewGroup(10)
	defer g.Close()
	g.Fetch(objs[0])
	waitFor(t, "the group's fetch", func() bool { return fakes[0].fetches.Load() == 1 })
	r := c.NewReader(objs[0])
	defer r.Close()
	buf := make([]byte, 16<<10)
	if n, err := r.ReadAt(context.Background(), buf, 0); err != nil || n != len(buf) || !bytes.Equal(buf, fakes[0].data) {
		t.Fatalf("read %d bytes, %v", n, err)
	}
	if n := fakes[0].fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want the group's one", n)
	}
}

// A file whose first block is in the disk tier is not fetched ahead from
// S3: its reader reads it from the disk, faster than a GET.
func TestGroupLeavesBlocksTheDiskHasToTheDisk(t *testing.T) {
	const bs = 64 << 10
	dir := filepath.Join(t.TempDir(), "disk")
	f := newFake(16 << 10)
	obj := f.object("on-disk")
	obj.OnDisk = true
	c, d := newDiskTestCache(t, dir, bs)
	if got := readAll(t, c, obj); !bytes.Equal(got, f.data) {
		t.Fatal("cold read differs")
	}
	c.Close()
	d.Close() // writes what is queued
	c, d = newDiskTestCache(t, dir, bs)
	defer d.Close()
	defer c.Close()
	before := f.fetches.Load()
	block := largestFile(t, dir)
	evict(t, block)
	evicted := !resident(t, block)
	if !evicted {
		// tmpfs: its pages are the file, so read-ahead cannot be seen.
		t.Logf("not checking the read-ahead of %s: this file system keeps its pages after FADV_DONTNEED", block)
	}
	g := c.NewGroup(10)
	defer g.Close()
	if g.Fetch(obj) {
		t.Error("a block the disk tier holds was fetched ahead")
	}
	if evicted {
		// Instead the kernel reads the block file ahead of the reader:
		// files read one after another do not each wait for the device.
		waitFor(t, "the block file in the page cache", func() bool { return resident(t, block) })
	}
	if got := readAll(t, c, obj); !bytes.Equal(got, f.data) {
		t.Fatal("read from the disk differs")
	}
	if n := f.fetches.Load() - before; n != 0 {
		t.Errorf("%d fetches from S3 for a file the disk holds", n)
	}
}

// A group nobody fetches through any more lets go of what it holds: a
// program that stopped reading the directory keeps no budget pinned.
func TestIdleGroupLetsGoOfWhatItHolds(t *testing.T) {
	defer func(d time.Duration) { groupIdle = d }(groupIdle)
	groupIdle = 50 * time.Millisecond
	c := newTestCache(t, 8<<20, 64<<10)
	_, objs := groupObjects(4, 16<<10)
	g := c.NewGroup(10)
	defer g.Close()
	for _, o := range objs[:3] {
		g.Fetch(o)
	}
	waitFor(t, "the idle group to let go", func() bool { return g.Held() == 0 && c.ahead.inUse() == 0 })
	if !g.Fetch(objs[3]) {
		t.Fatal("an idle group no longer fetches")
	}
}
