package writeback

// S3's multipart limits.
const (
	maxParts      = 10000
	minPartSize   = 5 << 20
	maxPartSize   = 5 << 30
	maxObjectSize = 5 << 40
	// partsPerStep parts of one size come before the size doubles, so that
	// 10,000 parts (11 steps) reach 5 TiB even from 5 MiB parts, while
	// small files keep small parts (geesefs grows its parts the same way).
	partsPerStep = 909
)

// layout cuts an object into multipart parts: the first partsPerStep parts
// are base bytes each, the next partsPerStep twice that, and so on, up to
// S3's largest part. The same layout is used for streaming, for the final
// upload and for server-side copies, so a part boundary never moves.
type layout struct {
	base int64
}

// partSize is the size of part n (numbered from 1).
func (l layout) partSize(n int) int64 {
	s := l.base << ((n - 1) / partsPerStep)
	return min(s, maxPartSize)
}

// partRange returns where part n starts and how long it is when whole.
func (l layout) partRange(n int) (off, size int64) {
	step := (n - 1) / partsPerStep
	for i := 0; i < step; i++ {
		off += partsPerStep * l.partSize(i*partsPerStep+1)
	}
	off += int64((n-1)%partsPerStep) * l.partSize(n)
	return off, l.partSize(n)
}

// partAt returns the number of the part holding byte off.
func (l layout) partAt(off int64) int {
	n := 1
	for {
		size := l.partSize(n)
		if off < partsPerStep*size || size == maxPartSize {
			return n + int(off/size)
		}
		off -= partsPerStep * size
		n += partsPerStep
	}
}

// parts returns how many parts an object of size bytes has (at least 1).
func (l layout) parts(size int64) int {
	if size == 0 {
		return 1
	}
	return l.partAt(size - 1)
}

// span returns the bytes of part n inside an object of size bytes.
func (l layout) span(n int, size int64) (off, length int64) {
	off, length = l.partRange(n)
	return off, max(0, min(length, size-off))
}
