package diskcache

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func randomBlock(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// load reads a whole block as the cache's readers do.
func load(c *Cache, id string, idx, n int64) ([]byte, bool) {
	b, ok := c.Open(id, idx, n)
	if !ok {
		return nil, false
	}
	defer b.Close()
	p := make([]byte, n)
	if !b.ReadAt(p, 0) {
		return nil, false
	}
	return p, true
}

func loadAt(c *Cache, id string, idx, n int64, p []byte, off int64) bool {
	b, ok := c.Open(id, idx, n)
	if !ok {
		return false
	}
	defer b.Close()
	return b.ReadAt(p, off)
}

func openTest(t testing.TB, dir string, opts Options) *Cache {
	t.Helper()
	opts.Dir = dir
	if opts.BlockSize == 0 {
		opts.BlockSize = 256 << 10
	}
	if opts.MinFreeFraction == 0 {
		opts.MinFreeFraction = -1 // tests must not depend on the machine's free space
	}
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	c.WaitIndex()
	return c
}

// flush waits until the queued blocks are written.
func flush(t *testing.T, c *Cache) {
	t.Helper()
	if err := c.room.Acquire(context.Background(), c.opts.QueueBytes); err != nil {
		t.Fatal(err)
	}
	c.room.Release(c.opts.QueueBytes)
}

func TestBlocksSurviveReopenAndAreReadBack(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := openTest(t, dir, Options{Namespace: "ep"})
	full := randomBlock(1, 256<<10)
	short := randomBlock(2, 1000)
	c.Store(context.Background(), "obj", 0, full, nil)
	c.Store(context.Background(), "obj", 3, short, nil)
	c.Close()

	c = openTest(t, dir, Options{Namespace: "ep"})
	if got, ok := load(c, "obj", 0, int64(len(full))); !ok || !bytes.Equal(got, full) {
		t.Fatalf("block 0 after reopen: ok=%v, bytes equal=%v", ok, bytes.Equal(got, full))
	}
	if got, ok := load(c, "obj", 3, 1000); !ok || !bytes.Equal(got, short) {
		t.Fatal("short last block not read back")
	}
	p := make([]byte, 5000)
	if !loadAt(c, "obj", 0, int64(len(full)), p, 63000) || !bytes.Equal(p, full[63000:68000]) {
		t.Fatal("a read across a chunk boundary")
	}
	if _, ok := load(c, "obj", 1, int64(len(full))); ok {
		t.Fatal("a block never stored was found")
	}
	if got := c.Kept("obj", 3*(256<<10)+1000); got != int64(len(full))+1000 {
		t.Fatalf("Kept = %d, want %d", got, len(full)+1000)
	}
	if st := c.Stats(); st.Blocks != 2 {
		t.Fatalf("index holds %d blocks after reopen, want 2", st.Blocks)
	}
}

func TestOtherNamespaceBlockSizeOrLengthIsAMiss(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := openTest(t, dir, Options{Namespace: "a"})
	c.Store(context.Background(), "obj", 0, randomBlock(1, 256<<10), nil)
	c.Close()
	for _, o := range []Options{{Namespace: "b"}, {Namespace: "a", BlockSize: 128 << 10}} {
		c := openTest(t, dir, o)
		if _, ok := load(c, "obj", 0, o.BlockSize|256<<10); ok {
			t.Fatalf("%+v: served another namespace's or block size's block", o)
		}
		c.Close()
	}
	c = openTest(t, dir, Options{Namespace: "a"})
	if _, ok := load(c, "obj", 0, 1234); ok {
		t.Fatal("a block of another length was served")
	}
}

func TestDamagedBlockFilesAreNeverServed(t *testing.T) {
	damage := map[string]func(path string){
		"truncated": func(p string) {
			st, _ := os.Stat(p)
			os.Truncate(p, st.Size()-1)
		},
		"cut to the header": func(p string) { os.Truncate(p, 100) },
		"empty":             func(p string) { os.Truncate(p, 0) },
		"byte flipped in the data": func(p string) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			b := make([]byte, 1)
			f.ReadAt(b, 200000)
			b[0] ^= 0x40
			f.WriteAt(b, 200000)
			f.Close()
		},
		"byte flipped in the header": func(p string) {
			f, _ := os.OpenFile(p, os.O_RDWR, 0)
			f.WriteAt([]byte{0xff}, 20)
			f.Close()
		},
		"another block's file": func(p string) {
			other := filepath.Join(filepath.Dir(p), "1")
			os.Rename(other, p)
		},
	}
	for name, fn := range damage {
		t.Run(name, func(t *testing.T) {
			c := openTest(t, filepath.Join(t.TempDir(), "cache"), Options{})
			data := randomBlock(3, 256<<10)
			c.Store(context.Background(), "obj", 0, data, nil)
			c.Store(context.Background(), "obj", 1, randomBlock(4, 256<<10), nil)
			flush(t, c)
			path := filepath.Join(c.root, c.blockRel("obj", 0))
			fn(path)
			p := make([]byte, 4096)
			if loadAt(c, "obj", 0, int64(len(data)), p, 196608) && !bytes.Equal(p, data[196608:196608+4096]) {
				t.Fatal("a random read served damaged bytes")
			}
			if got, ok := load(c, "obj", 0, int64(len(data))); ok {
				if !bytes.Equal(got, data) {
					t.Fatal("Load served damaged bytes")
				}
				t.Fatal("Load served a damaged file")
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("damaged file not removed: %v", err)
			}
			if c.Stats().Corrupt == 0 {
				t.Fatal("damage not counted")
			}
			// Written again, it is served again.
			c.Store(context.Background(), "obj", 0, data, nil)
			flush(t, c)
			if got, ok := load(c, "obj", 0, int64(len(data))); !ok || !bytes.Equal(got, data) {
				t.Fatal("rewritten block not served")
			}
		})
	}
}

func TestFullCacheEvictsLeastRecentlyUsed(t *testing.T) {
	const bs = 256 << 10
	// One writer: blocks are written, and so ordered, as stored.
	c := openTest(t, filepath.Join(t.TempDir(), "cache"), Options{MaxBytes: 10 * (bs + 4096), Writers: 1})
	for i := int64(0); i < 8; i++ {
		c.Store(context.Background(), "obj", i, randomBlock(i, bs), nil)
	}
	flush(t, c)
	if _, ok := load(c, "obj", 0, bs); !ok { // block 0 is now the most recent
		t.Fatal("block 0 missing")
	}
	for i := int64(8); i < 16; i++ {
		c.Store(context.Background(), "obj", i, randomBlock(i, bs), nil)
	}
	flush(t, c)
	st := c.Stats()
	if st.Bytes > 10*(bs+4096) || st.Evicted == 0 {
		t.Fatalf("index holds %d bytes (limit %d), %d evicted", st.Bytes, 10*(bs+4096), st.Evicted)
	}
	if du := dirBytes(t, c.root); du > 10*(bs+4096) {
		t.Fatalf("the directory holds %d bytes of blocks, limit %d", du, 10*(bs+4096))
	}
	if !c.Has("obj", 0) || !c.Has("obj", 15) {
		t.Fatal("the recently used block 0 or the newest block 15 was evicted")
	}
	if c.Has("obj", 1) {
		t.Fatal("block 1, the least recently used, was kept")
	}
}

func dirBytes(t *testing.T, root string) int64 {
	var n int64
	filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() && filepath.Base(p) != "lock" {
			n += diskSize(info.Size())
		}
		return nil
	})
	return n
}

func TestOpenRefusesADirectoryOthersCanReadAndASecondUser(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := Open(Options{Dir: dir, BlockSize: 1 << 20})
	if !errors.Is(err, ErrNotPrivate) || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("open of a 0755 directory: %v, want ErrNotPrivate naming chmod 700", err)
	}
	os.Chmod(dir, 0o700)
	c := openTest(t, dir, Options{})
	_, err = Open(Options{Dir: dir, BlockSize: 1 << 20})
	if !errors.Is(err, ErrInUse) || !strings.Contains(err.Error(), "pid") {
		t.Fatalf("second open: %v, want ErrInUse naming the holder", err)
	}
	c.Store(context.Background(), "obj", 0, randomBlock(1, 1000), nil)
	flush(t, c)
	filepath.Walk(c.root, func(p string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s has mode %04o", p, info.Mode().Perm())
		}
		return nil
	})
	c.Close()
	if c2, err := Open(Options{Dir: dir, BlockSize: 1 << 20}); err != nil {
		t.Fatalf("open after the first closed: %v", err)
	} else {
		c2.Close()
	}
}

func TestOfferDropsWhenTheQueueIsFull(t *testing.T) {
	c := openTest(t, filepath.Join(t.TempDir(), "cache"), Options{QueueBytes: 1})
	// Room for two blocks (the minimum): hold it all.
	if !c.room.TryAcquire(c.opts.QueueBytes) {
		t.Fatal("queue not empty")
	}
	c.Offer("obj", 0, randomBlock(1, 1000))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	c.Store(ctx, "obj", 1, randomBlock(1, 1000), nil)
	c.room.Release(c.opts.QueueBytes)
	flush(t, c)
	if c.Has("obj", 0) || c.Has("obj", 1) || c.Stats().Dropped != 2 {
		t.Fatalf("stats %+v: want both blocks dropped", c.Stats())
	}
}

// The index of 100,000 blocks is rebuilt at mount, every block of them
// (the rebuild runs in the background; nothing waits for it, but
// eviction is exact only afterwards). How long it takes (the issue asks
// for under a second) is BenchmarkIndexRebuildOf100000Blocks's to tell:
// a timed test fails on a loaded machine.
func TestIndexOf100000BlocksIsRebuilt(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: creates 100,000 files")
	}
	dir := filepath.Join(t.TempDir(), "cache")
	makeBlockFiles(t, dir, 1000, 100)
	c := openTest(t, dir, Options{})
	st := c.Stats()
	t.Logf("index of %d blocks rebuilt in %v", st.Blocks, st.IndexTook)
	if st.Blocks != 100000 {
		t.Fatalf("index holds %d blocks, want 100000", st.Blocks)
	}
}

// BenchmarkIndexRebuildOf100000Blocks reports the rebuild of the index of
// 100,000 cached blocks (1,000 objects of 100) as index-s.
func BenchmarkIndexRebuildOf100000Blocks(b *testing.B) {
	dir := filepath.Join(b.TempDir(), "cache")
	makeBlockFiles(b, dir, 1000, 100)
	var took time.Duration
	for b.Loop() {
		c, err := Open(Options{Dir: dir, BlockSize: 256 << 10, MinFreeFraction: -1})
		if err != nil {
			b.Fatal(err)
		}
		c.WaitIndex()
		took += c.Stats().IndexTook
		c.Close()
	}
	b.ReportMetric(took.Seconds()/float64(b.N), "index-s")
}

// makeBlockFiles lays out objects x blocks empty block files as the cache
// does (their contents do not matter to the rebuild).
func makeBlockFiles(t testing.TB, dir string, objects, blocks int) {
	t.Helper()
	c := openTest(t, dir, Options{})
	for o := 0; o < objects; o++ {
		d := filepath.Join(c.root, c.objectDir("obj"+string(rune('a'+o%26))+strings.Repeat("x", o/26)))
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
		for b := 0; b < blocks; b++ {
			if err := os.WriteFile(filepath.Join(d, itoa(b)), nil, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Close()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var b []byte
	for ; i > 0; i /= 10 {
		b = append([]byte{byte('0' + i%10)}, b...)
	}
	return string(b)
}
