package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

type object struct {
	data []byte
	info s3io.ObjectInfo
}

type bucket struct {
	created time.Time
	objects map[string]*object
}

// Store is an in-memory object store. Safe for concurrent use.
type Store struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	uploads map[string]*upload
	nextID  int
}

var _ s3io.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{buckets: make(map[string]*bucket), uploads: make(map[string]*upload)}
}

// CreateBucket adds an empty bucket.
func (s *Store) CreateBucket(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.buckets[name] == nil {
		s.buckets[name] = &bucket{created: time.Now(), objects: make(map[string]*object)}
	}
}

// PutBytes stores an object directly, for test setup.
func (s *Store) PutBytes(bucketName, key string, data []byte, meta map[string]string) s3io.ObjectInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.putLocked(s.buckets[bucketName], key, append([]byte(nil), data...), s3io.WriteOptions{Metadata: meta}, md5Hex(data))
}

func md5Hex(b []byte) string {
	h := md5.Sum(b)
	return hex.EncodeToString(h[:])
}

func (s *Store) putLocked(b *bucket, key string, data []byte, opts s3io.WriteOptions, etag string) s3io.ObjectInfo {
	info := s3io.ObjectInfo{
		Key: key, Size: int64(len(data)), ETag: etag, ModTime: time.Now().UTC().Truncate(time.Second),
		StorageClass: "STANDARD", ContentType: opts.ContentType, Metadata: maps.Clone(opts.Metadata),
		SSE: opts.SSE, SSEKMSKeyID: opts.SSEKMSKeyID, HasMetadata: true,
	}
	if opts.StorageClass != "" {
		info.StorageClass = opts.StorageClass
	}
	if info.Metadata == nil {
		info.Metadata = map[string]string{}
	}
	b.objects[key] = &object{data: data, info: info}
	return info
}

func opErr(op, bucket, key string, err error) error {
	return &s3io.OpError{Op: op, Bucket: bucket, Key: key, Err: err}
}

func (s *Store) bucketLocked(op, name, key string) (*bucket, error) {
	b := s.buckets[name]
	if b == nil {
		return nil, opErr(op, name, key, s3io.ErrBucketNotFound)
	}
	return b, nil
}

func (s *Store) ListBuckets(ctx context.Context) ([]s3io.BucketInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]s3io.BucketInfo, 0, len(s.buckets))
	for name, b := range s.buckets {
		out = append(out, s3io.BucketInfo{Name: name, Created: b.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (s *Store) HeadBucket(ctx context.Context, name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, err := s.bucketLocked("HeadBucket", name, "")
	return err
}

func (s *Store) objectLocked(op, bucketName, key, ifMatch string) (*object, error) {
	b, err := s.bucketLocked(op, bucketName, key)
	if err != nil {
		return nil, err
	}
	o := b.objects[key]
	if o == nil {
		return nil, opErr(op, bucketName, key, s3io.ErrNotFound)
	}
	if ifMatch != "" && ifMatch != o.info.ETag {
		return nil, opErr(op, bucketName, key, s3io.ErrPreconditionFailed)
	}
	return o, nil
}

func (s *Store) HeadObject(ctx context.Context, bucketName, key string, opts s3io.ReadOptions) (s3io.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.objectLocked("HeadObject", bucketName, key, opts.IfMatch)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	info := o.info
	info.Metadata = maps.Clone(o.info.Metadata)
	return info, nil
}

func (s *Store) ReadRange(ctx context.Context, bucketName, key string, off int64, p []byte, opts s3io.ReadOptions) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, opErr("GetObject", bucketName, key, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.objectLocked("GetObject", bucketName, key, opts.IfMatch)
	if err != nil {
		return 0, err
	}
	if off >= int64(len(o.data)) {
		return 0, nil
	}
	return copy(p, o.data[off:]), nil
}

// List implements ListObjectsV2. The continuation token is the last key or
// prefix returned.
func (s *Store) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked("ListObjectsV2", req.Bucket, req.Prefix)
	if err != nil {
		return s3io.ListPage{}, err
	}
	maxKeys := int(req.MaxKeys)
	if maxKeys <= 0 {
		maxKeys = 1000
	}
	keys := make([]string, 0, len(b.objects))
	for k := range b.objects {
		if strings.HasPrefix(k, req.Prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	after := max(req.StartAfter, req.ContinuationToken)
	var page s3io.ListPage
	count := 0
	last := ""
	for _, k := range keys {
		if k <= after {
			continue
		}
		if req.Delimiter != "" {
			rest := k[len(req.Prefix):]
			if i := strings.Index(rest, req.Delimiter); i >= 0 {
				cp := req.Prefix + rest[:i+len(req.Delimiter)]
				if cp <= after || (len(page.CommonPrefixes) > 0 && page.CommonPrefixes[len(page.CommonPrefixes)-1] == cp) {
					continue
				}
				if count == maxKeys {
					page.IsTruncated = true
					break
				}
				page.CommonPrefixes = append(page.CommonPrefixes, cp)
				count++
				last = cp
				// Skip every key under this prefix.
				after = cp + "\xff"
				continue
			}
		}
		if count == maxKeys {
			page.IsTruncated = true
			break
		}
		info := b.objects[k].info
		info.Metadata, info.ContentType, info.HasMetadata = nil, "", false
		page.Objects = append(page.Objects, info)
		count++
		last = k
	}
	if page.IsTruncated {
		page.NextContinuationToken = last
	}
	return page, nil
}

func (s *Store) PutObject(ctx context.Context, bucketName, key string, body io.ReadSeeker, size int64, opts s3io.WriteOptions) (s3io.ObjectInfo, error) {
	data, err := io.ReadAll(io.LimitReader(body, size))
	if err != nil {
		return s3io.ObjectInfo{}, opErr("PutObject", bucketName, key, fmt.Errorf("%w: reading body: %v", s3io.ErrInvalidArgument, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked("PutObject", bucketName, key)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	if opts.IfNoneMatch == "*" && b.objects[key] != nil {
		return s3io.ObjectInfo{}, opErr("PutObject", bucketName, key, s3io.ErrPreconditionFailed)
	}
	return s.putLocked(b, key, data, opts, md5Hex(data)), nil
}

func (s *Store) CopyObject(ctx context.Context, src s3io.CopySource, bucketName, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.objectLocked("CopyObject", src.Bucket, src.Key, src.IfMatch)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	b, err := s.bucketLocked("CopyObject", bucketName, key)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	w := opts.WriteOptions
	if !opts.ReplaceMetadata {
		w.Metadata, w.ContentType = o.info.Metadata, o.info.ContentType
	}
	return s.putLocked(b, key, o.data, w, o.info.ETag), nil
}

func (s *Store) DeleteObject(ctx context.Context, bucketName, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked("DeleteObject", bucketName, key)
	if err != nil {
		return err
	}
	delete(b.objects, key)
	return nil
}
