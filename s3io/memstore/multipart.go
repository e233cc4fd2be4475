package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strconv"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

type upload struct {
	bucket, key string
	opts        s3io.WriteOptions
	initiated   time.Time
	parts       map[int32][]byte
}

func (s *Store) CreateMultipartUpload(ctx context.Context, bucketName, key string, opts s3io.WriteOptions) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bucketLocked("CreateMultipartUpload", bucketName, key); err != nil {
		return "", err
	}
	s.nextID++
	id := "upload-" + strconv.Itoa(s.nextID)
	s.uploads[id] = &upload{bucket: bucketName, key: key, opts: opts, initiated: time.Now(), parts: map[int32][]byte{}}
	return id, nil
}

func (s *Store) uploadLocked(op string, up s3io.Upload) (*upload, error) {
	u := s.uploads[up.ID]
	if u == nil || u.bucket != up.Bucket || u.key != up.Key {
		return nil, opErr(op, up.Bucket, up.Key, s3io.ErrNotFound)
	}
	return u, nil
}

func (s *Store) UploadPart(ctx context.Context, up s3io.Upload, part int32, body io.ReadSeeker, size int64) (s3io.Part, error) {
	data, err := io.ReadAll(io.LimitReader(body, size))
	if err != nil {
		return s3io.Part{}, opErr("UploadPart", up.Bucket, up.Key, fmt.Errorf("%w: %v", s3io.ErrInvalidArgument, err))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.uploadLocked("UploadPart", up)
	if err != nil {
		return s3io.Part{}, err
	}
	u.parts[part] = data
	return s3io.Part{Number: part, ETag: md5Hex(data), Size: int64(len(data))}, nil
}

func (s *Store) UploadPartCopy(ctx context.Context, up s3io.Upload, part int32, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.objectLocked("UploadPartCopy", src.Bucket, src.Key, src.IfMatch)
	if err != nil {
		return s3io.Part{}, err
	}
	if r.Off < 0 || r.Len <= 0 || r.Off+r.Len > int64(len(o.data)) {
		return s3io.Part{}, opErr("UploadPartCopy", up.Bucket, up.Key, s3io.ErrInvalidArgument)
	}
	u, err := s.uploadLocked("UploadPartCopy", up)
	if err != nil {
		return s3io.Part{}, err
	}
	data := append([]byte(nil), o.data[r.Off:r.Off+r.Len]...)
	u.parts[part] = data
	return s3io.Part{Number: part, ETag: md5Hex(data), Size: r.Len}, nil
}

func (s *Store) CompleteMultipartUpload(ctx context.Context, up s3io.Upload, parts []s3io.Part) (s3io.ObjectInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, err := s.uploadLocked("CompleteMultipartUpload", up)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	var data []byte
	sums := md5.New()
	for i, p := range parts {
		b, ok := u.parts[p.Number]
		if !ok || md5Hex(b) != p.ETag || (i > 0 && parts[i-1].Number >= p.Number) {
			return s3io.ObjectInfo{}, opErr("CompleteMultipartUpload", up.Bucket, up.Key, s3io.ErrInvalidArgument)
		}
		if i < len(parts)-1 && len(b) < minPartSize {
			return s3io.ObjectInfo{}, opErr("CompleteMultipartUpload", up.Bucket, up.Key, s3io.ErrTooLarge)
		}
		h := md5.Sum(b)
		sums.Write(h[:])
		data = append(data, b...)
	}
	b, err := s.bucketLocked("CompleteMultipartUpload", up.Bucket, up.Key)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	delete(s.uploads, up.ID)
	etag := hex.EncodeToString(sums.Sum(nil)) + "-" + strconv.Itoa(len(parts))
	return s.putLocked(b, up.Key, data, u.opts, etag), nil
}

func (s *Store) AbortMultipartUpload(ctx context.Context, up s3io.Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.uploadLocked("AbortMultipartUpload", up); err != nil {
		return err
	}
	delete(s.uploads, up.ID)
	return nil
}

func (s *Store) ListMultipartUploads(ctx context.Context, bucketName, prefix string) ([]s3io.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.bucketLocked("ListMultipartUploads", bucketName, prefix); err != nil {
		return nil, err
	}
	var out []s3io.Upload
	for id, u := range s.uploads {
		if u.bucket == bucketName && len(u.key) >= len(prefix) && u.key[:len(prefix)] == prefix {
			out = append(out, s3io.Upload{Bucket: u.bucket, Key: u.key, ID: id, Initiated: u.initiated})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Key < out[j].Key || out[i].Key == out[j].Key && out[i].ID < out[j].ID
	})
	return out, nil
}
