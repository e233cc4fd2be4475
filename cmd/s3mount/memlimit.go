package main

import (
	"context"
	"runtime/debug"
	"time"
)

// nodeAllowance is the memory allowed for each inode the kernel holds (a
// node, its attributes, go-fuse's entry, the inode table's), with room for
// garbage. A held inode costs about 0.6 KiB of live heap: 592 bytes for a
// file in fs's TestAHeldFileCostsLessThanItsBudget since the node keeps
// its write state apart, a packed ETag and one inode-table entry (698
// before; 1.05 KiB before the compact nodeInfo, when this was 2 KiB).
// 960 bytes leaves the collector room for about 0.6 times the nodes' own
// live heap in garbage even when the cache budget in base is all live
// blocks: it then runs about 1.6 times as often as GOGC alone would make
// it, never without pause (which halved the rate of lookups at a million
// inodes under a fixed limit), and a million held inodes stay near the
// issue's 1 KiB each beyond the cache.
const nodeAllowance = 960

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
