package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// NewStore returns a Store and the name of an empty bucket in it. It is
// called once per subtest.
type NewStore func(t *testing.T) (s3io.Store, string)

// Run runs the whole suite as subtests of t.
func Run(t *testing.T, newStore NewStore) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, bucket := newStore(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			tc.run(&env{t: t, ctx: ctx, s: s, bucket: bucket})
		})
	}
}

type testCase struct {
	name string
	run  func(e *env)
}

// cases lists the suite, grouped by family; each file adds its own.
var cases = concat(objectCases, readCases, listCases, keyCases, copyCases, multipartCases)

func concat(groups ...[]testCase) []testCase {
	var all []testCase
	for _, g := range groups {
		all = append(all, g...)
	}
	return all
}

// env is what a case works with: the store, its bucket, and helpers that
// fail the test on unexpected errors.
type env struct {
	t      *testing.T
	ctx    context.Context
	s      s3io.Store
	bucket string
}

func (e *env) put(key string, data []byte, opts s3io.WriteOptions) s3io.ObjectInfo {
	e.t.Helper()
	info, err := e.s.PutObject(e.ctx, e.bucket, key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		e.t.Fatalf("PutObject %q: %v", key, err)
	}
	return info
}

func (e *env) head(key string) s3io.ObjectInfo {
	e.t.Helper()
	info, err := e.s.HeadObject(e.ctx, e.bucket, key, s3io.ReadOptions{})
	if err != nil {
		e.t.Fatalf("HeadObject %q: %v", key, err)
	}
	return info
}

// readAll reads a whole object with one ReadRange into a buffer larger
// than the object.
func (e *env) readAll(key string, size int64) []byte {
	e.t.Helper()
	p := make([]byte, size+10)
	n, err := e.s.ReadRange(e.ctx, e.bucket, key, 0, p, s3io.ReadOptions{})
	if err != nil {
		e.t.Fatalf("ReadRange %q: %v", key, err)
	}
	return p[:n]
}

// wantErr fails unless err is an *s3io.OpError wrapping want.
func (e *env) wantErr(what string, err, want error) {
	e.t.Helper()
	if !errors.Is(err, want) {
		e.t.Fatalf("%s: err = %v, want %v", what, err, want)
	}
	var oe *s3io.OpError
	if !errors.As(err, &oe) {
		e.t.Fatalf("%s: err %T (%v) is not an *s3io.OpError", what, err, err)
	}
	if oe.Op == "" {
		e.t.Fatalf("%s: OpError without Op: %v", what, err)
	}
}

// randomBytes returns n bytes that are the same for the same seed.
func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// multipartETag is S3's ETag for an object assembled from parts: the MD5 of
// the concatenated binary MD5s of the parts, "-", the number of parts.
func multipartETag(parts ...[]byte) string {
	var sums []byte
	for _, p := range parts {
		s := md5.Sum(p)
		sums = append(sums, s[:]...)
	}
	return md5Hex(sums) + "-" + strconv.Itoa(len(parts))
}
