package main

import (
	"fmt"
	"io"
	"strings"
)

// report prints the figures as a table, each next to its raw counterpart
// and the runs its medians come from, then the raw sweeps.
func report(w io.Writer, results []result, sweeps []sweep) {
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | s3mount | raw SDK | ratio | target | | runs: s3mount / raw |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
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
			fmt.Fprintf(w, "| %s | %.0f %s | | | %s | %s | |\n", r.name, r.mount, r.unit, r.absolute, verdict)
			continue
		}
		target := fmt.Sprintf(">= %.2fx", r.target)
		if r.target == 0 {
			target = "(none)"
		}
		fmt.Fprintf(w, "| %s | %.0f %s | %.0f %s | %.2fx | %s | %s | %s / %s |\n",
			r.name, r.mount, r.unit, r.raw, r.unit, r.mount/r.raw, target, verdict, runs(r.mountRuns), runs(r.rawRuns))
	}
	fmt.Fprintf(w, "\n%d of %d targets met (%d rows without a target are information)\n", pass, targets, len(results)-targets)
	for _, s := range sweeps {
		fmt.Fprintf(w, "\nraw sweep: %s (%s; median and runs)\n", s.name, s.unit)
		best, _ := s.best()
		for _, n := range rawConcurrencies {
			mark := ""
			if n == best {
				mark = "  <- best, used for the ratio"
			}
			fmt.Fprintf(w, "  %2d at once: %6.0f  (%s)%s\n", n, median(s.runs[n]), runs(s.runs[n]), mark)
		}
	}
}

func runs(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(parts, ", ")
}
