package diskcache

import (
	"sync/atomic"
	"time"
)

// Stats are counters for logs, tests and the benchmark.
type Stats struct {
	Hits, Misses, Corrupt, Writes, Dropped, Failed, Evicted int64
	BytesRead, BytesWritten                                 int64
	// Waited counts stores that waited for room in the queue: the disk
	// was slower than S3.
	Waited int64
	// Blocks and Bytes are what the index holds; IndexReady says whether
	// its rebuild at open has ended, and IndexTook how long it took.
	Blocks     int
	Bytes      int64
	IndexReady bool
	IndexTook  time.Duration
}

type counters struct {
	hits, misses, corrupt, writes, dropped, failed, evicted atomic.Int64
	bytesRead, bytesWritten, waited                         atomic.Int64
}

// Stats returns the counters so far.
func (c *Cache) Stats() Stats {
	s := Stats{
		Hits: c.stats.hits.Load(), Misses: c.stats.misses.Load(), Corrupt: c.stats.corrupt.Load(),
		Writes: c.stats.writes.Load(), Dropped: c.stats.dropped.Load(), Failed: c.stats.failed.Load(),
		Evicted: c.stats.evicted.Load(), BytesRead: c.stats.bytesRead.Load(), BytesWritten: c.stats.bytesWritten.Load(),
		Waited: c.stats.waited.Load(),
	}
	s.Blocks, s.Bytes = c.index.size()
	s.IndexReady = c.index.isReady()
	if s.IndexReady {
		c.index.mu.Lock()
		s.IndexTook = c.index.took
		c.index.mu.Unlock()
	}
	return s
}

// WaitIndex waits until the index rebuilt at open is complete.
func (c *Cache) WaitIndex() { <-c.index.ready }
