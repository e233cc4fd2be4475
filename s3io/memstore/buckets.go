package memstore

import (
	"context"
	"fmt"
	"net/netip"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// CreateBucket creates an empty bucket with a name S3 allows. region is
// recorded; "" means us-east-1.
func (s *Store) CreateBucket(ctx context.Context, bucketName, region string) error {
	const op = "CreateBucket"
	if problem := bucketNameProblem(bucketName); problem != "" {
		return &s3io.OpError{Op: op, Bucket: bucketName, Code: "InvalidBucketName", Message: problem,
			Err: s3io.ErrInvalidArgument}
	}
	if err := ctx.Err(); err != nil {
		return &s3io.OpError{Op: op, Bucket: bucketName, Err: err}
	}
	if region == "" {
		region = "us-east-1"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[bucketName]; ok {
		return opErr(op, bucketName, "", "BucketAlreadyOwnedByYou", s3io.ErrBucketExists)
	}
	s.buckets[bucketName] = emptyBucket(region)
	return nil
}

// DeleteBucket deletes a bucket without objects. Incomplete multipart
// uploads do not keep it, as on S3.
func (s *Store) DeleteBucket(ctx context.Context, bucketName string) error {
	const op = "DeleteBucket"
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, op, bucketName, "")
	if err != nil {
		return err
	}
	if len(b.objects) > 0 {
		return opErr(op, bucketName, "", "BucketNotEmpty", s3io.ErrBucketNotEmpty)
	}
	delete(s.buckets, bucketName)
	return nil
}

// bucketNameProblem says why S3 would refuse a bucket name, or "".
func bucketNameProblem(name string) string {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Sprintf("%d characters, want 3 to 63", len(name))
	}
	for _, c := range name {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '-' {
			return fmt.Sprintf("character %q; only a-z, 0-9, '.' and '-' are allowed", c)
		}
	}
	isAlnum := func(c byte) bool { return c != '.' && c != '-' }
	switch {
	case !isAlnum(name[0]) || !isAlnum(name[len(name)-1]):
		return "must begin and end with a letter or digit"
	case strings.Contains(name, ".."):
		return "two periods in a row"
	case strings.HasPrefix(name, "xn--") || strings.HasPrefix(name, "sthree-"):
		return "reserved prefix"
	case strings.HasSuffix(name, "-s3alias") || strings.HasSuffix(name, "--ol-s3"):
		return "reserved suffix"
	}
	if addr, err := netip.ParseAddr(name); err == nil && addr.Is4() {
		return "formatted as an IP address"
	}
	return ""
}
