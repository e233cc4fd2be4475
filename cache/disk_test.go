package cache

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/s3mount/s3mount/diskcache"
)

func newDiskTestCache(t *testing.T, dir string, bs int64) (*Cache, *diskcache.Cache) {
	t.Helper()
	d, err := diskcache.Open(diskcache.Options{Dir: dir, BlockSize: bs, MinFreeFraction: -1})
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(Options{CacheBytes: 16 * bs, BlockSize: bs, MaxConcurrency: 8, MaxPrefetchBlocks: 4, Disk: d})
	if err != nil {
		t.Fatal(err)
	}
	return c, d
}

func readAll(t *testing.T, c *Cache, obj Object) []byte {
	t.Helper()
	r := c.NewReader(obj)
	defer r.Close()
	var out bytes.Buffer
	buf := make([]byte, 40<<10)
	for off := int64(0); ; {
		n, err := r.ReadAt(context.Background(), buf, off)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return out.Bytes()
		}
		out.Write(buf[:n])
		off += int64(n)
	}
}

func TestBlocksReadOnceAreServedFromDiskByTheNextCache(t *testing.T) {
	const bs = 64 << 10
	dir := filepath.Join(t.TempDir(), "disk")
	f := newFake(10*bs + 777)
	obj := f.object("a")
	obj.OnDisk = true

	c, d := newDiskTestCache(t, dir, bs)
	if got := readAll(t, c, obj); !bytes.Equal(got, f.data) {
		t.Fatal("cold read differs")
	}
	c.Close()
	d.Close() // writes what is queued
	fetched := f.fetches.Load()

	c, d = newDiskTestCache(t, dir, bs)
	defer d.Close()
	defer c.Close()
	if kept, ok := c.Kept(obj); !ok || kept != int64(len(f.data)) {
		t.Fatalf("Kept = %d, %v; want the whole object (%d)", kept, ok, len(f.data))
	}
	if got := readAll(t, c, obj); !bytes.Equal(got, f.data) {
		t.Fatal("read from disk differs")
	}
	// A random read of a block not in memory is served from disk too.
	r := c.NewReader(obj)
	defer r.Close()
	p := make([]byte, 4096)
	if _, err := r.ReadAt(context.Background(), p, 5*bs+100); err != nil || !bytes.Equal(p, f.data[5*bs+100:5*bs+100+4096]) {
		t.Fatalf("random read: %v or wrong bytes", err)
	}
	if n := f.fetches.Load() - fetched; n != 0 {
		t.Fatalf("%d fetches with every block on disk, want 0", n)
	}
	if c.Stats().DiskHits < 11 {
		t.Fatalf("disk hits %d, want every block", c.Stats().DiskHits)
	}
}

func TestObjectsNotOnDiskNeverReachTheDisk(t *testing.T) {
	const bs = 64 << 10
	c, d := newDiskTestCache(t, filepath.Join(t.TempDir(), "disk"), bs)
	defer d.Close()
	defer c.Close()
	f := newFake(3 * bs)
	obj := f.object("secret") // OnDisk false: an SSE-C object
	readAll(t, c, obj)
	d.Close()
	if st := d.Stats(); st.Writes != 0 || st.Blocks != 0 {
		t.Fatalf("disk stats %+v: blocks of an object not to be kept were written", st)
	}
	if kept, ok := c.Kept(obj); !ok || kept != 0 {
		t.Fatalf("Kept = %d, %v", kept, ok)
	}
}

func TestBlocksInMemoryButNotOnDiskAreOfferedToIt(t *testing.T) {
	const bs = 64 << 10
	c, d := newDiskTestCache(t, filepath.Join(t.TempDir(), "disk"), bs)
	defer c.Close()
	f := newFake(2 * bs)
	mem := f.object("a")
	readAll(t, c, mem) // into memory only
	// ristretto adds blocks asynchronously
	c.blocks.Wait()
	onDisk := mem
	onDisk.OnDisk = true
	readAll(t, c, onDisk)
	d.Close()
	if kept, _ := c.Kept(onDisk); kept != 2*bs {
		t.Fatalf("after reading from memory, the disk holds %d bytes, want %d", kept, 2*bs)
	}
}

// readAllSpans reads obj as the FUSE layer does, taking spans where the
// reader offers them; it returns the bytes and how many came as spans.
func readAllSpans(t *testing.T, c *Cache, obj Object, chunk int) ([]byte, int) {
	t.Helper()
	r := c.NewReader(obj)
	defer r.Close()
	var out bytes.Buffer
	spans := 0
	buf := make([]byte, chunk)
	for off := int64(0); off < obj.Size; {
		n, sp, err := r.ReadSpan(context.Background(), buf, off)
		if err != nil {
			t.Fatal(err)
		}
		if sp != nil {
			out.Write(sp.Data)
			n = len(sp.Data)
			sp.Release()
			sp.Release() // twice is harmless
			spans++
		} else {
			out.Write(buf[:n])
		}
		if n == 0 {
			break
		}
		off += int64(n)
	}
	return out.Bytes(), spans
}

func TestDiskBlocksAreReadAsCheckedSpansAndDamageIsFetched(t *testing.T) {
	const bs = 256 << 10
	dir := filepath.Join(t.TempDir(), "disk")
	f := newFake(6*bs + 999)
	obj := f.object("a")
	obj.OnDisk = true
	c, d := newDiskTestCache(t, dir, bs)
	readAll(t, c, obj)
	c.Close()
	d.Close()

	// A byte flipped in the middle of block 2's file.
	files, _ := filepath.Glob(filepath.Join(dir, "v1", "??", "*", "2"))
	if len(files) != 1 {
		t.Fatalf("block 2's file: %v", files)
	}
	fh, err := os.OpenFile(files[0], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := []byte{0}
	fh.ReadAt(b, 4096+100000)
	b[0] ^= 0x80
	fh.WriteAt(b, 4096+100000)
	fh.Close()

	c, d = newDiskTestCache(t, dir, bs)
	defer d.Close()
	defer c.Close()
	fetched := f.fetches.Load()
	got, spans := readAllSpans(t, c, obj, 64<<10)
	if !bytes.Equal(got, f.data) {
		t.Fatal("bytes read through spans differ from the object")
	}
	if spans < 20 {
		t.Fatalf("only %d reads came as spans", spans)
	}
	if n := f.fetches.Load() - fetched; n != 1 {
		t.Fatalf("%d fetches, want 1 (the damaged block)", n)
	}
	if st := d.Stats(); st.Corrupt != 1 {
		t.Fatalf("disk stats %+v: want one damaged file", st)
	}
}

// A Fetch that reports bytes as in before they are (a Store breaking the
// Filled promise) leaves blocks whose checksums do not match: they are
// found corrupt and fetched again, never served.
func TestBlocksSummedBeforeTheirBytesWereInAreNeverServed(t *testing.T) {
	const bs = 256 << 10 // four chunks
	dir := filepath.Join(t.TempDir(), "disk")
	f := newFake(3 * bs)
	obj := f.object("a")
	obj.OnDisk = true
	obj.Fetch = func(ctx context.Context, off int64, p []byte, filled func(int)) (int, error) {
		for i := range p {
			p[i] = 0xA5
		}
		if filled != nil {
			filled(len(p)) // too early
		}
		return f.fetch(ctx, off, p, nil)
	}
	c, d := newDiskTestCache(t, dir, bs)
	if got := readAll(t, c, obj); !bytes.Equal(got, f.data) {
		t.Fatal("cold read differs")
	}
	c.Close()
	d.Close()
	fetched := f.fetches.Load()

	c, d = newDiskTestCache(t, dir, bs)
	defer d.Close()
	defer c.Close()
	honest := f.object("a")
	honest.OnDisk = true
	if got := readAll(t, c, honest); !bytes.Equal(got, f.data) {
		t.Fatal("a block with wrong checksums was served")
	}
	if st := d.Stats(); st.Corrupt == 0 {
		t.Fatalf("disk stats %+v: no block found corrupt", st)
	}
	if f.fetches.Load() == fetched {
		t.Fatal("the corrupt blocks were not fetched again")
	}
}
