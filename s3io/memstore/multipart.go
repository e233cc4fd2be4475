package memstore

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// minPartSize is S3's smallest size for every part but the last.
const minPartSize = 5 << 20

// maxPartNumber is S3's largest part number.
const maxPartNumber = 10000

type upload struct {
	key       string
	initiated time.Time
	opts      s3io.WriteOptions
	parts     map[int32]*part
}

type part struct {
	data []byte
	etag string
}

// CreateMultipartUpload starts an upload; the object's attributes come
// from opts and are applied when it completes.
func (s *Store) CreateMultipartUpload(ctx context.Context, bucketName, key string, opts s3io.WriteOptions) (string, error) {
	const op = "CreateMultipartUpload"
	if err := checkWrite(op, bucketName, key, opts); err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, op, bucketName, key)
	if err != nil {
		return "", err
	}
	s.seq++
	id := fmt.Sprintf("%s.%d", md5Hex([]byte(key))[:12], s.seq)
	opts.Metadata = lowerKeys(opts.Metadata)
	opts.SSEC = append(s3io.SSECustomerKey{}, opts.SSEC...)
	b.uploads[id] = &upload{key: key, initiated: now(), opts: opts, parts: map[int32]*part{}}
	return id, nil
}

// uploadLocked finds an upload; a missing or finished one is NoSuchUpload.
func (s *Store) uploadLocked(ctx context.Context, op string, up s3io.Upload) (*bucket, *upload, error) {
	b, err := s.bucketLocked(ctx, op, up.Bucket, up.Key)
	if err != nil {
		return nil, nil, err
	}
	u, ok := b.uploads[up.ID]
	if !ok || u.key != up.Key {
		return nil, nil, opErr(op, up.Bucket, up.Key, "NoSuchUpload", s3io.ErrNotFound)
	}
	return b, u, nil
}

// UploadPart stores one part; uploading a number again replaces the part.
func (s *Store) UploadPart(ctx context.Context, up s3io.Upload, number int32, body io.ReadSeeker, size int64) (s3io.Part, error) {
	const op = "UploadPart"
	if err := checkPartNumber(op, up, number); err != nil {
		return s3io.Part{}, err
	}
	data, err := readBody(body, size)
	if err != nil {
		return s3io.Part{}, &s3io.OpError{Op: op, Bucket: up.Bucket, Key: up.Key, Code: "IncompleteBody",
			Message: err.Error(), Err: s3io.ErrInvalidArgument}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, u, err := s.uploadLocked(ctx, op, up)
	if err != nil {
		return s3io.Part{}, err
	}
	if err := checkUploadSSEC(op, up, u); err != nil {
		return s3io.Part{}, err
	}
	p := &part{data: data, etag: md5Hex(data)}
	u.parts[number] = p
	return s3io.Part{Number: number, ETag: p.etag, Size: size}, nil
}

// UploadPartCopy makes a part from a byte range of an existing object.
func (s *Store) UploadPartCopy(ctx context.Context, up s3io.Upload, number int32, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	const op = "UploadPartCopy"
	if err := checkPartNumber(op, up, number); err != nil {
		return s3io.Part{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	so, err := s.readableLocked(ctx, op, src.Bucket, src.Key, src.IfMatch, src.SSEC)
	if err != nil {
		return s3io.Part{}, err
	}
	_, u, err := s.uploadLocked(ctx, op, up)
	if err != nil {
		return s3io.Part{}, err
	}
	if err := checkUploadSSEC(op, up, u); err != nil {
		return s3io.Part{}, err
	}
	if r.Off < 0 || r.Len <= 0 || r.Off+r.Len > int64(len(so.data)) {
		return s3io.Part{}, &s3io.OpError{Op: op, Bucket: up.Bucket, Key: up.Key, Code: "InvalidArgument",
			Message: fmt.Sprintf("range %d+%d outside a %d-byte source", r.Off, r.Len, len(so.data)), Err: s3io.ErrInvalidArgument}
	}
	data := clone(so.data[r.Off : r.Off+r.Len])
	p := &part{data: data, etag: md5Hex(data)}
	u.parts[number] = p
	return s3io.Part{Number: number, ETag: p.etag, Size: r.Len}, nil
}

// CompleteMultipartUpload assembles the listed parts, which must be in
// ascending order, match the uploaded ETags, and all but the last be at
// least 5 MiB. The ETag is the MD5 of the parts' MD5s, then "-" and the
// number of parts, as S3 makes it.
func (s *Store) CompleteMultipartUpload(ctx context.Context, up s3io.Upload, parts []s3io.Part) (s3io.ObjectInfo, error) {
	const op = "CompleteMultipartUpload"
	s.mu.Lock()
	defer s.mu.Unlock()
	b, u, err := s.uploadLocked(ctx, op, up)
	if err != nil {
		return s3io.ObjectInfo{}, err
	}
	fail := func(code, format string, args ...any) (s3io.ObjectInfo, error) {
		return s3io.ObjectInfo{}, &s3io.OpError{Op: op, Bucket: up.Bucket, Key: up.Key, Code: code,
			Message: fmt.Sprintf(format, args...), Err: s3io.ErrInvalidArgument}
	}
	if len(parts) == 0 {
		return fail("MalformedXML", "no parts")
	}
	var size int
	sums := md5.New()
	for i, p := range parts {
		got, ok := u.parts[p.Number]
		switch {
		case i > 0 && p.Number <= parts[i-1].Number:
			return fail("InvalidPartOrder", "part %d after part %d", p.Number, parts[i-1].Number)
		case !ok || unquote(p.ETag) != got.etag:
			return fail("InvalidPart", "part %d was not uploaded with ETag %s", p.Number, p.ETag)
		case i < len(parts)-1 && len(got.data) < minPartSize:
			return fail("EntityTooSmall", "part %d has %d bytes, less than 5 MiB", p.Number, len(got.data))
		}
		raw, _ := hex.DecodeString(got.etag)
		sums.Write(raw)
		size += len(got.data)
	}
	data := make([]byte, 0, size)
	for _, p := range parts {
		data = append(data, u.parts[p.Number].data...)
	}
	etag := fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(parts))
	o := newObject(data, etag, u.opts)
	b.put(up.Key, o)
	delete(b.uploads, up.ID)
	return o.info(up.Key, true), nil
}

// AbortMultipartUpload discards an upload; a missing one is NoSuchUpload.
func (s *Store) AbortMultipartUpload(ctx context.Context, up s3io.Upload) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, _, err := s.uploadLocked(ctx, "AbortMultipartUpload", up)
	if err != nil {
		return err
	}
	delete(b.uploads, up.ID)
	return nil
}

// ListMultipartUploads lists the incomplete uploads whose keys start with
// prefix, by key and then by start time, as S3 does.
func (s *Store) ListMultipartUploads(ctx context.Context, bucketName, prefix string) ([]s3io.Upload, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.bucketLocked(ctx, "ListMultipartUploads", bucketName, prefix)
	if err != nil {
		return nil, err
	}
	var out []s3io.Upload
	for id, u := range b.uploads {
		if strings.HasPrefix(u.key, prefix) {
			out = append(out, s3io.Upload{Bucket: bucketName, Key: u.key, ID: id, Initiated: u.initiated})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if !a.Initiated.Equal(b.Initiated) {
			return a.Initiated.Before(b.Initiated)
		}
		return a.ID < b.ID
	})
	return out, nil
}

func checkPartNumber(op string, up s3io.Upload, number int32) error {
	if number < 1 || number > maxPartNumber {
		return &s3io.OpError{Op: op, Bucket: up.Bucket, Key: up.Key, Code: "InvalidArgument",
			Message: fmt.Sprintf("part number %d outside 1..%d", number, maxPartNumber), Err: s3io.ErrInvalidArgument}
	}
	return nil
}

// checkUploadSSEC requires the parts of an SSE-C upload to carry its key.
func checkUploadSSEC(op string, up s3io.Upload, u *upload) error {
	if string(up.SSEC) != string(u.opts.SSEC) {
		return opErr(op, up.Bucket, up.Key, "InvalidRequest", s3io.ErrInvalidArgument)
	}
	return nil
}
