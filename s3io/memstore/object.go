package memstore

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// HeadObject returns the object's attributes and user metadata.
func (s *Store) HeadObject(ctx context.Context, bucketName, key string, opts s3io.ReadOptions) (s3io.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.readableLocked(ctx, "HeadObject", bucketName, key, opts.IfMatch, opts.SSEC)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	return o.info(key, true), nil
}

// ReadRange copies the object's bytes from off into p; reads at or past
// the end return 0 and no error, as a 416 from S3 is read by awsstore.
func (s *Store) ReadRange(ctx context.Context, bucketName, key string, off int64, p []byte, opts s3io.ReadOptions) (int, error) {
	if off < 0 {
		return 0, opErr("GetObject", bucketName, key, "InvalidRange", s3io.ErrInvalidArgument)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.readableLocked(ctx, "GetObject", bucketName, key, opts.IfMatch, opts.SSEC)
	if err != nil {
		return 0, err
	}
	if off >= int64(len(o.data)) {
		return 0, nil
	}
	n := copy(p, o.data[off:])
	if opts.Filled != nil {
		opts.Filled(n)
	}
	return n, nil
}

// readableLocked finds an object and applies the checks S3 makes before
// serving it: If-Match, then the SSE-C key.
func (s *Store) readableLocked(ctx context.Context, op, bucketName, key, ifMatch string, ssec s3io.SSECustomerKey) (*object, error) {
	b, err := s.bucketLocked(ctx, op, bucketName, key)
	if err != nil {
		return nil, err
	}
	o, ok := b.objects[key]
	if !ok {
		return nil, opErr(op, bucketName, key, "NoSuchKey", s3io.ErrNotFound)
	}
	if ifMatch != "" && unquote(ifMatch) != o.etag {
		return nil, opErr(op, bucketName, key, "PreconditionFailed", s3io.ErrPreconditionFailed)
	}
	switch {
	case o.ssecMD5 == "" && len(ssec) > 0:
		return nil, opErr(op, bucketName, key, "InvalidRequest", s3io.ErrSSECKey)
	case o.ssecMD5 != "" && len(ssec) == 0:
		return nil, opErr(op, bucketName, key, "InvalidRequest", s3io.ErrSSECKey)
	case o.ssecMD5 != "" && md5Hex(ssec) != o.ssecMD5:
		return nil, opErr(op, bucketName, key, "AccessDenied", s3io.ErrAccessDenied) // as MinIO answers
	}
	return o, nil
}

// PutObject stores size bytes read from body.
func (s *Store) PutObject(ctx context.Context, bucketName, key string, body io.ReadSeeker, size int64, opts s3io.WriteOptions) (s3io.ObjectInfo, error) {
	// Read before locking: the body may be slow, and other calls must not
	// wait for it.
	data, err := readBody(body, size)
	if err != nil {
		return s3io.ObjectInfo{}, &s3io.OpError{Op: "PutObject", Bucket: bucketName, Key: key, Code: "IncompleteBody",
			Message: err.Error(), Err: s3io.ErrInvalidArgument}
	}
	if err := checkWrite("PutObject", bucketName, key, opts); err != nil {
		return s3io.ObjectInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, "PutObject", bucketName, key)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	if _, exists := b.objects[key]; exists && opts.IfNoneMatch == "*" {
		return s3io.ObjectInfo{}, opErr("PutObject", bucketName, key, "PreconditionFailed", s3io.ErrPreconditionFailed)
	}
	o := newObject(data, md5Hex(data), opts)
	b.put(key, o)
	return o.info(key, true), nil
}

// CopyObject copies src to bucketName/key, with the source's metadata or,
// with ReplaceMetadata, opts'.
func (s *Store) CopyObject(ctx context.Context, src s3io.CopySource, bucketName, key string, opts s3io.CopyOptions) (s3io.ObjectInfo, error) {
	const op = "CopyObject"
	if err := checkWrite(op, bucketName, key, opts.WriteOptions); err != nil {
		return s3io.ObjectInfo{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.readableLocked(ctx, op, src.Bucket, src.Key, src.IfMatch, src.SSEC)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	b, err := s.bucketLocked(ctx, op, bucketName, key)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	changes := opts.ReplaceMetadata || opts.StorageClass != "" || opts.SSE != "" || len(opts.SSEC) > 0
	if src.Bucket == bucketName && src.Key == key && !changes {
		return s3io.ObjectInfo{}, &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidRequest",
			Message: "copying an object to itself without changing it", Err: s3io.ErrInvalidArgument}
	}
	w := opts.WriteOptions
	if !opts.ReplaceMetadata {
		w.Metadata, w.ContentType = so.meta, so.contentType
	}
	data := clone(so.data)
	o := newObject(data, md5Hex(data), w)
	o.tags = so.tags // S3's default tagging directive is COPY; tag sets are never modified in place
	b.put(key, o)
	return o.info(key, true), nil
}

// DeleteObject removes a key; a missing key is not an error.
func (s *Store) DeleteObject(ctx context.Context, bucketName, key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, "DeleteObject", bucketName, key)
	if err != nil {
		return err
	}
	b.remove(key)
	return nil
}

func newObject(data []byte, etag string, opts s3io.WriteOptions) *object {
	o := &object{
		data:         data,
		etag:         etag,
		modTime:      now(),
		contentType:  opts.ContentType,
		storageClass: opts.StorageClass,
		meta:         lowerKeys(opts.Metadata),
		sse:          opts.SSE,
		sseKMSKeyID:  opts.SSEKMSKeyID,
		acl:          opts.ACL,
	}
	if o.contentType == "" {
		o.contentType = "binary/octet-stream" // S3's default
	}
	if o.acl == "" {
		o.acl = "private"
	}
	if len(opts.SSEC) > 0 {
		o.ssecMD5 = md5Hex(opts.SSEC)
	}
	return o
}

// readBody reads exactly size bytes from the start of body.
func readBody(body io.ReadSeeker, size int64) ([]byte, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative size %d", size)
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	data := make([]byte, size)
	if _, err := io.ReadFull(body, data); err != nil {
		return nil, fmt.Errorf("body shorter than %d bytes: %w", size, err)
	}
	return data, nil
}

// checkWrite applies checkSSEC and checks the canned ACL of a new object.
func checkWrite(op, bucketName, key string, opts s3io.WriteOptions) error {
	if opts.ACL != "" {
		if err := checkCanned(op, bucketName, key, objectACLs, opts.ACL); err != nil {
			return err
		}
	}
	return checkSSEC(op, bucketName, key, opts.SSEC)
}

// checkSSEC rejects an SSE-C key that is not 256 bits, as S3 does.
func checkSSEC(op, bucketName, key string, k s3io.SSECustomerKey) error {
	if len(k) != 0 && len(k) != 32 {
		return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidArgument",
			Message: fmt.Sprintf("SSE-C key of %d bytes, want 32", len(k)), Err: s3io.ErrInvalidArgument}
	}
	return nil
}

func unquote(etag string) string { return strings.Trim(etag, `"`) }
