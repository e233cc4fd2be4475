package writeback

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"
)

// Staging-space defaults: the staging file system keeps this fraction free
// (mountpoint-s3 keeps 5 % free for its cache), and a writer over budget
// waits this long for other files' uploads to free space.
const (
	defaultMinFreeFraction = 0.05
	budgetWait             = 2 * time.Minute
	statfsEvery            = time.Second
)

// budget bounds the disk the mount's staging files use: at most max bytes
// (0: no limit of its own), and never so much that the staging file
// system's free space drops below its floor, so that a big write fails
// with ENOSPC before it fills a disk other programs need.
type budget struct {
	dir   string
	max   int64
	floor float64 // fraction of the file system kept free

	mu    sync.Mutex
	freed *sync.Cond
	used  int64 // bytes the staging files occupy on disk, and in memory
	// mem is what memory-staged files hold (counted in used too), at
	// most memMax (see memstage.go).
	mem, memMax int64
	// Free space as of the last statfs, and used at that moment: space
	// taken since then is subtracted without asking the kernel again.
	free, usedAtStatfs, floorBytes int64
	statfsAt                       time.Time
	logged                         bool // the refusal was logged since space was last freed
}

func newBudget(dir string, max, memMax int64, floor float64) *budget {
	b := &budget{dir: dir, max: max, memMax: memMax, floor: floor}
	b.freed = sync.NewCond(&b.mu)
	return b
}

// reserve returns once n more bytes fit, waiting for other files' uploads
// to free space while some are running (busy reports that), for at most
// budgetWait; then it gives ENOSPC.
func (b *budget) reserve(ctx context.Context, n int64, busy func() bool, log func(msg string, args ...any)) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	deadline := time.Now().Add(budgetWait)
	for {
		why := b.refusalLocked(n)
		if why == "" {
			return nil
		}
		if !busy() || time.Now().After(deadline) || ctx.Err() != nil {
			if !b.logged {
				b.logged = true
				log("staging space exhausted: writes fail with ENOSPC until uploads free space", "why", why,
					"staged_bytes", b.used, "max_staging_size", b.max, "staging_dir", b.dir)
			}
			return fmt.Errorf("staging space: %s: %w", why, syscall.ENOSPC)
		}
		// Wake up now and then: an upload may end without freeing (a
		// failed one), and then nothing broadcasts.
		t := time.AfterFunc(100*time.Millisecond, b.freed.Broadcast)
		b.freed.Wait()
		t.Stop()
	}
}

// refusalLocked says why n more bytes do not fit, or "".
func (b *budget) refusalLocked(n int64) string {
	if b.max > 0 && b.used+n > b.max {
		return fmt.Sprintf("--max-staging-size %d reached", b.max)
	}
	if b.floor <= 0 {
		return ""
	}
	if time.Since(b.statfsAt) > statfsEvery || b.free-(b.used-b.usedAtStatfs)-n < b.floorBytes+64<<20 {
		var st syscall.Statfs_t
		if err := syscall.Statfs(b.dir, &st); err != nil {
			return "" // cannot tell; the write itself will say
		}
		b.free = int64(st.Bavail) * st.Bsize
		b.floorBytes = int64(float64(int64(st.Blocks)*st.Bsize) * b.floor)
		b.usedAtStatfs, b.statfsAt = b.used, time.Now()
	}
	if b.free-(b.used-b.usedAtStatfs)-n < b.floorBytes {
		return fmt.Sprintf("the staging file system would have less than %.0f%% free", 100*b.floor)
	}
	return ""
}

// adjust records that the staging files now occupy delta more bytes.
func (b *budget) adjust(delta int64) {
	if delta == 0 {
		return
	}
	b.mu.Lock()
	b.used += delta
	if delta < 0 {
		b.logged = false
		b.freed.Broadcast()
	}
	b.mu.Unlock()
}

// reserve waits until n more staged bytes fit in the mount's budget.
func (m *Manager) reserve(ctx context.Context, n int64) error {
	if n <= 0 {
		return nil
	}
	return m.budget.reserve(ctx, n, func() bool { return len(m.slots) > 0 }, m.log.Warn)
}

// newBytesLocked is how many bytes of [off, end) fall in blocks not yet
// in the staging file: rewriting staged bytes takes no new space.
func (f *File) newBytesLocked(off, end int64) int64 {
	bs := f.blockSize()
	var n int64
	for i := off / bs; i*bs < end; i++ {
		if !f.present.has(i) {
			n += min(end, (i+1)*bs) - max(off, i*bs)
		}
	}
	return n
}

// measureLocked counts the staging file's disk use in the budget.
func (f *File) measureLocked() {
	if f.mem != nil {
		return // counted as it grows (growMemLocked)
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.staging.Fd()), &st); err != nil {
		return
	}
	used := st.Blocks * 512
	f.m.budget.adjust(used - f.diskUsed)
	f.diskUsed = used
}

// unmeasure takes the staging file out of the budget.
func (f *File) unmeasure() {
	if f.mem != nil {
		f.m.budget.adjustMem(-f.diskUsed)
	} else {
		f.m.budget.adjust(-f.diskUsed)
	}
	f.diskUsed = 0
}
