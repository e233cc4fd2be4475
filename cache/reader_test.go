package cache

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeObject serves data and counts what was fetched.
type fakeObject struct {
	data                  []byte
	fetches               atomic.Int64
	bytes                 atomic.Int64
	delay                 time.Duration
	fail                  atomic.Bool
	mu                    sync.Mutex
	inFlight, maxInFlight int64
}

var errInjected = errors.New("injected")

func (f *fakeObject) fetch(ctx context.Context, off int64, p []byte, filled func(int)) (int, error) {
	f.mu.Lock()
	f.inFlight += int64(len(p))
	f.maxInFlight = max(f.maxInFlight, f.inFlight)
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		f.inFlight -= int64(len(p))
		f.mu.Unlock()
	}()
	f.fetches.Add(1)
	f.bytes.Add(int64(len(p)))
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if f.fail.Load() {
		return 0, errInjected
	}
	if off >= int64(len(f.data)) {
		return 0, nil
	}
	// As from a socket: in pieces that end anywhere in a chunk.
	n := 0
	for n < len(p) && off+int64(n) < int64(len(f.data)) {
		m := copy(p[n:min(n+10000, len(p))], f.data[off+int64(n):])
		n += m
		if filled != nil {
			filled(n)
		}
	}
	return n, nil
}

func newFake(size int) *fakeObject {
	data := make([]byte, size)
	rand.New(rand.NewSource(1)).Read(data)
	return &fakeObject{data: data}
}

func newTestCache(t *testing.T, cacheBytes, blockSize int64) *Cache {
	t.Helper()
	c, err := New(Options{CacheBytes: cacheBytes, BlockSize: blockSize, MaxConcurrency: 8, MaxPrefetchBlocks: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func (f *fakeObject) object(id string) Object {
	return Object{ID: id, Size: int64(len(f.data)), Fetch: f.fetch}
}

func TestSequentialReadReturnsExactBytesAndReadsAhead(t *testing.T) {
	const bs = 64 << 10
	f := newFake(20*bs + 123) // a short last block
	c := newTestCache(t, 64*bs, bs)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	var got bytes.Buffer
	buf := make([]byte, 16<<10)
	for off := int64(0); ; {
		n, err := r.ReadAt(context.Background(), buf, off)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		got.Write(buf[:n])
		off += int64(n)
	}
	if !bytes.Equal(got.Bytes(), f.data) {
		t.Fatalf("read %d bytes, differ from the object's %d", got.Len(), len(f.data))
	}
	if n := f.fetches.Load(); n != 21 {
		t.Errorf("fetched %d times, want one per block (21)", n)
	}
	if c.Stats().PrefetchHits < 15 {
		t.Errorf("only %d blocks came from read-ahead", c.Stats().PrefetchHits)
	}
}

func TestRandomReadsFetchOnlyWhatTheyNeed(t *testing.T) {
	const bs = 1 << 20
	f := newFake(64 * bs)
	c := newTestCache(t, 16*bs, bs)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	rng := rand.New(rand.NewSource(2))
	buf := make([]byte, 4096)
	for i := 0; i < 50; i++ {
		off := rng.Int63n(int64(len(f.data))/4096) * 4096
		if off < bs {
			off += 8 * bs // not the first block: that counts as a sequential start
		}
		n, err := r.ReadAt(context.Background(), buf, off)
		if err != nil || n != 4096 || !bytes.Equal(buf, f.data[off:off+4096]) {
			t.Fatalf("read at %d: n=%d err=%v, or wrong bytes", off, n, err)
		}
	}
	if got := f.bytes.Load(); got != 50*4096 {
		t.Fatalf("50 random 4 KiB reads fetched %d bytes, want %d", got, 50*4096)
	}
}

func TestReadsAtAndPastEOF(t *testing.T) {
	f := newFake(10000)
	c := newTestCache(t, 1<<20, 4096)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	buf := make([]byte, 8192)
	n, err := r.ReadAt(context.Background(), buf, 8000)
	if err != nil || n != 2000 || !bytes.Equal(buf[:n], f.data[8000:]) {
		t.Fatalf("read across EOF: n=%d err=%v", n, err)
	}
	for _, off := range []int64{10000, 20000} {
		if n, err := r.ReadAt(context.Background(), buf, off); n != 0 || err != nil {
			t.Fatalf("read at %d: n=%d err=%v, want 0, nil", off, n, err)
		}
	}
	empty := &fakeObject{}
	r0 := c.NewReader(empty.object("empty"))
	defer r0.Close()
	if n, err := r0.ReadAt(context.Background(), buf, 0); n != 0 || err != nil {
		t.Fatalf("empty object: n=%d err=%v", n, err)
	}
}

func TestConcurrentReadersOfOneBlockShareOneFetch(t *testing.T) {
	f := newFake(1 << 20)
	f.delay = 50 * time.Millisecond
	c := newTestCache(t, 8<<20, 1<<20)
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := c.NewReader(f.object("shared"))
			defer r.Close()
			buf := make([]byte, 4096)
			if _, err := r.ReadAt(context.Background(), buf, 0); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("8 readers of one block made %d fetches, want 1", n)
	}
}

func TestFetchErrorIsReturnedAndNotCached(t *testing.T) {
	f := newFake(1 << 16)
	c := newTestCache(t, 1<<20, 4096)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	f.fail.Store(true)
	buf := make([]byte, 4096)
	if _, err := r.ReadAt(context.Background(), buf, 0); !errors.Is(err, errInjected) {
		t.Fatalf("got %v, want the fetch error", err)
	}
	f.fail.Store(false)
	if n, err := r.ReadAt(context.Background(), buf, 0); err != nil || n != 4096 || !bytes.Equal(buf, f.data[:4096]) {
		t.Fatalf("after the fault: n=%d err=%v", n, err)
	}
}

func TestReadAheadStaysWithinBudget(t *testing.T) {
	const bs = 64 << 10
	f := newFake(200 * bs)
	f.delay = time.Millisecond
	c, err := New(Options{CacheBytes: 8 * bs, BlockSize: bs, MaxConcurrency: 16, MaxPrefetchBlocks: 64})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			r := c.NewReader(f.object(string(rune('a' + i))))
			defer r.Close()
			buf := make([]byte, 32<<10)
			for off := int64(0); off < int64(len(f.data)); off += int64(len(buf)) {
				if _, err := r.ReadAt(context.Background(), buf, off); err != nil {
					t.Error(err)
					return
				}
			}
		}(i)
	}
	wg.Wait()
	// Read-ahead may use half the budget; three synchronous reads add one
	// block each.
	f.mu.Lock()
	peak := f.maxInFlight
	f.mu.Unlock()
	if limit := int64(4*bs + 3*bs); peak > limit {
		t.Fatalf("up to %d bytes were being fetched at once, budget allows %d", peak, limit)
	}
}

func TestCloseCancelsReadAhead(t *testing.T) {
	f := newFake(64 << 20)
	f.delay = time.Hour // read-ahead blocks until cancelled
	c := newTestCache(t, 64<<20, 1<<20)
	r := c.NewReader(f.object("a"))
	r.mu.Lock()
	r.window = 4
	r.prefetchLocked(0)
	r.mu.Unlock()
	r.Close()
	deadline := time.Now().Add(5 * time.Second)
	for c.ahead.inUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("read-ahead still holds %d bytes after Close", c.ahead.inUse())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSeekResetsWindow(t *testing.T) {
	const bs = 64 << 10
	f := newFake(400 * bs) // a seek farther than seqSlack
	c := newTestCache(t, 64*bs, bs)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	buf := make([]byte, bs)
	for i := int64(0); i < 4; i++ {
		if _, err := r.ReadAt(context.Background(), buf, i*bs); err != nil {
			t.Fatal(err)
		}
	}
	r.mu.Lock()
	grown := r.window
	r.mu.Unlock()
	if grown < 2 {
		t.Fatalf("window %d after a sequential run, want it grown", grown)
	}
	if _, err := r.ReadAt(context.Background(), buf[:4096], 380*bs); err != nil {
		t.Fatal(err)
	}
	r.mu.Lock()
	window, pinned := r.window, len(r.pinned)
	r.mu.Unlock()
	if window != 1 || pinned != 0 {
		t.Fatalf("after a seek: window %d, %d pinned blocks; want 1 and 0", window, pinned)
	}
}

// The kernel's read-ahead requests are served concurrently and reach the
// reader out of order, a read arriving after some that follow it: within
// seqSlack (and a block behind) that is still a stream, and no block is
// fetched twice.
func TestReadsArrivingOutOfOrderFetchEachBlockOnce(t *testing.T) {
	const bs, rs = 4 << 20, 1 << 20
	f := newFake(64 << 20)
	c := newTestCache(t, 64<<20, bs)
	r := c.NewReader(f.object("a"))
	defer r.Close()
	buf := make([]byte, rs)
	// In groups of five reads, the last arrives first: 4 MiB ahead of
	// the stream, then the four before it up to 5 MiB behind.
	if _, err := r.ReadAt(context.Background(), buf, 0); err != nil {
		t.Fatal(err)
	}
	for g := int64(1); g < 64; g += 5 {
		for _, k := range []int64{4, 0, 1, 2, 3} {
			off := (g + k) * rs
			if off >= 64<<20 {
				continue
			}
			n, err := r.ReadAt(context.Background(), buf, off)
			if err != nil || n != rs || !bytes.Equal(buf, f.data[off:off+rs]) {
				t.Fatalf("read at %d: %d bytes, %v, or wrong bytes", off, n, err)
			}
		}
	}
	r.Close()
	if got := f.bytes.Load(); got != int64(len(f.data)) {
		t.Fatalf("fetched %d bytes for an object of %d", got, len(f.data))
	}
}
