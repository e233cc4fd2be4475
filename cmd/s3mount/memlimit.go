package main

import (
	"context"
	"runtime/debug"
	"time"
)

// nodeAllowance is the memory allowed for each inode the kernel holds (a
// node, its attributes, go-fuse's entry: about 1.1 KiB measured by
// make bench-scale at a million), with room for garbage.
const nodeAllowance = 2 << 10

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
