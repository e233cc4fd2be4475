package cache

import "sync"

// budget counts the bytes of read-ahead blocks held for open readers.
// Read-ahead only ever tries to take from it: when it is spent, readers
// fetch less ahead instead of growing memory.
type budget struct {
	mu    sync.Mutex
	free  int64
	total int64
}

func newBudget(n int64) *budget { return &budget{free: n, total: n} }

func (b *budget) tryTake(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if n > b.free {
		return false
	}
	b.free -= n
	return true
}

func (b *budget) give(n int64) {
	b.mu.Lock()
	b.free += n
	b.mu.Unlock()
}

func (b *budget) inUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.total - b.free
}
