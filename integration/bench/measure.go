package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// result is one line of the report.
type result struct {
	name       string
	unit       string
	mount, raw float64 // higher is better
	target     float64 // minimum mount/raw ratio; 0: information, never counted as met
	absolute   string  // for RSS: the verdict text
	pass       bool
	// mountRuns and rawRuns are the repetitions the medians come from, in
	// the order they ran.
	mountRuns, rawRuns []float64
}

// median leaves xs as it is (its order is the order of the runs).
func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// ratio is a row comparing two series of runs by their medians.
func ratio(name, unit string, mount, raw []float64, target float64) result {
	m, r := median(mount), median(raw)
	return result{name: name, unit: unit, mount: m, raw: r, target: target, pass: target > 0 && m/r >= target,
		mountRuns: mount, rawRuns: raw}
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

func (b *bench) measureAll(ctx context.Context) ([]result, []sweep, error) {
	var out []result
	var sweeps []sweep
	if b.c.only == "disk" {
		r, err := b.measureDiskOnly(ctx)
		return r, nil, err
	}
	if b.c.only != "write" {
		r, s, err := b.measureRead(ctx)
		if err != nil {
			return nil, nil, err
		}
		out, sweeps = append(out, r...), append(sweeps, s)
	}
	if b.c.only != "read" {
		r, s, err := b.measureWrite(ctx)
		if err != nil {
			return nil, nil, err
		}
		out, sweeps = append(out, r...), append(sweeps, s...)
	}
	return out, sweeps, nil
}

// sides runs the raw and the mount side of one repetition: raw first on
// odd runs (1, 3, ...), the mount first on even ones, so that neither
// always finds MinIO's caches and the machine in the state the other
// left.
func sides(run int, raw, mount func() error) error {
	first, second := raw, mount
	if run%2 == 1 {
		first, second = mount, raw
	}
	if err := first(); err != nil {
		return err
	}
	return second()
}

func firstSide(run int) string {
	if run%2 == 1 {
		return "mount first"
	}
	return "raw first"
}

// rawConcurrencies is the raw sweep: the ratio uses the best of them, so
// that "raw" is the best the SDK does here, not s3mount's own settings.
var rawConcurrencies = []int{1, 4, 8, 16}

// sweep is the raw side of a figure at each concurrency, run by run.
type sweep struct {
	name string
	unit string
	runs map[int][]float64
}

func newSweep(name, unit string) sweep {
	return sweep{name: name, unit: unit, runs: map[int][]float64{}}
}

// best is the concurrency with the highest median and its runs.
func (s sweep) best() (int, []float64) {
	bestN := 0
	for _, n := range rawConcurrencies {
		if len(s.runs[n]) > 0 && (bestN == 0 || median(s.runs[n]) > median(s.runs[bestN])) {
			bestN = n
		}
	}
	return bestN, s.runs[bestN]
}

func (s sweep) line(run int) string {
	var parts []string
	for _, n := range rawConcurrencies {
		parts = append(parts, fmt.Sprintf("%d: %.0f", n, s.runs[n][run]))
	}
	return strings.Join(parts, ", ")
}

// parallel runs n workers while feed fills their channel, and returns the
// first error.
func parallel(n int, worker func() error, feed func()) error {
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker(); err != nil {
				errs <- err
			}
		}()
	}
	feed()
	wg.Wait()
	close(errs)
	return <-errs
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
