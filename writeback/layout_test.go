package writeback

import "testing"

func TestLayoutReachesFiveTiBInTenThousandParts(t *testing.T) {
	for _, base := range []int64{5 << 20, 8 << 20, 64 << 20} {
		l := layout{base: base}
		if n := l.parts(maxObjectSize); n > maxParts {
			t.Errorf("base %d: 5 TiB needs %d parts", base, n)
		}
		// Parts tile the object: each starts where the one before ends,
		// partAt agrees with partRange, and no part is too small or big.
		var next int64
		for n := 1; n <= l.parts(maxObjectSize); n++ {
			off, size := l.partRange(n)
			if off != next {
				t.Fatalf("base %d: part %d starts at %d, want %d", base, n, off, next)
			}
			if size < minPartSize || size > maxPartSize {
				t.Fatalf("base %d: part %d has %d bytes", base, n, size)
			}
			if l.partAt(off) != n || l.partAt(off+size-1) != n {
				t.Fatalf("base %d: partAt disagrees with partRange at part %d", base, n)
			}
			next = off + size
		}
		if next < maxObjectSize {
			t.Fatalf("base %d: parts end at %d, short of 5 TiB", base, next)
		}
	}
}

func TestLayoutOfSmallObjects(t *testing.T) {
	l := layout{base: 8 << 20}
	cases := []struct {
		size  int64
		parts int
	}{{0, 1}, {1, 1}, {8 << 20, 1}, {8<<20 + 1, 2}, {909 * 8 << 20, 909}, {909*8<<20 + 1, 910}}
	for _, c := range cases {
		if got := l.parts(c.size); got != c.parts {
			t.Errorf("parts(%d) = %d, want %d", c.size, got, c.parts)
		}
	}
	if off, size := l.span(2, 10<<20); off != 8<<20 || size != 2<<20 {
		t.Errorf("span of the last part: %d+%d", off, size)
	}
	if _, size := l.partRange(910); size != 16<<20 {
		t.Errorf("part 910 has %d bytes, want twice the base", size)
	}
}
