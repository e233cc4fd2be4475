package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// The disk-cache figures: a fresh mount (nothing in memory) over a warm
// --cache-dir, for the big object and for many small ones, against the raw
// SDK; and the cold read with an empty --cache-dir against the cold read
// without one, since writing the blocks to disk must cost little.

const smallReadSize = 16 << 10

// diskSetup puts the small objects read by the disk-cache figures.
func (b *bench) diskSetup(ctx context.Context) error {
	fmt.Printf("setup: %d objects of 16 KiB under small/\n", b.c.smallFiles)
	keys := make(chan int)
	body := bytes.Repeat([]byte("s3mount "), smallReadSize/8)
	return parallel(16, func() error {
		for i := range keys {
			_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
				Key: aws.String(fmt.Sprintf("small/f%05d", i)), Body: bytes.NewReader(body)})
			if err != nil {
				return fmt.Errorf("put small objects: %w", err)
			}
		}
		return nil
	}, func() {
		for i := 0; i < b.c.smallFiles; i++ {
			keys <- i
		}
		close(keys)
	})
}

// diskRun is one run of the disk-cache figures.
type diskRun struct {
	cold, warm           time.Duration // the big object, with a new --cache-dir, then a fresh mount over it
	warmPage             time.Duration // and another, the blocks now in the page cache
	smallRaw, smallWarm  time.Duration // the small objects: raw SDK, fresh mount over a warm cache
	smallCold            time.Duration
	smallPlain           time.Duration // and a fresh mount without --cache-dir
	diskBytes, diskFiles int64
}

func (b *bench) measureDisk(ctx context.Context, run int) (diskRun, error) {
	var r diskRun
	dir := filepath.Join(b.work, fmt.Sprintf("cache-dir-%d", run))
	defer os.RemoveAll(dir)
	flags := []string{"--cache-dir", dir}
	var err error
	if r.cold, err = b.mountReadBig(flags); err != nil {
		return r, fmt.Errorf("cold read with --cache-dir: %w", err)
	}
	// The blocks were written with O_DIRECT: the first read back comes
	// from the device, the next from the page cache.
	if r.warm, err = b.mountReadBig(flags); err != nil {
		return r, fmt.Errorf("warm --cache-dir read: %w", err)
	}
	if r.warmPage, err = b.mountReadBig(flags); err != nil {
		return r, fmt.Errorf("warm --cache-dir read: %w", err)
	}
	if r.smallRaw, err = b.rawSmallRead(ctx); err != nil {
		return r, fmt.Errorf("raw small reads: %w", err)
	}
	if r.smallPlain, err = b.mountSmallRead(nil); err != nil {
		return r, fmt.Errorf("small reads: %w", err)
	}
	if r.smallCold, err = b.mountSmallRead(flags); err != nil {
		return r, fmt.Errorf("small reads into --cache-dir: %w", err)
	}
	if r.smallWarm, err = b.mountSmallRead(flags); err != nil {
		return r, fmt.Errorf("small reads from --cache-dir: %w", err)
	}
	filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
		if err == nil && info.Mode().IsRegular() {
			r.diskBytes += info.Size()
			r.diskFiles++
		}
		return nil
	})
	return r, nil
}

// mountReadBig reads the big object through a fresh mount with flags.
func (b *bench) mountReadBig(flags []string) (time.Duration, error) {
	m, err := b.mount(flags...)
	if err != nil {
		return 0, err
	}
	defer m.unmount() // waits for the daemon, which writes what is queued
	return readFile(filepath.Join(m.dir, "seq.bin"))
}

// rawSmallRead lists small/ and GETs each object, one after another.
func (b *bench) rawSmallRead(ctx context.Context) (time.Duration, error) {
	start := time.Now()
	p := s3.NewListObjectsV2Paginator(b.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("small/")})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return 0, err
		}
		for _, o := range page.Contents {
			out, err := b.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				return 0, err
			}
			_, err = io.Copy(io.Discard, out.Body)
			out.Body.Close()
			if err != nil {
				return 0, err
			}
			n++
		}
	}
	if n != b.c.smallFiles {
		return 0, fmt.Errorf("raw listing found %d small objects, want %d", n, b.c.smallFiles)
	}
	return time.Since(start), nil
}

// mountSmallRead lists small/ through a fresh mount and reads each file,
// one after another, as a job reading its inputs does.
func (b *bench) mountSmallRead(flags []string) (time.Duration, error) {
	m, err := b.mount(flags...)
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	start := time.Now()
	dir := filepath.Join(m.dir, "small")
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	if len(entries) != b.c.smallFiles {
		return 0, fmt.Errorf("listed %d small files, want %d", len(entries), b.c.smallFiles)
	}
	buf := make([]byte, 64<<10)
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			return 0, err
		}
		n, err := io.ReadFull(f, buf)
		f.Close()
		if err != io.ErrUnexpectedEOF || n != smallReadSize {
			return 0, fmt.Errorf("read %s: %d bytes, %v", e.Name(), n, err)
		}
	}
	return time.Since(start), nil
}

// measureDiskOnly is --only disk: the raw and cold figures the disk rows
// compare with, and the disk rows.
func (b *bench) measureDiskOnly(ctx context.Context) ([]result, error) {
	if err := b.diskSetup(ctx); err != nil {
		return nil, err
	}
	seq := newSweep("sequential read", "MB/s")
	var seqCold []float64
	var disk diskSeries
	for r := 0; r < b.c.runs; r++ {
		fmt.Printf("run %d/%d (%s)\n", r+1, b.c.runs, firstSide(r))
		err := sides(r, func() error { return b.rawSweep(ctx, seq) }, func() error {
			d, err := b.mountReadBig(nil)
			seqCold = append(seqCold, mbps(b.c.size, d))
			return err
		})
		if err != nil {
			return nil, err
		}
		dr, err := b.measureDisk(ctx, r)
		if err != nil {
			return nil, err
		}
		disk.add(b, dr)
		fmt.Printf("  raw by concurrency %s; cold %.0f MB/s\n", seq.line(r), seqCold[r])
	}
	_, bestRaw := seq.best()
	return disk.results(b, bestRaw, seqCold), nil
}

// diskSeries are the disk-cache figures of every run.
type diskSeries struct {
	cold, warm, page                           []float64 // MB/s
	smallRaw, smallPlain, smallCold, smallWarm []float64 // files/s
}

// add records one run's figures and prints them.
func (s *diskSeries) add(b *bench, dr diskRun) {
	s.cold = append(s.cold, mbps(b.c.size, dr.cold))
	s.warm = append(s.warm, mbps(b.c.size, dr.warm))
	s.page = append(s.page, mbps(b.c.size, dr.warmPage))
	files := float64(b.c.smallFiles)
	s.smallRaw = append(s.smallRaw, files/dr.smallRaw.Seconds())
	s.smallPlain = append(s.smallPlain, files/dr.smallPlain.Seconds())
	s.smallCold = append(s.smallCold, files/dr.smallCold.Seconds())
	s.smallWarm = append(s.smallWarm, files/dr.smallWarm.Seconds())
	r := len(s.cold) - 1
	fmt.Printf("  --cache-dir: cold %.0f, warm %.0f, again %.0f MB/s; small files: raw %.0f, mount %.0f, into --cache-dir %.0f, warm --cache-dir %.0f files/s; %d files, %d MiB after the run\n",
		s.cold[r], s.warm[r], s.page[r], s.smallRaw[r], s.smallPlain[r], s.smallCold[r], s.smallWarm[r], dr.diskFiles, dr.diskBytes>>20)
}

// results are the disk-cache rows, against the best raw sequential read
// and the cold read without a cache.
func (s *diskSeries) results(b *bench, seqRaw, seqCold []float64) []result {
	return []result{
		ratio(fmt.Sprintf("%d files of 16 KiB, ls then read one after another (cat dir/*), fresh mount, no --cache-dir", b.c.smallFiles), "files/s", s.smallPlain, s.smallRaw, 1.5),
		ratio(fmt.Sprintf("sequential read %d MiB, fresh mount, warm --cache-dir (first read back: from the device)", b.c.size>>20), "MB/s", s.warm, seqRaw, 1.5),
		ratio(fmt.Sprintf("sequential read %d MiB, fresh mount, warm --cache-dir (read back again: page cache)", b.c.size>>20), "MB/s", s.page, seqRaw, 1.5),
		ratio(fmt.Sprintf("%d files of 16 KiB, ls then read one after another, fresh mount, warm --cache-dir", b.c.smallFiles), "files/s", s.smallWarm, s.smallRaw, 1.5),
		ratio(fmt.Sprintf("%d files of 16 KiB, the same into an empty --cache-dir", b.c.smallFiles), "files/s", s.smallCold, s.smallRaw, 0),
		ratio("sequential read, cold, empty --cache-dir, against cold without (raw column)", "MB/s", s.cold, seqCold, 0.9),
	}
}
