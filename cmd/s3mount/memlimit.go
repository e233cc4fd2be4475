package main

import (
	"context"
	"runtime/debug"
	"time"
)

// nodeAllowance is the memory allowed for each inode the kernel holds (a
// node, its attributes, go-fuse's entry, the inode table's), with room for
// garbage. A held inode costs about 0.73 KiB of live heap (743 bytes
// after find in make bench-scale at 300,000 keys; 698 for a file in fs's
// TestAHeldFileCostsLessThanItsBudget), down from 1.05 KiB before the node
// kept a compact nodeInfo, when this was 2 KiB. 1.25 KiB leaves the
// collector room for about 0.7 times the nodes' own live heap in garbage
// even when the cache budget in base is all live blocks: it then runs
// about 1.4 times as often as GOGC alone would make it, never without
// pause (which halved the rate of lookups at a million inodes under a
// fixed limit). With an unfilled cache the limit does not bind below about
// 1.2 million inodes and GOGC sets the peak, at twice the live heap: 1.5
// KiB an entry at 300,000 keys, where it was 2.6.
const nodeAllowance = 1280

// followNodes keeps the Go memory limit at base plus an allowance for the
// nodes the kernel holds, every few seconds, until ctx ends. A fixed limit
// near the cache budget kept the heap small for streaming reads, but once
// `find` over a million keys made the kernel hold a million inodes the
// live heap passed it and the collector ran without pause, halving the
// rate of lookups.
func followNodes(ctx context.Context, base int64, nodes func() int) {
	set := func() { debug.SetMemoryLimit(base + int64(nodes())*nodeAllowance) }
	set()
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				set()
			}
		}
	}()
}
