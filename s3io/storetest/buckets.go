package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// newBucketName returns a name no other test uses.
func newBucketName() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "storetest-" + hex.EncodeToString(b)
}

var bucketCases = []testCase{
	{"CreateBucketThenDeleteItOnceEmpty", func(e *env) {
		name := newBucketName()
		e.ok("CreateBucket", e.s.CreateBucket(e.ctx, name, ""))
		e.t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			e.s.DeleteObject(ctx, name, "obj")
			e.s.DeleteBucket(ctx, name)
		})
		e.ok("HeadBucket of the new bucket", e.s.HeadBucket(e.ctx, name))
		err := e.s.CreateBucket(e.ctx, name, "")
		if err != nil || !e.mayLack(BucketExistsError, "CreateBucket of an existing bucket succeeded") {
			e.wantErr("CreateBucket of an existing bucket", err, s3io.ErrBucketExists)
		}

		_, err = e.s.PutObject(e.ctx, name, "obj", bytes.NewReader([]byte("x")), 1, s3io.WriteOptions{})
		e.ok("PutObject into the new bucket", err)
		err = e.s.DeleteBucket(e.ctx, name)
		e.wantErr("DeleteBucket of a bucket with an object", err, s3io.ErrBucketNotEmpty)

		e.ok("DeleteObject", e.s.DeleteObject(e.ctx, name, "obj"))
		e.ok("DeleteBucket", e.s.DeleteBucket(e.ctx, name))
		err = e.s.HeadBucket(e.ctx, name)
		e.wantErr("HeadBucket of a deleted bucket", err, s3io.ErrBucketNotFound)
		err = e.s.DeleteBucket(e.ctx, name)
		e.wantErr("DeleteBucket of a missing bucket", err, s3io.ErrBucketNotFound)
	}},
	{"CreateBucketRefusesNamesS3DoesNotAllow", func(e *env) {
		for _, name := range []string{"Upper-Case", "under_score", "ab", "-starts-with-dash", "192.168.1.1"} {
			err := e.s.CreateBucket(e.ctx, name, "")
			e.wantErr("CreateBucket "+name, err, s3io.ErrInvalidArgument)
		}
	}},
}
