// Command benchscale is `make bench-scale` (not part of `make test`): on a
// local MinIO it starts itself, it makes --keys keys with parallel PUTs
// (one directory of a tenth of them, at most 100,000; one of a hundredth,
// at most 10,000, which is renamed; the rest in a tree of directories of
// 100 files), mounts the bucket and times, each next to the raw SDK
// doing the same listing: find over everything, ls -l of the big
// directory, stat of every file, and mv of the renamed directory. After
// each step it reports the S3 requests the mount sent (its
// --metrics-addr), its peak and current RSS, and the live Go heap the
// daemon reports in s3.status; then it makes the kernel forget every inode
// (drop_caches 2) and reports the live heap again after the daemon's next
// collection. The targets (issue 13): the live heap returns to within
// 50 MiB of where it started, and no step's rate falls by more than 10 %
// between its first and its last 100,000 entries (a tenth of them, for a
// smaller --keys). Both windows cover the same layout: find's are within
// tree/ (big/, listed first, is a flat directory and has a rate of its
// own), stat's are over a shuffled order of every key.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

type config struct {
	bin     string
	keys    int
	putConc int
	workers int
	flags   string
	keep    bool
}

func main() {
	var c config
	flag.StringVar(&c.bin, "s3mount", "", "s3mount binary (default: build it)")
	flag.IntVar(&c.keys, "keys", 1000000, "keys to create (a smoke run: 20000)")
	flag.IntVar(&c.putConc, "put-concurrency", 64, "parallel PUTs creating the keys")
	flag.IntVar(&c.workers, "stat-workers", 8, "parallel stat calls")
	flag.StringVar(&c.flags, "mount-flags", "", "extra s3mount flags, space-separated")
	flag.Parse()
	if os.Geteuid() != 0 {
		fmt.Fprintln(os.Stderr, "bench-scale: needs root (drop_caches)")
		os.Exit(1)
	}
	if err := run(context.Background(), c); err != nil {
		fmt.Fprintln(os.Stderr, "bench-scale:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c config) error {
	env, err := benchkit.Start("bench-scale", c.bin)
	if err != nil {
		return err
	}
	defer env.Close()

	s := newScale(c, env)
	if err := s.create(ctx); err != nil {
		return err
	}
	rows, heap, err := s.measure(ctx)
	if err != nil {
		return err
	}
	report(os.Stdout, s, rows, heap)
	return nil
}
