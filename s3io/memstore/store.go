package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/s3xml"
)

// Store is an in-memory s3io.Store. The zero value is not usable; call New.
type Store struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	seq     int             // makes upload ids unique
	refused map[string]bool // features answered with NotImplemented
}

var _ s3io.Store = (*Store)(nil)

type bucket struct {
	created time.Time
	objects map[string]*object
	uploads map[string]*upload // by upload id
	// sorted holds the keys of objects in S3's order (bytewise); nil when a
	// change made it stale. Listing a large bucket page by page must not
	// sort it for every page.
	sorted []string

	region     string
	tags       []s3io.Tag
	acl        string // canned ACL
	policy     string // "" when none
	cors       *s3xml.CORSConfiguration
	lifecycle  *s3xml.LifecycleConfiguration
	versioning string
}

func (b *bucket) put(key string, o *object) {
	if _, ok := b.objects[key]; !ok {
		b.sorted = nil
	}
	b.objects[key] = o
}

func (b *bucket) remove(key string) {
	if _, ok := b.objects[key]; ok {
		b.sorted = nil
		delete(b.objects, key)
	}
}

func (b *bucket) sortedKeys() []string {
	if b.sorted == nil {
		b.sorted = make([]string, 0, len(b.objects))
		for k := range b.objects {
			b.sorted = append(b.sorted, k)
		}
		sort.Strings(b.sorted)
	}
	return b.sorted
}

type object struct {
	data         []byte
	etag         string
	modTime      time.Time
	contentType  string
	storageClass string
	meta         map[string]string
	sse          string
	sseKMSKeyID  string
	ssecMD5      string // hex MD5 of the SSE-C key, "" when not SSE-C
	tags         []s3io.Tag
	acl          string // canned ACL
	restoreDays  int    // of the last restore request, 0 when none
}

// New returns an empty store with no buckets.
func New() *Store {
	return &Store{buckets: map[string]*bucket{}}
}

// AddBucket adds an empty bucket, as a test fixture; an existing bucket is
// left as it is. Unlike CreateBucket it takes any name, such as "b".
func (s *Store) AddBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.buckets[name]; !ok {
		s.buckets[name] = emptyBucket("us-east-1")
	}
}

func emptyBucket(region string) *bucket {
	return &bucket{
		created: now(),
		objects: map[string]*object{},
		uploads: map[string]*upload{},
		region:  region,
		acl:     "private",
	}
}

// PutBytes stores an object directly, as a test fixture. It panics when the
// bucket does not exist: that is a mistake in the test.
func (s *Store) PutBytes(bucketName, key string, data []byte, meta map[string]string) s3io.ObjectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		panic(fmt.Sprintf("memstore.PutBytes: no bucket %q", bucketName))
	}
	o := newObject(clone(data), md5Hex(data), s3io.WriteOptions{Metadata: meta})
	b.put(key, o)
	return o.info(key, true)
}

// Bytes returns a copy of an object's body, for assertions in tests.
func (s *Store) Bytes(bucketName, key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.buckets[bucketName]
	if !ok {
		return nil, false
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, false
	}
	return clone(o.data), true
}

// ListBuckets returns the buckets sorted by name.
func (s *Store) ListBuckets(ctx context.Context) ([]s3io.BucketInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, &s3io.OpError{Op: "ListBuckets", Err: err}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]s3io.BucketInfo, 0, len(s.buckets))
	for name, b := range s.buckets {
		out = append(out, s3io.BucketInfo{Name: name, Created: b.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// HeadBucket reports ErrBucketNotFound for a missing bucket.
func (s *Store) HeadBucket(ctx context.Context, bucketName string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.bucketLocked(ctx, "HeadBucket", bucketName, "")
	return err
}

// bucketLocked checks the context and finds the bucket, returning the error
// S3 would give.
func (s *Store) bucketLocked(ctx context.Context, op, bucketName, key string) (*bucket, error) {
	if err := ctx.Err(); err != nil {
		return nil, &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Err: err}
	}
	b, ok := s.buckets[bucketName]
	if !ok {
		return nil, opErr(op, bucketName, key, "NoSuchBucket", s3io.ErrBucketNotFound)
	}
	return b, nil
}

func (o *object) info(key string, withMeta bool) s3io.ObjectInfo {
	info := s3io.ObjectInfo{
		Key:          key,
		Size:         int64(len(o.data)),
		ETag:         o.etag,
		ModTime:      o.modTime,
		StorageClass: o.storageClass,
	}
	if info.StorageClass == "" {
		info.StorageClass = "STANDARD"
	}
	if withMeta {
		info.ContentType = o.contentType
		info.Metadata = cloneMap(o.meta)
		info.SSE = o.sse
		info.SSEKMSKeyID = o.sseKMSKeyID
		info.HasMetadata = true
	}
	return info
}

func opErr(op, bucketName, key, code string, sentinel error) error {
	return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: code, Err: sentinel}
}

// now has S3's HEAD precision (whole seconds), so that a listing and a HEAD
// of the same object agree.
func now() time.Time { return time.Now().UTC().Truncate(time.Second) }

func md5Hex(b []byte) string {
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

func clone(b []byte) []byte { return append([]byte{}, b...) }

func cloneMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// lowerKeys copies user metadata with lower-cased names, as S3 returns them.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}
