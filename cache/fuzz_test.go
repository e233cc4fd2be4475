package cache

import (
	"bytes"
	"context"
	"encoding/binary"
	"testing"
)

// FuzzReadAtMatchesTheObject drives a Reader with reads at fuzzed offsets
// and lengths (sequential runs, seeks, reads past EOF) over objects of
// fuzzed sizes and block sizes, and checks every byte: the block and range
// arithmetic.
func FuzzReadAtMatchesTheObject(f *testing.F) {
	f.Add(uint16(1000), uint8(3), []byte{0, 0, 0, 10, 0, 0, 0, 10})
	f.Add(uint16(4096), uint8(0), []byte{255, 255, 1, 1, 0, 0, 0, 0, 0, 1, 0, 0})
	f.Add(uint16(0), uint8(1), []byte{0, 1, 0, 1})
	f.Add(uint16(65535), uint8(7), []byte{0x7f, 0xff, 0x10, 0x00, 0x80, 0x00, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, size uint16, bsShift uint8, ops []byte) {
		data := make([]byte, size)
		for i := range data {
			data[i] = byte(i*7 + i>>8)
		}
		bs := int64(512) << (bsShift % 6)
		c, err := New(Options{CacheBytes: 8 * bs, BlockSize: bs, MaxConcurrency: 4, MaxPrefetchBlocks: 4})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		r := c.NewReader(Object{ID: "fuzz", Size: int64(size), Fetch: func(ctx context.Context, off int64, p []byte, _ func(int)) (int, error) {
			if off >= int64(len(data)) {
				return 0, nil
			}
			return copy(p, data[off:]), nil
		}})
		defer r.Close()
		for len(ops) >= 4 {
			off := int64(binary.BigEndian.Uint16(ops))
			n := int(binary.BigEndian.Uint16(ops[2:])) % 9000
			ops = ops[4:]
			p := make([]byte, n)
			got, err := r.ReadAt(context.Background(), p, off)
			if err != nil {
				t.Fatalf("read %d at %d: %v", n, off, err)
			}
			var want []byte
			if off < int64(len(data)) {
				want = data[off:min(off+int64(n), int64(len(data)))]
			}
			if !bytes.Equal(p[:got], want) {
				t.Fatalf("read %d at %d of %d bytes (block %d): got %d bytes, want %d", n, off, size, bs, got, len(want))
			}
		}
	})
}
