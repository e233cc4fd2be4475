package diskcache

import (
	"context"
	"hash/crc32"
	"path/filepath"
	"testing"
)

func BenchmarkCRC32C8MiB(b *testing.B) {
	data := randomBlock(1, 8<<20)
	b.SetBytes(int64(len(data)))
	for i := 0; i < b.N; i++ {
		crc32.Checksum(data, castagnoli)
	}
}

func BenchmarkLoad8MiB(b *testing.B) {
	c, err := Open(Options{Dir: filepath.Join(b.TempDir(), "c"), BlockSize: 8 << 20, MinFreeFraction: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := randomBlock(1, 8<<20)
	for i := int64(0); i < 16; i++ {
		c.Store(context.Background(), "o", i, data, nil)
	}
	c.room.Acquire(context.Background(), c.opts.QueueBytes)
	c.room.Release(c.opts.QueueBytes)
	b.SetBytes(8 << 20)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := load(c, "o", int64(i%16), 8<<20); !ok {
			b.Fatal("miss")
		}
	}
}

func BenchmarkStore8MiB(b *testing.B) {
	c, err := Open(Options{Dir: filepath.Join(b.TempDir(), "c"), BlockSize: 8 << 20, MinFreeFraction: -1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	data := randomBlock(1, 8<<20)
	b.SetBytes(8 << 20)
	for i := 0; i < b.N; i++ {
		c.Store(context.Background(), "o", int64(i), data, nil)
	}
	c.room.Acquire(context.Background(), c.opts.QueueBytes)
	c.room.Release(c.opts.QueueBytes)
}
