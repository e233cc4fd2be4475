package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

const bucket = "scale"

// layout is where the keys go: big/ and ren/ flat, the rest under tree/
// in directories of 100 files, 100 such directories to a parent.
type layout struct {
	big, ren, tree int
}

func newLayout(n int) layout {
	l := layout{big: min(100000, n/10), ren: min(10000, n/100)}
	l.tree = n - l.big - l.ren
	return l
}

// key is the name of the i-th key, big/ first, then ren/, then tree/.
func (l layout) key(i int) string {
	switch {
	case i < l.big:
		return fmt.Sprintf("big/f%06d", i)
	case i < l.big+l.ren:
		return fmt.Sprintf("ren/f%05d", i-l.big)
	}
	i -= l.big + l.ren
	leaf := i / 100
	return fmt.Sprintf("tree/a%04d/b%02d/f%02d", leaf/100, leaf%100, i%100)
}

func (l layout) total() int { return l.big + l.ren + l.tree }

// dirs is the number of directories below the root (what find lists
// beside the files).
func (l layout) dirs() int {
	leaves := (l.tree + 99) / 100
	return 3 + leaves + (leaves+99)/100
}

type scale struct {
	c      config
	env    *benchkit.Env
	client *s3.Client
	l      layout

	startRSS int64 // the daemon's, after its first collection
}

func newScale(c config, env *benchkit.Env) *scale {
	client := env.Client(func(o *s3.Options) { o.HTTPClient = awsHTTPClient(max(c.putConc, 64)) })
	return &scale{c: c, env: env, client: client, l: newLayout(c.keys)}
}

// create makes the bucket and its keys with c.putConc PUTs at once,
// printing the rate as it goes.
func (s *scale) create(ctx context.Context) error {
	if _, err := s.client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	fmt.Printf("setup: %d keys (%d in big/, %d in ren/, %d under tree/ in %d directories), %d PUTs at once\n",
		s.l.total(), s.l.big, s.l.ren, s.l.tree, s.l.dirs()-3, s.c.putConc)
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	start := time.Now()
	stop := make(chan struct{})
	go func() {
		t := time.NewTicker(10 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				n := done.Load()
				el := time.Since(start)
				fmt.Printf("  %d keys in %s, %.0f PUTs/s, %s to go\n", n, el.Round(time.Second), float64(n)/el.Seconds(),
					(time.Duration(float64(el) / float64(n) * float64(int64(s.l.total())-n))).Round(time.Second))
			}
		}
	}()
	for w := 0; w < s.c.putConc; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= s.l.total() {
					return
				}
				_, err := s.client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket),
					Key: aws.String(s.l.key(i)), Body: strings.NewReader("x")})
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("put %s: %w", s.l.key(i), err) })
					next.Store(int64(s.l.total()))
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	el := time.Since(start)
	fmt.Printf("setup: %d keys in %s, %.0f PUTs/s\n", done.Load(), el.Round(time.Second), float64(done.Load())/el.Seconds())
	return firstErr
}
