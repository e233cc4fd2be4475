package fs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// slowReads delays every ReadRange and records how many ran at once and
// which keys were read.
type slowReads struct {
	s3io.Store
	delay                 time.Duration
	mu                    sync.Mutex
	inFlight, maxInFlight int
	reads                 map[string]int
	total                 atomic.Int64
}

func (s *slowReads) ReadRange(ctx context.Context, b, k string, off int64, p []byte, o s3io.ReadOptions) (int, error) {
	s.mu.Lock()
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	s.reads[k]++
	s.mu.Unlock()
	s.total.Add(1)
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return s.Store.ReadRange(ctx, b, k, off, p, o)
}

func (s *slowReads) snapshot() (maxInFlight int, reads map[string]int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	reads = make(map[string]int, len(s.reads))
	for k, v := range s.reads {
		reads[k] = v
	}
	return s.maxInFlight, reads
}

func readAheadFixture(t *testing.T, n int) (*slowReads, string, map[string][]byte) {
	st := memstore.New()
	st.AddBucket("b")
	want := make(map[string][]byte)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("f%03d", i)
		data := bytes.Repeat([]byte{byte(i)}, 16<<10+i)
		st.PutBytes("b", "d/"+name, data, nil)
		want[name] = data
	}
	st.PutBytes("b", "d/zz-big", make([]byte, 2<<20), nil) // over the read-ahead's size limit
	sr := &slowReads{Store: st, delay: 10 * time.Millisecond, reads: make(map[string]int)}
	return sr, mountStore(t, Config{Bucket: "b", MetadataTTL: time.Minute}, sr), want
}

func readAll(t *testing.T, dir string, names []string, want map[string][]byte) {
	t.Helper()
	for _, name := range names {
		got, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil || !bytes.Equal(got, want[name]) {
			t.Fatalf("%s: %d bytes, %v; want its %d bytes", name, len(got), err, len(want[name]))
		}
	}
}

// Files read one after another in listing order (`cat dir/*`) are fetched
// ahead, several at once, each with one GET in all; the bytes are each
// file's own.
func TestFilesReadInListingOrderAreFetchedAhead(t *testing.T) {
	sr, mnt, want := readAheadFixture(t, 40)
	dir := filepath.Join(mnt, "d")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		if e.Name() != "zz-big" {
			names = append(names, e.Name())
		}
	}
	readAll(t, dir, names, want)
	maxInFlight, reads := sr.snapshot()
	if maxInFlight < 4 {
		t.Errorf("at most %d GETs at once, want the next files fetched ahead in parallel", maxInFlight)
	}
	for _, name := range names {
		if reads["d/"+name] != 1 {
			t.Errorf("%s was read with %d GETs, want 1", name, reads["d/"+name])
		}
	}
	if reads["d/zz-big"] != 0 {
		t.Errorf("a 2 MiB file was fetched ahead (%d GETs); the limit is 1 MiB", reads["d/zz-big"])
	}
}

// `cp -r` reads a directory in inode order: that is followed too.
func TestFilesReadInInodeOrderAreFetchedAhead(t *testing.T) {
	sr, mnt, want := readAheadFixture(t, 40)
	dir := filepath.Join(mnt, "d")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	type named struct {
		name string
		ino  uint64
	}
	var files []named
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if e.Name() != "zz-big" {
			files = append(files, named{e.Name(), fi.Sys().(*syscall.Stat_t).Ino})
		}
	}
	sort.Slice(files, func(i, j int) bool { return files[i].ino < files[j].ino })
	var names []string
	for _, f := range files {
		names = append(names, f.name)
	}
	readAll(t, dir, names, want)
	if maxInFlight, _ := sr.snapshot(); maxInFlight < 4 {
		t.Errorf("at most %d GETs at once in inode order, want the next files fetched ahead", maxInFlight)
	}
}

// Opens in no order of the listing fetch nothing ahead: one GET per file
// read, never one for a file not opened.
func TestFilesReadOutOfOrderFetchNothingAhead(t *testing.T) {
	sr, mnt, want := readAheadFixture(t, 40)
	dir := filepath.Join(mnt, "d")
	if _, err := os.ReadDir(dir); err != nil {
		t.Fatal(err)
	}
	var names []string
	for i := 0; i < 40; i += 3 {
		names = append(names, fmt.Sprintf("f%03d", i))
	}
	readAll(t, dir, names, want)
	time.Sleep(50 * time.Millisecond) // let any stray fetch show
	if got := sr.total.Load(); got != int64(len(names)) {
		t.Errorf("%d GETs for %d files read out of order, want one each", got, len(names))
	}
}

// A run in order that breaks off stops fetching ahead: what was in flight
// is cancelled or let go, and nothing more is fetched.
func TestBrokenRunStopsTheReadAhead(t *testing.T) {
	sr, mnt, want := readAheadFixture(t, 40)
	dir := filepath.Join(mnt, "d")
	if _, err := os.ReadDir(dir); err != nil {
		t.Fatal(err)
	}
	readAll(t, dir, []string{"f000", "f001", "f002", "f003", "f004"}, want)
	readAll(t, dir, []string{"f030"}, want) // out of order
	time.Sleep(100 * time.Millisecond)
	before := sr.total.Load()
	readAll(t, dir, []string{"f036"}, want) // out of order again, beyond what was fetched ahead
	time.Sleep(100 * time.Millisecond)
	if got := sr.total.Load() - before; got != 1 {
		t.Errorf("%d GETs after the run broke, for one file read, want 1", got)
	}
	_, reads := sr.snapshot()
	if reads["d/f039"] != 0 {
		t.Errorf("f039, far beyond the run's window, was fetched")
	}
}
