// Command bench is `make bench`: it measures s3mount against the raw SDK on
// the same local MinIO in the same run and prints each figure next to its
// raw counterpart, with the ratio and the target. Machines here are shared
// and noisy, so every figure is the median of several runs, which side goes
// first alternating from run to run, and every run is printed too. The raw
// side of the sequential figures is swept over concurrency (1, 4, 8, 16)
// and the ratio uses the best of the sweep.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

type config struct {
	bin      string
	size     int64
	rssSize  int64
	keys     int
	runs     int
	randomN  int
	randConc int

	only       string // "read", "write", "disk" (the --cache-dir rows of read) or "" for read and write
	noDisk     bool   // leave out the --cache-dir rows (a binary without the flag)
	writeSize  int64
	smallFiles int
}

func main() {
	var c config
	quick := flag.Bool("quick", false, "small sizes, one run: a smoke test")
	flag.StringVar(&c.bin, "s3mount", "", "s3mount binary (default: build it)")
	flag.Int64Var(&c.size, "size", 1<<30, "size of the sequential-read object")
	flag.Int64Var(&c.rssSize, "rss-size", 4<<30, "size of the object read for peak RSS")
	flag.IntVar(&c.keys, "keys", 10000, "keys in the listed directory")
	flag.IntVar(&c.runs, "runs", 3, "runs per figure (the median is reported)")
	flag.IntVar(&c.randomN, "random-reads", 2000, "random 4 KiB reads per run")
	flag.IntVar(&c.randConc, "random-concurrency", 4, "concurrent random readers")
	flag.StringVar(&c.only, "only", "", "run only the read, the write or the disk (--cache-dir, part of read) figures")
	flag.Int64Var(&c.writeSize, "write-size", 1<<30, "size of the sequentially written file")
	flag.IntVar(&c.smallFiles, "small-files", 1000, "16 KiB files written one after another, and read from small/")
	flag.BoolVar(&c.noDisk, "no-disk", false, "leave out the --cache-dir figures (to measure a binary that lacks the flag)")
	flag.Parse()
	if *quick {
		c.size, c.rssSize, c.keys, c.runs, c.randomN = 64<<20, 256<<20, 1000, 1, 200
		c.writeSize, c.smallFiles = 64<<20, 100
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	env, err := benchkit.Start("bench", c.bin)
	if err != nil {
		return err
	}
	defer env.Close()

	b := newBench(c, env)
	if err := b.setup(ctx); err != nil {
		return err
	}
	results, sweeps, err := b.measureAll(ctx)
	if err != nil {
		return err
	}
	report(os.Stdout, results, sweeps)
	return nil
}
