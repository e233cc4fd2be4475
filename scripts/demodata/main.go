// Command demodata fills a bucket with sample data for `make demo`: nested
// directories, a 1 GiB file and a few thousand small files.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	endpoint := flag.String("endpoint", "", "S3 endpoint URL")
	bucket := flag.String("bucket", "demo", "bucket to create and fill")
	bigSize := flag.Int64("big", 1<<30, "size of the big file")
	small := flag.Int("small", 3000, "number of small files")
	access := flag.String("access-key", "", "access key")
	secret := flag.String("secret-key", "", "secret key")
	flag.Parse()
	ctx := context.Background()
	c := s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(*endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(*access, *secret, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	})
	if _, err := c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: bucket}); err != nil {
		log.Fatalf("create bucket %s: %v", *bucket, err)
	}
	put := func(key string, data []byte) {
		if _, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
			log.Fatalf("put %s: %v", key, err)
		}
	}
	put("README.txt", []byte("This bucket was made by `make demo`.\nTry: ls -l mnt, find mnt/docs, md5sum mnt/big/1GiB.bin\n"))
	put("docs/guide/intro.md", []byte("# Intro\n\nFiles here are S3 objects.\n"))
	put("docs/guide/usage.md", []byte("# Usage\n\ncat, cp, tar and dd work.\n"))
	put("docs/empty-dir/", nil) // a directory marker
	put("src/main.go", []byte("package main\n\nfunc main() { println(\"hello from S3\") }\n"))
	put("src/pkg/util/util.go", []byte("package util\n"))

	up := manager.NewUploader(c, func(u *manager.Uploader) { u.PartSize = 16 << 20; u.Concurrency = 4 })
	body := io.LimitReader(rand.New(rand.NewSource(1)), *bigSize)
	if _, err := up.Upload(ctx, &s3.PutObjectInput{Bucket: bucket, Key: aws.String("big/1GiB.bin"), Body: body}); err != nil {
		log.Fatalf("upload big file: %v", err)
	}

	keys := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				put(fmt.Sprintf("many/%02d/file-%05d.txt", i/100, i), []byte(fmt.Sprintf("small file %d\n", i)))
			}
		}()
	}
	for i := 0; i < *small; i++ {
		keys <- i
	}
	close(keys)
	wg.Wait()
	fmt.Printf("bucket %s: 6 small files in nested directories, big/1GiB.bin (%d bytes), %d files under many/\n", *bucket, *bigSize, *small)
}
