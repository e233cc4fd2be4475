package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// writeSetup makes the local source of the write figures: a file of random
// bytes and a tarball of part of Go's source tree.
func (b *bench) writeSetup() error {
	b.writeSrc = filepath.Join(b.work, "write-src.bin")
	f, err := os.Create(b.writeSrc)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, io.LimitReader(rand.New(rand.NewSource(7)), b.c.writeSize)); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	b.tarball = filepath.Join(b.work, "gosrc.tar")
	src := filepath.Join(runtime.GOROOT(), "src")
	out, err := exec.Command("tar", "-cf", b.tarball, "-C", src, "net", "go", "os").CombinedOutput()
	if err != nil {
		return fmt.Errorf("tar of Go's source: %v: %s", err, out)
	}
	b.tarFiles = 0
	for _, dir := range []string{"net", "go", "os"} {
		filepath.WalkDir(filepath.Join(src, dir), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() {
				b.tarFiles++
			}
			return nil
		})
	}
	fmt.Printf("setup: %d MiB to write, %d files in the tarball\n", b.c.writeSize>>20, b.tarFiles)
	return nil
}

func (b *bench) measureWrite(ctx context.Context) ([]result, []sweep, error) {
	if err := b.writeSetup(); err != nil {
		return nil, nil, err
	}
	size := fmt.Sprintf("%d MiB", b.c.writeSize>>20)
	rawMD5 := newSweep("sequential write "+size+", raw multipart of 8 MiB parts, Content-MD5 and UNSIGNED-PAYLOAD", "MB/s")
	raw := newSweep("sequential write "+size+", raw multipart of 8 MiB parts, SHA-256 payload signing", "MB/s")
	var mnt, mntOff, smallRaw, smallMnt, tarRaw, tarMnt []float64
	var smallAsyncClose, smallAsyncS3, tarAsyncExit, tarAsyncS3 []float64
	for r := 0; r < b.c.runs; r++ {
		fmt.Printf("write run %d/%d (%s)\n", r+1, b.c.runs, firstSide(r))
		err := sides(r, func() error {
			for _, n := range rawConcurrencies {
				d, err := b.rawWrite(ctx, fmt.Sprintf("w-rawmd5-%d-%d", r, n), true, n)
				if err != nil {
					return err
				}
				rawMD5.runs[n] = append(rawMD5.runs[n], mbps(b.c.writeSize, d))
				if d, err = b.rawWrite(ctx, fmt.Sprintf("w-raw-%d-%d", r, n), false, n); err != nil {
					return err
				}
				raw.runs[n] = append(raw.runs[n], mbps(b.c.writeSize, d))
			}
			return nil
		}, func() error {
			d, err := b.mountWrite(fmt.Sprintf("w-mnt%d", r))
			if err != nil {
				return err
			}
			mnt = append(mnt, mbps(b.c.writeSize, d))
			d, err = b.mountWrite(fmt.Sprintf("w-mntoff%d", r), "--upload-checksum", "off")
			mntOff = append(mntOff, mbps(b.c.writeSize, d))
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("sequential write: %w", err)
		}
		err = sides(r, func() error {
			d, err := b.rawSmallFiles(ctx, r)
			smallRaw = append(smallRaw, float64(b.c.smallFiles)/d.Seconds())
			return err
		}, func() error {
			d, err := b.mountSmallFiles(r)
			smallMnt = append(smallMnt, float64(b.c.smallFiles)/d.Seconds())
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("small files: %w", err)
		}
		err = sides(r, func() error {
			d, err := b.rawTar(ctx, r)
			tarRaw = append(tarRaw, float64(b.tarFiles)/d.Seconds())
			return err
		}, func() error {
			d, err := b.mountTar(r)
			tarMnt = append(tarMnt, float64(b.tarFiles)/d.Seconds())
			return err
		})
		if err != nil {
			return nil, nil, fmt.Errorf("tar: %w", err)
		}
		c, s3d, err := b.mountSmallFilesWith(fmt.Sprintf("small-async%d", r), "--async-upload")
		if err != nil {
			return nil, nil, fmt.Errorf("mount small files, async: %w", err)
		}
		smallAsyncClose = append(smallAsyncClose, float64(b.c.smallFiles)/c.Seconds())
		smallAsyncS3 = append(smallAsyncS3, float64(b.c.smallFiles)/s3d.Seconds())
		if c, s3d, err = b.mountTarWith(fmt.Sprintf("tar-async%d", r), "--async-upload"); err != nil {
			return nil, nil, fmt.Errorf("mount tar, async: %w", err)
		}
		tarAsyncExit = append(tarAsyncExit, float64(b.tarFiles)/c.Seconds())
		tarAsyncS3 = append(tarAsyncS3, float64(b.tarFiles)/s3d.Seconds())
		fmt.Printf("  sequential write MB/s: raw MD5 by concurrency %s; raw SHA-256 %s; mount %.0f, --upload-checksum off %.0f\n",
			rawMD5.line(r), raw.line(r), mnt[r], mntOff[r])
		fmt.Printf("  small files %.0f/s (raw %.0f/s), async %.0f/s until close, %.0f/s until in S3; tar -x %.0f/s (raw %.0f/s), async %.0f/s until exit, %.0f/s until in S3\n",
			smallMnt[r], smallRaw[r], smallAsyncClose[r], smallAsyncS3[r], tarMnt[r], tarRaw[r], tarAsyncExit[r], tarAsyncS3[r])
	}
	rss, limit, err := b.writeRSS()
	if err != nil {
		return nil, nil, fmt.Errorf("write RSS: %w", err)
	}
	md5N, md5Best := rawMD5.best()
	plainN, plainBest := raw.best()
	return []result{
		ratio(fmt.Sprintf("sequential write %s until close, Content-MD5 (default; raw: the same signing, best of the sweep, %d at once)", size, md5N), "MB/s", mnt, md5Best, 0.7),
		ratio(fmt.Sprintf("sequential write %s until close, --upload-checksum off (raw: best of the sweep, %d at once)", size, plainN), "MB/s", mntOff, plainBest, 0.7),
		ratio(fmt.Sprintf("%d files of 16 KiB, one after another, until each is in S3 (durable close)", b.c.smallFiles), "files/s", smallMnt, smallRaw, 0.85),
		ratio(fmt.Sprintf("tar -x of Go's src/{net,go,os} (%d files)", b.tarFiles), "files/s", tarMnt, tarRaw, 0.8),
		ratio(fmt.Sprintf("%d files of 16 KiB, --async-upload, until close", b.c.smallFiles), "files/s", smallAsyncClose, smallRaw, 1.6),
		ratio(fmt.Sprintf("%d files of 16 KiB, --async-upload, until all in S3", b.c.smallFiles), "files/s", smallAsyncS3, smallRaw, 1.3),
		ratio(fmt.Sprintf("tar -x (%d files), --async-upload, until tar exits", b.tarFiles), "files/s", tarAsyncExit, tarRaw, 1.7),
		ratio(fmt.Sprintf("tar -x (%d files), --async-upload, until all in S3", b.tarFiles), "files/s", tarAsyncS3, tarRaw, 1.6),
		{name: fmt.Sprintf("peak RSS writing %d MiB, --max-upload-memory 256MiB (staged on disk at the highest RSS sample: %d MiB of %d MiB written)",
			b.c.rssSize>>20, rss.staged>>20, rss.written>>20), unit: "MiB",
			mount: float64(rss.peak >> 20), raw: float64(limit >> 20), pass: rss.peak <= limit,
			absolute: fmt.Sprintf("limit %d MiB", limit>>20)},
	}, []sweep{rawMD5, raw}, nil
}

// rawWrite uploads the source file as a multipart upload of 8 MiB parts
// (s3mount's --part-size), n at once. With md5 each part carries
// Content-MD5 and is sent as UNSIGNED-PAYLOAD, as s3mount sends it (one
// hash, not two); without, the SDK signs the SHA-256 of each part, as it
// does for s3mount with --upload-checksum off over plain HTTP.
func (b *bench) rawWrite(ctx context.Context, key string, withMD5 bool, n int) (time.Duration, error) {
	const part = 8 << 20
	var signing []func(*s3.Options)
	if withMD5 {
		signing = append(signing, s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware))
	}
	start := time.Now()
	src, err := os.Open(b.writeSrc)
	if err != nil {
		return 0, err
	}
	defer src.Close()
	up, err := b.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, err
	}
	count := int((b.c.writeSize + part - 1) / part)
	parts := make([]types.CompletedPart, count)
	nums := make(chan int)
	err = parallel(n, func() error {
		buf := make([]byte, part)
		for n := range nums {
			off := int64(n) * part
			size := min(part, b.c.writeSize-off)
			if _, err := src.ReadAt(buf[:size], off); err != nil {
				return err
			}
			in := &s3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId,
				PartNumber: aws.Int32(int32(n + 1)), Body: bytes.NewReader(buf[:size]), ContentLength: aws.Int64(size)}
			if withMD5 {
				sum := md5.Sum(buf[:size])
				in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(sum[:]))
			}
			out, err := b.client.UploadPart(ctx, in, signing...)
			if err != nil {
				return err
			}
			parts[n] = types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(n + 1))}
		}
		return nil
	}, func() {
		for n := 0; n < count; n++ {
			nums <- n
		}
		close(nums)
	})
	if err != nil {
		return 0, err
	}
	_, err = b.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	d := time.Since(start)
	if err != nil {
		return 0, err
	}
	// Untimed: the sweep writes many copies; MinIO's disk need not keep them.
	_, err = b.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	return d, err
}

// mountWrite copies the source file into a fresh mount, timing until close
// returns (when S3 has the object).
func (b *bench) mountWrite(name string, flags ...string) (time.Duration, error) {
	m, err := b.mount(flags...)
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	start := time.Now()
	err = copyFile(b.writeSrc, filepath.Join(m.dir, name))
	return time.Since(start), err
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(dst, struct{ io.Reader }{src}, make([]byte, 1<<20)); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}

// smallFile is the body of the small-file figures.
var smallFile = bytes.Repeat([]byte("0123456789abcdef"), 1024)

func (b *bench) rawSmallFiles(ctx context.Context, run int) (time.Duration, error) {
	start := time.Now()
	for i := 0; i < b.c.smallFiles; i++ {
		_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String(fmt.Sprintf("small-raw%d/f%05d", run, i)), Body: bytes.NewReader(smallFile)})
		if err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}

func (b *bench) mountSmallFiles(run int) (time.Duration, error) {
	d, _, err := b.mountSmallFilesWith(fmt.Sprintf("small-mnt%d", run))
	return d, err
}

// mountSmallFilesWith writes the small files through a mount with flags
// and returns the time until the last close and until S3 has them all.
func (b *bench) mountSmallFilesWith(name string, flags ...string) (untilClose, untilS3 time.Duration, err error) {
	return b.timedInMount(name, flags, func(dir string) error {
		for i := 0; i < b.c.smallFiles; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%05d", i)), smallFile, 0o644); err != nil {
				return err
			}
		}
		return nil
	})
}

// mountTarWith is mountTar through a mount with flags, timed until tar
// exits and until S3 has every file.
func (b *bench) mountTarWith(name string, flags ...string) (untilExit, untilS3 time.Duration, err error) {
	return b.timedInMount(name, flags, func(dir string) error {
		if out, err := exec.Command("tar", "-xf", b.tarball, "-C", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("tar -x into the mount: %v: %s", err, out)
		}
		return nil
	})
}

// timedInMount runs work in a new directory name of a mount with flags and
// returns how long work took and how long until S3 had everything it
// wrote (s3.sync on the directory returned; at once without
// --async-upload).
func (b *bench) timedInMount(name string, flags []string, work func(dir string) error) (done, inS3 time.Duration, err error) {
	m, err := b.mount(flags...)
	if err != nil {
		return 0, 0, err
	}
	defer m.unmount()
	dir := filepath.Join(m.dir, name)
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := work(dir); err != nil {
		return 0, 0, err
	}
	done = time.Since(start)
	if err := syscall.Setxattr(dir, "s3.sync", []byte("1"), 0); err != nil {
		return 0, 0, fmt.Errorf("s3.sync: %w", err)
	}
	return done, time.Since(start), nil
}

// rawTar uploads the tarball's files with serial PutObjects, as an
// SDK script would.
func (b *bench) rawTar(ctx context.Context, run int) (time.Duration, error) {
	dir := filepath.Join(b.work, "gosrc")
	if _, err := os.Stat(dir); err != nil {
		os.MkdirAll(dir, 0o755)
		if out, err := exec.Command("tar", "-xf", b.tarball, "-C", dir).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("tar -x: %v: %s", err, out)
		}
	}
	start := time.Now()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		_, err = b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
			Key: aws.String(fmt.Sprintf("tar-raw%d/%s", run, rel)), Body: bytes.NewReader(data)})
		return err
	})
	return time.Since(start), err
}

func (b *bench) mountTar(run int) (time.Duration, error) {
	m, err := b.mount()
	if err != nil {
		return 0, err
	}
	defer m.unmount()
	dir := filepath.Join(m.dir, fmt.Sprintf("tar-mnt%d", run))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0, err
	}
	start := time.Now()
	out, err := exec.Command("tar", "-xf", b.tarball, "-C", dir).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("tar -x into the mount: %v: %s", err, out)
	}
	return time.Since(start), nil
}

// writeSample is the daemon's RSS while writing and what was staged on
// disk at the same moment.
type writeSample struct {
	peak            int64 // VmHWM at the end
	rss             int64 // the highest VmRSS sampled
	staged, written int64 // at that sample
}

// writeRSS writes rssSize bytes sequentially through a mount and returns
// the peak RSS and its limit (the upload memory budget + 100 MiB). Every
// 64 MiB it samples the daemon's RSS and the staging directory's
// allocated size, so that the report shows where the written bytes were
// when the RSS was highest.
func (b *bench) writeRSS() (s writeSample, limit int64, err error) {
	const budget = 256 << 20
	m, err := b.mount("--max-upload-memory", "256MiB")
	if err != nil {
		return s, 0, err
	}
	defer m.unmount()
	f, err := os.Create(filepath.Join(m.dir, "rss-write.bin"))
	if err != nil {
		return s, 0, err
	}
	buf := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(buf)
	for n := int64(0); n < b.c.rssSize; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return s, 0, err
		}
		if (n+int64(len(buf)))%(64<<20) == 0 {
			if rss, err := m.status("VmRSS:"); err == nil && rss > s.rss {
				s.rss, s.staged, s.written = rss, dirAllocated(filepath.Join(b.work, "staging")), n+int64(len(buf))
			}
		}
	}
	if err := f.Close(); err != nil {
		return s, 0, err
	}
	s.peak, err = m.peakRSS()
	fmt.Printf("write RSS: peak %d MiB; highest sampled RSS %d MiB with %d MiB staged on disk after %d MiB written\n",
		s.peak>>20, s.rss>>20, s.staged>>20, s.written>>20)
	return s, budget + 100<<20, err
}

// dirAllocated is the disk the files under dir occupy.
func dirAllocated(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil {
			n += st.Blocks * 512
		}
		return nil
	})
	return n
}
