package main

import (
	"fmt"
	"io"
	"time"
)

// report prints the steps as a table, then the verdicts.
func report(w io.Writer, s *scale, rows []row, heaps [2]heap) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| step | s3mount | raw SDK (the same listing) | ratio | first / last window | requests | VmHWM | VmRSS | live heap |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rows {
		rates := ""
		if r.first > 0 {
			rates = fmt.Sprintf("%.0f / %.0f per s (%+.0f %%)", r.first, r.last, 100*(r.last/r.first-1))
		}
		fmt.Fprintf(w, "| %s | %s | %s (%s) | %.2fx | %s | %s | %d MiB | %d MiB | %.1f MiB |\n",
			r.step, r.took.Round(time.Millisecond), r.raw.Round(time.Millisecond), r.rawWhat, r.raw.Seconds()/r.took.Seconds(),
			rates, requestText(r.requests), r.hwm>>20, r.rss>>20, r.heap.live)
	}
	fmt.Fprintln(w)
	for _, r := range rows {
		if r.first == 0 {
			continue
		}
		verdict := "PASS"
		if r.last < 0.9*r.first {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "%s: rate of the last %d entries %.0f/s against %.0f/s for the first, %s (target: falls by at most 10 %%): %s\n",
			r.step, r.window, r.last, r.first, r.windowWhat, verdict)
		if r.note != "" {
			fmt.Fprintf(w, "%s: %s (information)\n", r.step, r.note)
		}
	}
	verdict := "PASS"
	if heaps[1].live > heaps[0].live+50 {
		verdict = "MISS"
	}
	fmt.Fprintf(w, "live heap: %.1f MiB at start, %.1f MiB after drop_caches 2 (target: within 50 MiB of the start): %s\n",
		heaps[0].live, heaps[1].live, verdict)
	peak := int64(0)
	for _, r := range rows {
		peak = max(peak, r.hwm)
	}
	for _, r := range rows {
		if r.heap.held <= 0 {
			continue
		}
		// The live heap is the last collection's, the count is now's.
		fmt.Fprintf(w, "%s: live heap %.0f bytes a held inode above the start (%d inodes held, %.1f MiB live)\n",
			r.step, (r.heap.live-heaps[0].live)*(1<<20)/float64(r.heap.held), r.heap.held, r.heap.live)
	}
	entries := s.l.total() + s.l.dirs()
	if len(rows) > 0 && rows[0].heap.held >= 0 && rows[0].heap.held < entries*9/10 {
		fmt.Fprintf(w, "WARNING: after find the kernel held %d inodes of %d entries: something made it forget them "+
			"(a drop_caches of other work on this machine, memory pressure), and the per-entry RSS below is of fewer nodes\n",
			rows[0].heap.held, entries)
	}
	fmt.Fprintf(w, "peak RSS %d MiB for %d keys (%d entries with the directories): %.0f bytes an entry above the %d MiB at start (target: about 1 KiB beyond --cache-size)\n",
		peak>>20, s.l.total(), entries, float64(peak-s.startRSS)/float64(entries), s.startRSS>>20)
}
