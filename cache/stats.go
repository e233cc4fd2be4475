package cache

import "sync/atomic"

// Stats are counters for tests and the benchmark.
type Stats struct {
	Hits, Misses, Fetches, BytesFetched, PrefetchHits int64
	// KeptBytes is what the kept blocks cost now (their bytes and the
	// cache's bookkeeping); CapacityBytes, the most they may cost.
	KeptBytes, CapacityBytes int64
	// DiskHits are blocks (or random reads) served by the disk tier.
	DiskHits int64
	// GroupHits are blocks a Group fetched before their file was opened.
	GroupHits int64
}

type counters struct {
	hits, misses, fetches, bytesFetched, prefetchHits, diskHits, groupHits atomic.Int64
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	return Stats{
		Hits:          c.stats.hits.Load(),
		Misses:        c.stats.misses.Load(),
		Fetches:       c.stats.fetches.Load(),
		BytesFetched:  c.stats.bytesFetched.Load(),
		PrefetchHits:  c.stats.prefetchHits.Load(),
		KeptBytes:     c.keptBytes(),
		CapacityBytes: c.blocks.MaxCost(),
		DiskHits:      c.stats.diskHits.Load(),
		GroupHits:     c.stats.groupHits.Load(),
	}
}

func (c *Cache) keptBytes() int64 {
	m := c.blocks.Metrics
	if m == nil {
		return 0
	}
	return max(0, min(int64(m.CostAdded())-int64(m.CostEvicted()), c.blocks.MaxCost()))
}
