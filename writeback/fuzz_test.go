package writeback

import "testing"

// FuzzLayoutFindsEveryByte checks the part arithmetic at fuzzed offsets:
// partAt(off) names a part whose range holds off, within S3's limits.
func FuzzLayoutFindsEveryByte(f *testing.F) {
	f.Add(uint8(0), int64(0))
	f.Add(uint8(3), int64(8<<20))
	f.Add(uint8(0), int64(maxObjectSize-1))
	f.Add(uint8(59), int64(909*5<<20))
	f.Fuzz(func(t *testing.T, baseMiB uint8, off int64) {
		base := int64(5+int(baseMiB)%60) << 20
		if off < 0 || off >= maxObjectSize {
			return
		}
		l := layout{base: base}
		n := l.partAt(off)
		start, size := l.partRange(n)
		if off < start || off >= start+size {
			t.Fatalf("base %d: byte %d is in part %d = [%d, %d)", base, off, n, start, start+size)
		}
		if n < 1 || n > maxParts || size < minPartSize || size > maxPartSize {
			t.Fatalf("base %d: byte %d gives part %d of %d bytes", base, off, n, size)
		}
	})
}
