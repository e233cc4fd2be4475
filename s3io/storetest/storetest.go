package storetest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// NewStore returns a Store and the name of an empty bucket in it. It is
// called once per subtest.
type NewStore func(t *testing.T) (s3io.Store, string)

// Feature is something of S3's that some servers lack.
type Feature string

// Features a store may lack, with the error that says so.
const (
	// CannedACLs other than "private": servers that keep no ACLs (MinIO)
	// answer ErrNotImplemented, to unknown canned ACLs too.
	CannedACLs Feature = "canned ACLs"
	// CORS configurations: MinIO reads none and answers ErrNotImplemented
	// to PutBucketCors and DeleteBucketCors.
	CORS Feature = "CORS configurations"
	// ArchiveClasses (GLACIER, DEEP_ARCHIVE): a server without archive
	// tiers refuses the storage class with ErrInvalidArgument.
	ArchiveClasses Feature = "archive storage classes"
	// LifecycleTransitions and AbortIncompleteMultipartUpload rules: a
	// server without tiers (MinIO) refuses them with ErrInvalidArgument.
	LifecycleTransitions Feature = "lifecycle transitions"
	// Lifecycle configurations at all: versitygw answers NotImplemented.
	Lifecycle Feature = "lifecycle configurations"
	// Versioning: versitygw without a versioning directory answers
	// VersioningNotConfigured (501).
	Versioning Feature = "versioning"
	// Restore of archived objects: versitygw answers NotImplemented.
	Restore Feature = "restores"
	// ObjectACLs: versitygw answers NotImplemented to GetObjectAcl and
	// PutObjectAcl, private included, and AccessControlListNotSupported to
	// PutBucketAcl (GetBucketAcl works).
	ObjectACLs Feature = "object ACLs"
	// MarkerData: data in a key that ends in "/". versitygw stores such
	// keys as directories and refuses a body (DirectoryObjectContainsData).
	MarkerData Feature = "data in keys ending in /"
	// UncleanKeys: keys with empty or dot path segments ("a//b", "./a") or
	// control characters, kept as given. versitygw stores them under the
	// cleaned path, and control characters as U+FFFD.
	UncleanKeys Feature = "keys with empty or dot path segments or control characters"
	// SSE: server-side encryption. versitygw ignores the headers and stores
	// plaintext; the store notices and answers ErrEncryptionIgnored.
	SSE Feature = "server-side encryption"
	// LargeTagSets: ten tags with 128-character keys and 256-character
	// values (3.8 KB, within S3's limits). versitygw's posix backend keeps
	// tags in an extended attribute and answers 500 InternalError.
	LargeTagSets Feature = "tag sets over about 3 KB"
	// CopyIfMatch: x-amz-copy-source-if-match on CopyObject and
	// UploadPartCopy. Ceph RGW 16 copies the current object regardless.
	CopyIfMatch Feature = "copy-source If-Match"
	// PolicyValidation: refusing a bucket policy that names another
	// bucket. Ceph RGW stores it.
	PolicyValidation Feature = "bucket policy validation"
	// LifecycleRoundTrip: a lifecycle configuration read back as it was
	// put. Ceph RGW reorders rules and transitions and writes a Prefix
	// beside an And in a Filter.
	LifecycleRoundTrip Feature = "lifecycle documents read back as put"
	// BucketExistsError: BucketAlreadyOwnedByYou for a bucket created
	// again. Ceph RGW answers 200.
	BucketExistsError Feature = "an error for a bucket created twice"
	// SSECCopy: CopyObject of an SSE-C object. Ceph RGW 16 answers 501.
	SSECCopy Feature = "server-side copies of SSE-C objects"
	// SSES3: SSE-S3 (AES256). Ceph RGW 16 has no SSE-S3 backend: it takes
	// the header, stores plaintext and reports none (SSE-KMS and SSE-C work).
	SSES3 Feature = "SSE-S3"
	// UnknownStorageClasses: classes the server has no placement for.
	// Ceph RGW refuses REDUCED_REDUNDANCY and STANDARD_IA with InvalidArgument.
	UnknownStorageClasses Feature = "storage classes other than STANDARD (refused)"
	// StorageClasses other than STANDARD: versitygw accepts them and stores
	// STANDARD.
	StorageClasses Feature = "storage classes"
)

// refusals is how a store says it lacks each feature.
var refusals = map[Feature]error{
	CannedACLs:           s3io.ErrNotImplemented,
	CORS:                 s3io.ErrNotImplemented,
	ArchiveClasses:       s3io.ErrInvalidArgument,
	LifecycleTransitions: s3io.ErrInvalidArgument,
	Lifecycle:            s3io.ErrNotImplemented,
	Versioning:           s3io.ErrNotImplemented,
	Restore:              s3io.ErrNotImplemented,
	ObjectACLs:           s3io.ErrNotImplemented,
	MarkerData:           s3io.ErrInvalidArgument,
	SSE:                  s3io.ErrEncryptionIgnored,
	SSECCopy:             s3io.ErrNotImplemented,
}

// Options describe the store under test. The zero value means a store
// with all of S3's features, whose presigned URLs are not HTTP URLs.
type Options struct {
	// MayLack lists the features the store may refuse. A case that meets
	// the documented refusal ends there and passes; without the feature
	// listed, the refusal fails the case.
	MayLack []Feature
	// PresignedHTTP says that PresignGetObject's URLs can be fetched with
	// a plain net/http GET.
	PresignedHTTP bool
}

// Run runs the whole suite as subtests of t, for a store with all of
// S3's features.
func Run(t *testing.T, newStore NewStore) {
	RunWithOptions(t, newStore, Options{})
}

// RunWithOptions runs the whole suite as subtests of t.
func RunWithOptions(t *testing.T, newStore NewStore, opts Options) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, bucket := newStore(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			tc.run(&env{t: t, ctx: ctx, s: s, bucket: bucket, opts: opts})
		})
	}
}

type testCase struct {
	name string
	run  func(e *env)
}

// cases lists the suite, grouped by family; each file adds its own.
var cases = concat(objectCases, readCases, listCases, keyCases, copyCases, multipartCases,
	taggingCases, aclCases, bucketConfigCases, bucketCases, presignCases, restoreCases)

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
	opts   Options
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

// lacks reports whether err is the store's refusal of feature f and the
// options allow the store to lack it: the case then ends there, having
// checked that the refusal has the sentinel callers map (ENOTSUP, EINVAL).
// A store without the feature passes the case on its refusal; it is not
// skipped, so a pinned server never leaves a case unrun.
func (e *env) lacks(f Feature, err error) bool {
	e.t.Helper()
	if err != nil && errors.Is(err, refusals[f]) && slices.Contains(e.opts.MayLack, f) {
		e.t.Logf("the store lacks %s and refuses it as documented: %v", f, err)
		return true
	}
	return false
}

// mayLack reports whether the store may lack f, for refusals that carry
// no error (a server that accepts a request and quietly does otherwise).
func (e *env) mayLack(f Feature, what string) bool {
	e.t.Helper()
	if slices.Contains(e.opts.MayLack, f) {
		e.t.Logf("the store lacks %s: %s", f, what)
		return true
	}
	return false
}

// ok fails the test on an error.
func (e *env) ok(what string, err error) {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("%s: %v", what, err)
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
