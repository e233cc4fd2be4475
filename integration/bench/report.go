package main

import (
	"fmt"
	"io"
)

// report prints the figures as a table, each next to its raw counterpart.
func report(w io.Writer, results []result) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | s3mount | raw SDK | ratio | target | |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	pass, targets := 0, 0
	for _, r := range results {
		verdict := "MISS"
		if r.pass {
			verdict = "PASS"
		}
		if r.absolute == "" && r.target == 0 {
			verdict = "info" // no target: shown, never counted as met
		} else {
			targets++
			if r.pass {
				pass++
			}
		}
		if r.absolute != "" {
			fmt.Fprintf(w, "| %s | %.0f %s | | | %s | %s |\n", r.name, r.mount, r.unit, r.absolute, verdict)
			continue
		}
		target := fmt.Sprintf(">= %.2fx", r.target)
		if r.target == 0 {
			target = "(none)"
		}
		fmt.Fprintf(w, "| %s | %.0f %s | %.0f %s | %.2fx | %s | %s |\n",
			r.name, r.mount, r.unit, r.raw, r.unit, r.mount/r.raw, target, verdict)
	}
	fmt.Fprintf(w, "\n%d of %d targets met (%d rows without a target are information)\n", pass, targets, len(results)-targets)
}
