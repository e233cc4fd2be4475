package writeback

// bitmap is a set of block indexes.
type bitmap []uint64

func (b *bitmap) set(i int64) {
	w := int(i / 64)
	for len(*b) <= w {
		*b = append(*b, 0)
	}
	(*b)[w] |= 1 << (i % 64)
}

func (b bitmap) has(i int64) bool {
	w := int(i / 64)
	return w < len(b) && b[w]&(1<<(i%64)) != 0
}

// clearFrom removes every index >= i.
func (b *bitmap) clearFrom(i int64) {
	w := int(i / 64)
	if w >= len(*b) {
		return
	}
	(*b)[w] &= 1<<(i%64) - 1
	*b = (*b)[:w+1]
}

// any reports whether some index in [from, to) is set.
func (b bitmap) any(from, to int64) bool {
	for i := from; i < to; i++ {
		if b.has(i) {
			return true
		}
	}
	return false
}

// all reports whether every index in [from, to) is set.
func (b bitmap) all(from, to int64) bool {
	for i := from; i < to; i++ {
		if !b.has(i) {
			return false
		}
	}
	return true
}
