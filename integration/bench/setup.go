package main

import (
	"context"
	"fmt"
	"io"
	"math/rand"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

const bucket = "bench"

type bench struct {
	c      config
	env    *benchkit.Env
	work   string // env.Work
	client *s3.Client

	writeSrc, tarball string
	tarFiles          int
}

func newBench(c config, env *benchkit.Env) *bench {
	return &bench{c: c, env: env, work: env.Work, client: env.Client()}
}

// setup creates the bucket, the big objects and the listed directory.
func (b *bench) setup(ctx context.Context) error {
	if _, err := b.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	if b.c.only == "write" {
		return nil
	}
	up := manager.NewUploader(b.client, func(u *manager.Uploader) { u.PartSize = 16 << 20; u.Concurrency = 4 })
	objects := map[string]int64{"seq.bin": b.c.size, "rss.bin": b.c.rssSize}
	if b.c.only == "disk" {
		delete(objects, "rss.bin")
	}
	for key, size := range objects {
		fmt.Printf("setup: %s, %d MiB\n", key, size>>20)
		body := io.LimitReader(rand.New(rand.NewSource(size)), size)
		if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: body}); err != nil {
			return fmt.Errorf("upload %s: %w", key, err)
		}
	}
	fmt.Printf("setup: %d keys under ls/\n", b.c.keys)
	keys := make(chan int)
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				_, err := b.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(fmt.Sprintf("ls/f%06d", i)), Body: stringsReader("x")})
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := 0; i < b.c.keys; i++ {
		keys <- i
	}
	close(keys)
	wg.Wait()
	select {
	case err := <-errs:
		return fmt.Errorf("put small keys: %w", err)
	default:
		return nil
	}
}
