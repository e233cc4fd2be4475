package diskcache

import "hash/crc32"

// Sums are the checksums of a block's chunks, computed while the block's
// bytes arrive (Filled), as they come off the network and are still in
// the CPU's caches. Left to the writer, they would cost reading the whole
// block back from memory: on a cold read of 1 GiB, 230 ms of CPU instead
// of about 60. A Sums belongs to one buffer and one goroutine until it is
// handed to Store.
type Sums struct {
	data []byte
	crcs []uint32
	done int // bytes of data summed: whole chunks only
}

// NewSums returns the Sums of data, none of it summed yet.
func NewSums(data []byte) *Sums {
	return &Sums{data: data, crcs: make([]uint32, 0, chunks(int64(len(data))))}
}

// Filled tells that data[:n] holds its final bytes, and sums the chunks
// that they complete. n never shrinks from one call to the next.
func (s *Sums) Filled(n int) {
	n = min(n, len(s.data))
	for s.done+chunkSize <= n {
		s.crcs = append(s.crcs, crc32.Checksum(s.data[s.done:s.done+chunkSize], castagnoli))
		s.done += chunkSize
	}
}

// of returns the checksums of data, which must be the Sums' buffer or its
// start: those summed already and those of the chunks left.
func (s *Sums) of(data []byte) []uint32 {
	if s == nil || len(data) > len(s.data) || len(data) > 0 && &data[0] != &s.data[0] {
		return chunkSums(nil, data, 0)
	}
	done := min(s.done, len(data)/chunkSize*chunkSize)
	return chunkSums(s.crcs[:done/chunkSize], data, done)
}

// chunkSums appends to crcs the checksums of the chunks of data from
// offset from (a multiple of chunkSize) on.
func chunkSums(crcs []uint32, data []byte, from int) []uint32 {
	for off := from; off < len(data); off += chunkSize {
		crcs = append(crcs, crc32.Checksum(data[off:min(off+chunkSize, len(data))], castagnoli))
	}
	return crcs
}
