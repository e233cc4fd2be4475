package diskcache

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"
)

// sumsAsArriving sums data the way a fetch does: in pieces that end
// anywhere in a chunk.
func sumsAsArriving(data []byte, piece int) *Sums {
	s := NewSums(data)
	for n := piece; n < len(data)+piece; n += piece {
		s.Filled(min(n, len(data)))
	}
	return s
}

func TestBlocksStoredWithSumsReadBackExact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	c := openTest(t, dir, Options{})
	full := randomBlock(1, 256<<10)
	short := randomBlock(2, 3*chunkSize+1000)
	partly := randomBlock(3, 256<<10)
	s := NewSums(partly)
	s.Filled(chunkSize + 10) // the fetch reported only its first chunk
	c.Store(context.Background(), "obj", 0, full, sumsAsArriving(full, 10000))
	c.Store(context.Background(), "obj", 1, short, sumsAsArriving(short, 70000))
	c.Store(context.Background(), "obj", 2, partly, s)
	c.Store(context.Background(), "obj", 3, full, NewSums(full)) // nothing reported
	flush(t, c)
	for idx, want := range [][]byte{full, short, partly, full} {
		got, ok := load(c, "obj", int64(idx), int64(len(want)))
		if !ok || !bytes.Equal(got, want) {
			t.Fatalf("block %d: ok %v, or bytes differ", idx, ok)
		}
	}
	if got := c.Stats().Corrupt; got != 0 {
		t.Fatalf("%d blocks corrupt, want 0", got)
	}
}

func TestSumsOfOtherBytesAreNotTrusted(t *testing.T) {
	c := openTest(t, filepath.Join(t.TempDir(), "cache"), Options{})
	data := randomBlock(1, 256<<10)
	other := sumsAsArriving(randomBlock(2, 256<<10), 4096) // of another buffer
	c.Store(context.Background(), "obj", 0, data, other)
	flush(t, c)
	if got, ok := load(c, "obj", 0, int64(len(data))); !ok || !bytes.Equal(got, data) {
		t.Fatal("a block given another buffer's sums is not read back")
	}
}

// A sum that does not match the bytes (they changed after they were
// summed) makes the block corrupt: it is never served, and is removed.
func TestAWrongSumIsCorruptionAndNeverServed(t *testing.T) {
	c := openTest(t, filepath.Join(t.TempDir(), "cache"), Options{})
	data := randomBlock(1, 256<<10)
	s := sumsAsArriving(data, chunkSize)
	data[2*chunkSize+5] ^= 1
	c.Store(context.Background(), "obj", 0, data, s)
	flush(t, c)
	p := make([]byte, chunkSize)
	if loadAt(c, "obj", 0, int64(len(data)), p, 2*chunkSize) {
		t.Fatal("the chunk whose sum is wrong was served")
	}
	if got := c.Stats().Corrupt; got != 1 {
		t.Fatalf("%d blocks corrupt, want 1", got)
	}
	if c.Has("obj", 0) {
		t.Fatal("the corrupt block is still there")
	}
	if _, ok := load(c, "obj", 0, int64(len(data))); ok {
		t.Fatal("the corrupt block was served")
	}
}
