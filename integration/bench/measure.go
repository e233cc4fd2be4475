package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// result is one line of the report.
type result struct {
	name       string
	unit       string
	mount, raw float64 // higher is better
	target     float64 // minimum mount/raw ratio; 0 for an absolute check
	absolute   string  // for RSS: the verdict text
	pass       bool
}

func median(xs []float64) float64 {
	sort.Float64s(xs)
	return xs[len(xs)/2]
}

func (b *bench) measureAll(ctx context.Context) ([]result, error) {
	var out []result
	if b.c.only == "disk" {
		return b.measureDiskOnly(ctx)
	}
	if b.c.only != "write" {
		r, err := b.measureRead(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	if b.c.only != "read" {
		r, err := b.measureWrite(ctx)
		if err != nil {
			return nil, err
		}
		out = append(out, r...)
	}
	return out, nil
}

func (b *bench) measureWrite(ctx context.Context) ([]result, error) {
	if err := b.writeSetup(); err != nil {
		return nil, err
	}
	var raw, rawMD5, mnt, mntOff, smallRaw, smallMnt, tarRaw, tarMnt []float64
	var smallAsyncClose, smallAsyncS3, tarAsyncExit, tarAsyncS3 []float64
	for r := 0; r < b.c.runs; r++ {
		fmt.Printf("write run %d/%d\n", r+1, b.c.runs)
		d, err := b.rawWrite(ctx, fmt.Sprintf("w-raw%d", r), false)
		if err != nil {
			return nil, fmt.Errorf("raw write: %w", err)
		}
		raw = append(raw, mbps(b.c.writeSize, d))
		if d, err = b.rawWrite(ctx, fmt.Sprintf("w-rawmd5%d", r), true); err != nil {
			return nil, fmt.Errorf("raw write: %w", err)
		}
		rawMD5 = append(rawMD5, mbps(b.c.writeSize, d))
		if d, err = b.mountWrite(fmt.Sprintf("w-mnt%d", r)); err != nil {
			return nil, fmt.Errorf("mount write: %w", err)
		}
		mnt = append(mnt, mbps(b.c.writeSize, d))
		if d, err = b.mountWrite(fmt.Sprintf("w-mntoff%d", r), "--upload-checksum", "off"); err != nil {
			return nil, fmt.Errorf("mount write: %w", err)
		}
		mntOff = append(mntOff, mbps(b.c.writeSize, d))
		if d, err = b.rawSmallFiles(ctx, r); err != nil {
			return nil, fmt.Errorf("raw small files: %w", err)
		}
		smallRaw = append(smallRaw, float64(b.c.smallFiles)/d.Seconds())
		if d, err = b.mountSmallFiles(r); err != nil {
			return nil, fmt.Errorf("mount small files: %w", err)
		}
		smallMnt = append(smallMnt, float64(b.c.smallFiles)/d.Seconds())
		if d, err = b.rawTar(ctx, r); err != nil {
			return nil, fmt.Errorf("raw tar: %w", err)
		}
		tarRaw = append(tarRaw, float64(b.tarFiles)/d.Seconds())
		if d, err = b.mountTar(r); err != nil {
			return nil, err
		}
		tarMnt = append(tarMnt, float64(b.tarFiles)/d.Seconds())
		c, s3d, err := b.mountSmallFilesWith(fmt.Sprintf("small-async%d", r), "--async-upload")
		if err != nil {
			return nil, fmt.Errorf("mount small files, async: %w", err)
		}
		smallAsyncClose = append(smallAsyncClose, float64(b.c.smallFiles)/c.Seconds())
		smallAsyncS3 = append(smallAsyncS3, float64(b.c.smallFiles)/s3d.Seconds())
		if c, s3d, err = b.mountTarWith(fmt.Sprintf("tar-async%d", r), "--async-upload"); err != nil {
			return nil, fmt.Errorf("mount tar, async: %w", err)
		}
		tarAsyncExit = append(tarAsyncExit, float64(b.tarFiles)/c.Seconds())
		tarAsyncS3 = append(tarAsyncS3, float64(b.tarFiles)/s3d.Seconds())
		fmt.Printf("  run %d: small files %.0f/s (raw %.0f/s), async %.0f/s until close, %.0f/s until in S3; tar -x %.0f/s (raw %.0f/s), async %.0f/s until exit, %.0f/s until in S3\n",
			r+1, smallMnt[r], smallRaw[r], smallAsyncClose[r], smallAsyncS3[r], tarMnt[r], tarRaw[r], tarAsyncExit[r], tarAsyncS3[r])
	}
	rss, limit, err := b.writeRSS()
	if err != nil {
		return nil, fmt.Errorf("write RSS: %w", err)
	}
	return []result{
		ratio(fmt.Sprintf("sequential write %d MiB until close, Content-MD5 (default)", b.c.writeSize>>20), "MB/s", median(mnt), median(rawMD5), 0.7),
		ratio(fmt.Sprintf("sequential write %d MiB until close, --upload-checksum off", b.c.writeSize>>20), "MB/s", median(mntOff), median(raw), 0.7),
		ratio(fmt.Sprintf("%d files of 16 KiB, one after another", b.c.smallFiles), "files/s", median(smallMnt), median(smallRaw), 0.7),
		ratio(fmt.Sprintf("tar -x of Go's src/{net,go,os} (%d files)", b.tarFiles), "files/s", median(tarMnt), median(tarRaw), 0.8),
		ratio(fmt.Sprintf("%d files of 16 KiB, --async-upload, until close", b.c.smallFiles), "files/s", median(smallAsyncClose), median(smallRaw), 1.6),
		ratio(fmt.Sprintf("%d files of 16 KiB, --async-upload, until all in S3", b.c.smallFiles), "files/s", median(smallAsyncS3), median(smallRaw), 1.3),
		ratio(fmt.Sprintf("tar -x (%d files), --async-upload, until tar exits", b.tarFiles), "files/s", median(tarAsyncExit), median(tarRaw), 1.7),
		ratio(fmt.Sprintf("tar -x (%d files), --async-upload, until all in S3", b.tarFiles), "files/s", median(tarAsyncS3), median(tarRaw), 1.6),
		{name: fmt.Sprintf("peak RSS writing %d MiB, --max-upload-memory 256MiB", b.c.rssSize>>20), unit: "MiB",
			mount: float64(rss >> 20), raw: float64(limit >> 20), pass: rss <= limit,
			absolute: fmt.Sprintf("limit %d MiB", limit>>20)},
	}, nil
}

func (b *bench) measureRead(ctx context.Context) ([]result, error) {
	var seqRaw, seqCold, seqWarm, rndRaw, rndMount, lsRaw, lsMount []float64
	var diskCold, diskWarm, diskPage, smallRaw, smallWarm, smallCold []float64
	if !b.c.noDisk {
		if err := b.diskSetup(ctx); err != nil {
			return nil, err
		}
	}
	for r := 0; r < b.c.runs; r++ {
		fmt.Printf("run %d/%d\n", r+1, b.c.runs)
		d, err := b.rawSequential(ctx)
		if err != nil {
			return nil, err
		}
		seqRaw = append(seqRaw, mbps(b.c.size, d))
		cold, warm, err := b.mountSequential()
		if err != nil {
			return nil, err
		}
		seqCold, seqWarm = append(seqCold, mbps(b.c.size, cold)), append(seqWarm, mbps(b.c.size, warm))

		d, err = b.rawRandom(ctx)
		if err != nil {
			return nil, err
		}
		rndRaw = append(rndRaw, float64(b.c.randomN)/d.Seconds())
		if d, err = b.mountRandom(); err != nil {
			return nil, err
		}
		rndMount = append(rndMount, float64(b.c.randomN)/d.Seconds())

		if d, err = b.rawList(ctx); err != nil {
			return nil, err
		}
		lsRaw = append(lsRaw, float64(b.c.keys)/d.Seconds())
		if d, err = b.mountList(); err != nil {
			return nil, err
		}
		lsMount = append(lsMount, float64(b.c.keys)/d.Seconds())

		if b.c.noDisk {
			continue
		}
		dr, err := b.measureDisk(ctx, r)
		if err != nil {
			return nil, err
		}
		diskCold, diskWarm = append(diskCold, mbps(b.c.size, dr.cold)), append(diskWarm, mbps(b.c.size, dr.warm))
		diskPage = append(diskPage, mbps(b.c.size, dr.warmPage))
		files := float64(b.c.smallFiles)
		smallRaw = append(smallRaw, files/dr.smallRaw.Seconds())
		smallCold = append(smallCold, files/dr.smallCold.Seconds())
		smallWarm = append(smallWarm, files/dr.smallWarm.Seconds())
		fmt.Printf("  --cache-dir: %d files, %d MiB after the run\n", dr.diskFiles, dr.diskBytes>>20)
	}
	rss, limit, err := b.peakRSS()
	if err != nil {
		return nil, err
	}
	out := []result{
		ratio("sequential read, cold", "MB/s", median(seqCold), median(seqRaw), 0.35),
		ratio("sequential read, warm", "MB/s", median(seqWarm), median(seqRaw), 1.5),
		ratio(fmt.Sprintf("random 4 KiB reads, %d at once", b.c.randConc), "reads/s", median(rndMount), median(rndRaw), 0.8),
		ratio(fmt.Sprintf("ls -l of %d keys", b.c.keys), "keys/s", median(lsMount), median(lsRaw), 0.5),
		{name: fmt.Sprintf("peak RSS reading %d MiB, default flags", b.c.rssSize>>20), unit: "MiB",
			mount: float64(rss >> 20), raw: float64(limit >> 20), pass: rss <= limit,
			absolute: fmt.Sprintf("limit %d MiB", limit>>20)},
	}
	if !b.c.noDisk {
		out = append(out, diskResults(b, seqRaw, seqCold, diskCold, diskWarm, diskPage, smallRaw, smallCold, smallWarm)...)
	}
	return out, nil
}

func ratio(name, unit string, mount, raw, target float64) result {
	return result{name: name, unit: unit, mount: mount, raw: raw, target: target, pass: mount/raw >= target}
}

func mbps(n int64, d time.Duration) float64 { return float64(n) / d.Seconds() / 1e6 }

// rawSequential reads the object with 8 concurrent 8 MiB ranged GETs.
func (b *bench) rawSequential(ctx context.Context) (time.Duration, error) {
	const part = 8 << 20
	offs := make(chan int64)
	start := time.Now()
	err := parallel(8, func() error {
		for off := range offs {
			if err := b.get(ctx, "seq.bin", off, part); err != nil {
				return err
			}
		}
		return nil
	}, func() {
		for off := int64(0); off < b.c.size; off += part {
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

// mountSequential reads the object through a fresh mount, like cat, twice.
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

// rawList pages through ListObjectsV2, 1,000 keys a request.
func (b *bench) rawList(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("ls/"), Delimiter: aws.String("/")})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
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

func (b *bench) mountList() (time.Duration, error) {
	m, err := b.mount()
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
