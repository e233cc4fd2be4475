package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

// readPart is the size of the raw side's ranged GETs: s3mount's
// --block-size, the size of its read-ahead requests.
const readPart = 8 << 20

func (b *bench) measureRead(ctx context.Context) ([]result, sweep, error) {
	seq := newSweep(fmt.Sprintf("sequential read %d MiB, raw ranged GETs of 8 MiB", b.c.size>>20), "MB/s")
	var seqCold, seqPage, seqBlock, rndRaw, rndMount, lsMeta, lsPlain, lsMount, lsNone []float64
	var disk diskSeries
	blockRow := os.Geteuid() == 0 // drop_caches needs root
	if !blockRow {
		fmt.Println("not root: no block-cache row (it drops the page cache between reads)")
	}
	if !b.c.noDisk {
		if err := b.diskSetup(ctx); err != nil {
			return nil, seq, err
		}
	}
	for r := 0; r < b.c.runs; r++ {
		fmt.Printf("run %d/%d (%s)\n", r+1, b.c.runs, firstSide(r))
		err := sides(r, func() error { return b.rawSweep(ctx, seq) }, func() error {
			cold, warm, err := b.mountSequential()
			seqCold, seqPage = append(seqCold, mbps(b.c.size, cold)), append(seqPage, mbps(b.c.size, warm))
			return err
		})
		if err != nil {
			return nil, seq, fmt.Errorf("sequential read: %w", err)
		}
		err = sides(r, func() error {
			d, err := b.rawRandom(ctx)
			rndRaw = append(rndRaw, float64(b.c.randomN)/d.Seconds())
			return err
		}, func() error {
			d, err := b.mountRandom()
			rndMount = append(rndMount, float64(b.c.randomN)/d.Seconds())
			return err
		})
		if err != nil {
			return nil, seq, fmt.Errorf("random reads: %w", err)
		}
		err = sides(r, func() error {
			d, err := b.rawList(ctx, true)
			if err != nil {
				return err
			}
			lsMeta = append(lsMeta, float64(b.c.keys)/d.Seconds())
			d, err = b.rawList(ctx, false)
			lsPlain = append(lsPlain, float64(b.c.keys)/d.Seconds())
			return err
		}, func() error {
			d, err := b.mountList()
			if err != nil {
				return err
			}
			lsMount = append(lsMount, float64(b.c.keys)/d.Seconds())
			d, err = b.mountList("--list-metadata", "none")
			lsNone = append(lsNone, float64(b.c.keys)/d.Seconds())
			return err
		})
		if err != nil {
			return nil, seq, fmt.Errorf("ls -l: %w", err)
		}
		fmt.Printf("  sequential MB/s: raw by concurrency %s; mount cold %.0f, again (page cache) %.0f\n",
			seq.line(r), seqCold[r], seqPage[r])
		fmt.Printf("  random 4 KiB: raw %.0f, mount %.0f reads/s; ls -l: raw metadata=true %.0f, raw plain %.0f, mount %.0f, mount --list-metadata=none %.0f keys/s\n",
			rndRaw[r], rndMount[r], lsMeta[r], lsPlain[r], lsMount[r], lsNone[r])

		if !b.c.noDisk {
			dr, err := b.measureDisk(ctx, r)
			if err != nil {
				return nil, seq, err
			}
			disk.add(b, dr)
		}
		// Last in the run: drop_caches empties MinIO's page cache too, so
		// the raw side is read again (untimed) before the next run.
		if blockRow {
			d, err := b.mountBlockCache()
			if err != nil {
				return nil, seq, fmt.Errorf("block-cache read: %w", err)
			}
			seqBlock = append(seqBlock, mbps(b.c.size, d))
			if err := b.rewarm(ctx); err != nil {
				return nil, seq, err
			}
		}
	}
	rss, limit, err := b.peakRSS()
	if err != nil {
		return nil, seq, err
	}
	bestN, bestRaw := seq.best()
	out := []result{
		ratio(fmt.Sprintf("sequential read, cold (raw: best of the sweep, %d at once)", bestN), "MB/s", seqCold, bestRaw, 0.35),
		ratio("sequential read again, same mount: the kernel page cache", "MB/s", seqPage, bestRaw, 1.5),
	}
	if blockRow {
		out = append(out, ratio(fmt.Sprintf("sequential read from s3mount's block cache (page cache dropped before it, --cache-size %dMiB)", b.blockCacheMiB()),
			"MB/s", seqBlock, bestRaw, 1.5))
	}
	out = append(out,
		ratio(fmt.Sprintf("random 4 KiB reads, %d at once", b.c.randConc), "reads/s", rndMount, rndRaw, 1.0),
		ratio(fmt.Sprintf("ls -l of %d keys (raw: ListObjectsV2 with metadata=true, as s3mount asks)", b.c.keys), "keys/s", lsMount, lsMeta, 0.5),
		ratio(fmt.Sprintf("ls -l of %d keys against the plain raw listing", b.c.keys), "keys/s", lsMount, lsPlain, 0),
		ratio(fmt.Sprintf("ls -l of %d keys, --list-metadata=none, against the plain raw listing", b.c.keys), "keys/s", lsNone, lsPlain, 0),
		result{name: fmt.Sprintf("peak RSS reading %d MiB, default flags", b.c.rssSize>>20), unit: "MiB",
			mount: float64(rss >> 20), raw: float64(limit >> 20), pass: rss <= limit,
			absolute: fmt.Sprintf("limit %d MiB", limit>>20)},
	)
	if !b.c.noDisk {
		out = append(out, disk.results(b, bestRaw, seqCold)...)
	}
	return out, seq, nil
}

// rawSweep reads the sequential object raw at each of rawConcurrencies,
// adding one run to seq.
func (b *bench) rawSweep(ctx context.Context, seq sweep) error {
	for _, n := range rawConcurrencies {
		d, err := b.rawSequential(ctx, n)
		if err != nil {
			return err
		}
		seq.runs[n] = append(seq.runs[n], mbps(b.c.size, d))
	}
	return nil
}

// rawSequential reads the object with n concurrent 8 MiB ranged GETs.
func (b *bench) rawSequential(ctx context.Context, n int) (time.Duration, error) {
	offs := make(chan int64)
	start := time.Now()
	err := parallel(n, func() error {
		for off := range offs {
			if err := b.get(ctx, "seq.bin", off, readPart); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		for off := int64(0); off < b.c.size; off += readPart {
			offs <- off
		}
		close(offs)
	})
	return time.Since(start), err
}

func (b *bench) get(ctx context.Context, key string, off, n int64) error {
	out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Range: aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))})
	if err != nil {
		return err
	}
	defer out.Body.Close()
	_, err = io.Copy(io.Discard, out.Body)
	return err
}

// mountSequential reads the object through a fresh mount, like cat, twice:
// the second read comes from the kernel's page cache.
func (b *bench) mountSequential() (cold, warm time.Duration, err error) {
	m, err := b.mount()
	if err != nil {
		return 0, 0, err
	}
	defer m.unmount()
	path := filepath.Join(m.dir, "seq.bin")
	if cold, err = readFile(path); err != nil {
		return 0, 0, err
	}
	warm, err = readFile(path)
	return cold, warm, err
}

// blockCacheMiB is the --cache-size of the block-cache row: half of the
// cache keeps blocks (the other half is for read-ahead), so twice the
// object and a margin.
func (b *bench) blockCacheMiB() int64 { return 2*(b.c.size>>20) + 256 }

// mountBlockCache reads the object through a fresh mount whose block cache
// holds all of it, drops the kernel's page cache, and times a second read,
// which the daemon must serve from its blocks. It checks in s3.status that
// (almost) no block was fetched again.
func (b *bench) mountBlockCache() (time.Duration, error) {
	m, err := b.mount("--cache-size", fmt.Sprintf("%dMiB", b.blockCacheMiB()))
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	path := filepath.Join(m.dir, "seq.bin")
	if _, err := readFile(path); err != nil {
		return 0, err
	}
	if err := dropCaches(1); err != nil {
		return 0, err
	}
	hits, misses, err := cacheCounts(m.dir)
	if err != nil {
		return 0, err
	}
	d, err := readFile(path)
	if err != nil {
		return 0, err
	}
	hits2, misses2, err := cacheCounts(m.dir)
	if err != nil {
		return 0, err
	}
	fmt.Printf("  block cache: %.0f MB/s, %d block hits, %d misses in the timed read\n", mbps(b.c.size, d), hits2-hits, misses2-misses)
	// ristretto, the block cache, may decline to keep a block (its
	// admission policy); a few fetched again are shown, more fail the row.
	if blocks := b.c.size / readPart; (misses2-misses)*20 > blocks {
		return 0, fmt.Errorf("the block-cache read fetched %d of %d blocks again: they were not kept", misses2-misses, blocks)
	}
	return d, nil
}

// rewarm reads what the next run reads, untimed, after drop_caches
// emptied MinIO's page cache.
func (b *bench) rewarm(ctx context.Context) error {
	if _, err := b.rawSequential(ctx, 8); err != nil {
		return err
	}
	if _, err := b.rawList(ctx, true); err != nil {
		return err
	}
	if !b.c.noDisk {
		if _, err := b.rawSmallRead(ctx); err != nil {
			return err
		}
	}
	return nil
}

// dropCaches writes what to /proc/sys/vm/drop_caches (1: the page cache,
// 2: dentries and inodes, 3: both).
func dropCaches(what int) error {
	syscall.Sync()
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte(strconv.Itoa(what)), 0)
}

// statusText is the mount's s3.status, as `s3mount status` prints it.
func statusText(dir string) (string, error) {
	buf := make([]byte, 64<<10)
	n, err := syscall.Getxattr(dir, "s3.status", buf)
	if err != nil {
		return "", fmt.Errorf("s3.status: %w", err)
	}
	return string(buf[:n]), nil
}

var cacheLine = regexp.MustCompile(`(\d+) hits, (\d+) misses`)

// cacheCounts reads the block cache's hits and misses from s3.status.
func cacheCounts(dir string) (hits, misses int64, err error) {
	text, err := statusText(dir)
	if err != nil {
		return 0, 0, err
	}
	m := cacheLine.FindStringSubmatch(text)
	if m == nil {
		return 0, 0, fmt.Errorf("no cache line in s3.status")
	}
	hits, _ = strconv.ParseInt(m[1], 10, 64)
	misses, _ = strconv.ParseInt(m[2], 10, 64)
	return hits, misses, nil
}

func readFile(path string) (time.Duration, error) {
	start := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	_, err = io.CopyBuffer(io.Discard, struct{ io.Reader }{f}, buf)
	return time.Since(start), err
}

func (b *bench) randomOffsets() []int64 {
	rng := rand.New(rand.NewSource(42))
	offs := make([]int64, b.c.randomN)
	for i := range offs {
		offs[i] = rng.Int63n(b.c.size/4096) * 4096
	}
	return offs
}

func (b *bench) rawRandom(ctx context.Context) (time.Duration, error) {
	return b.random(func(off int64) error { return b.get(ctx, "seq.bin", off, 4096) })
}

func (b *bench) mountRandom() (time.Duration, error) {
	m, err := b.mount()
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	f, err := os.Open(filepath.Join(m.dir, "seq.bin"))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return b.random(func(off int64) error {
		buf := make([]byte, 4096)
		_, err := f.ReadAt(buf, off)
		return err
	})
}

func (b *bench) random(read func(off int64) error) (time.Duration, error) {
	offs := make(chan int64)
	start := time.Now()
	err := parallel(b.c.randConc, func() error {
		for off := range offs {
			if err := read(off); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		for _, o := range b.randomOffsets() {
			offs <- o
		}
		close(offs)
	})
	return time.Since(start), err
}

// rawList pages through ListObjectsV2 of ls/, 1,000 keys a request, with
// metadata=true when metadata is set.
func (b *bench) rawList(ctx context.Context, metadata bool) (time.Duration, error) {
	var opts []func(*s3.Options)
	if metadata {
		opts = append(opts, benchkit.ListMetadata)
	}
	start := time.Now()
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("ls/"), Delimiter: aws.String("/")})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, opts...)
		if err != nil {
			return 0, err
		}
		n += len(page.Contents)
	}
	if n != b.c.keys {
		return 0, fmt.Errorf("raw listing found %d keys, want %d", n, b.c.keys)
	}
	return time.Since(start), nil
}

func (b *bench) mountList(flags ...string) (time.Duration, error) {
	m, err := b.mount(flags...)
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	start := time.Now()
	out, err := exec.Command("ls", "-l", filepath.Join(m.dir, "ls")).Output()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("ls -l: %w", err)
	}
	if n := strings.Count(string(out), "\n") - 1; n != b.c.keys {
		return 0, fmt.Errorf("ls -l listed %d entries, want %d", n, b.c.keys)
	}
	return d, nil
}

// peakRSS reads the RSS object through a mount with the default flags:
// what a login node with many users' mounts pays per mount (issue 13's
// target is under 300 MiB).
func (b *bench) peakRSS() (rss, limit int64, err error) {
	m, err := b.mount()
	if err != nil {
		return 0, 0, err
	}
	defer m.unmount()
	if _, err := readFile(filepath.Join(m.dir, "rss.bin")); err != nil {
		return 0, 0, err
	}
	rss, err = m.peakRSS()
	return rss, 300 << 20, err
}
