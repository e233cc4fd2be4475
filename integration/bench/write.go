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

// rawWrite uploads the source file as a multipart upload of 8 MiB parts,
// 4 at once, with Content-MD5 when md5 is set.
func (b *bench) rawWrite(ctx context.Context, key string, withMD5 bool) (time.Duration, error) {
	const part = 8 << 20
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
	err = parallel(4, func() error {
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
			out, err := b.client.UploadPart(ctx, in)
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
	return time.Since(start), err
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

// writeRSS writes rssSize bytes sequentially through a mount and returns
// the peak RSS and its limit (the upload memory budget + 100 MiB).
func (b *bench) writeRSS() (rss, limit int64, err error) {
	const budget = 256 << 20
	m, err := b.mount("--max-upload-memory", "256MiB")
	if err != nil {
		return 0, 0, err
	}
	defer m.unmount()
	f, err := os.Create(filepath.Join(m.dir, "rss-write.bin"))
	if err != nil {
		return 0, 0, err
	}
	buf := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(buf)
	for n := int64(0); n < b.c.rssSize; n += int64(len(buf)) {
		if _, err := f.Write(buf); err != nil {
			f.Close()
			return 0, 0, err
		}
	}
	if err := f.Close(); err != nil {
		return 0, 0, err
	}
	rss, err = m.peakRSS()
	return rss, budget + 100<<20, err
}
