package awsstore

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/s3io"
)

// HeadObject returns the object's attributes and user metadata (names
// lower-cased): lean when it can (see leanHTTP and lean_head.go), else, or
// when the lean one was answered otherwise than 200 or 404, through the SDK.
func (s *Store) HeadObject(ctx context.Context, bucket, key string, opts s3io.ReadOptions) (s3io.ObjectInfo, error) {
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(quoteETag(opts.IfMatch))
	}
	if len(opts.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(opts.SSEC)
	}
	var optFns []func(*s3.Options)
	if s.lean != nil {
		info, how, err := s.lean.head(ctx, bucket, key, opts)
		if how == leanServed {
			return info, err
		}
		ctx, optFns = s.afterLean(ctx, how)
	}
	out, err := s.client.HeadObject(ctx, in, optFns...)
	if err != nil {
		return s3io.ObjectInfo{}, ssecKeyError(headError(mapError(ctx, "HeadObject", bucket, key, err)), opts.SSEC)
	}
	return s3io.ObjectInfo{
		Key:          key,
		Size:         aws.ToInt64(out.ContentLength),
		ETag:         unquoteETag(aws.ToString(out.ETag)),
		ModTime:      aws.ToTime(out.LastModified),
		StorageClass: storageClass(string(out.StorageClass)),
		ContentType:  aws.ToString(out.ContentType),
		VersionID:    aws.ToString(out.VersionId),
		Metadata:     lowerKeys(out.Metadata),
		SSE:          string(out.ServerSideEncryption),
		SSEKMSKeyID:  aws.ToString(out.SSEKMSKeyId),
		HasMetadata:  true,
	}, nil
}

// ReadRange fills p from off with one ranged GET. When the body breaks in
// the middle, it asks again for what is missing, with If-Match on the ETag
// of the first answer, so bytes of two versions are never mixed: if the
// object changed in between, the read fails with ErrPreconditionFailed. It
// gives up after MaxAttempts broken bodies. (The SDK retries failed
// requests itself, but not bodies that break after the headers.)
func (s *Store) ReadRange(ctx context.Context, bucket, key string, off int64, p []byte, opts s3io.ReadOptions) (int, error) {
	const op = "GetObject"
	if off < 0 {
		return 0, &s3io.OpError{Op: op, Bucket: bucket, Key: key, Message: fmt.Sprintf("negative offset %d", off),
			Err: s3io.ErrInvalidArgument}
	}
	ifMatch := opts.IfMatch
	n, broken := 0, 0
	for n < len(p) {
		r, err := s.getRange(ctx, bucket, key, off+int64(n), p[n:], ifMatch, opts.SSEC, filledFrom(opts.Filled, n))
		n += r.n
		if err != nil {
			return n, err
		}
		if ifMatch == "" {
			// Pin the version for any further request.
			ifMatch = r.etag
		}
		switch {
		case r.bodyErr == nil && !r.more:
			return n, nil // done, or the object ended
		case r.bodyErr == nil:
			continue // the server sent less than asked; ask for the rest
		case ctx.Err() != nil:
			return n, mapError(ctx, op, bucket, key, r.bodyErr)
		case ifMatch == "":
			// Without an ETag a second request could read another version.
			return n, withMessage(mapError(ctx, op, bucket, key, r.bodyErr), "body broken and no ETag to resume it safely")
		}
		if broken++; broken >= s.maxAttempts {
			return n, withMessage(mapError(ctx, op, bucket, key, r.bodyErr), fmt.Sprintf("body broken %d times", broken))
		}
		s.log.DebugContext(ctx, "GET body broken; resuming", "bucket", bucket, "key", key,
			"offset", off+int64(n), "err", transportMessage(r.bodyErr))
	}
	return n, nil
}

// rangeResult is what one ranged GET delivered.
type rangeResult struct {
	n       int
	etag    string
	bodyErr error // the body broke after n bytes
	more    bool  // the server sent less than asked, and the object goes on
}

// getRange does one ranged GET into p. err is the request's failure,
// already mapped. A range at or past the end of the object reads nothing
// and is no error.
func (s *Store) getRange(ctx context.Context, bucket, key string, off int64, p []byte, ifMatch string,
	sseKey s3io.SSECustomerKey, filled func(int)) (rangeResult, error) {
	rng := "bytes=" + strconv.FormatInt(off, 10) + "-" + strconv.FormatInt(off+int64(len(p))-1, 10)
	out, err := s.getObject(ctx, bucket, key, rng, ifMatch, sseKey)
	if err != nil {
		return rangeResult{}, err
	}
	if out.pastEnd {
		return rangeResult{}, nil
	}
	defer out.body.Close()
	r := rangeResult{etag: unquoteETag(out.etag)}

	want := len(p)
	lengthKnown := true
	if start, end, total, ok := parseContentRange(out.contentRange); ok {
		if start != off {
			return r, &s3io.OpError{Op: "GetObject", Bucket: bucket, Key: key, Err: s3io.ErrServer,
				Message: fmt.Sprintf("asked for bytes from %d, got %s", off, out.contentRange)}
		}
		want = int(min(end-start+1, int64(want)))
		r.more = want < len(p) && (total < 0 || end+1 < total)
	} else {
		// A 200 with the whole object: the server ignored Range. Skip to
		// off; the object ends where the body does.
		size := int64(-1)
		if out.contentLength != nil {
			size = *out.contentLength
		}
		if size >= 0 && off >= size {
			return r, nil
		}
		if _, err := io.CopyN(io.Discard, out.body, off); err != nil {
			r.bodyErr = err
			return r, nil
		}
		if size >= 0 {
			want = int(min(size-off, int64(want)))
		} else {
			lengthKnown = false
		}
	}
	r.n, r.bodyErr = readFull(out.body, p[:want], filled)
	if !lengthKnown && (r.bodyErr == io.EOF || r.bodyErr == io.ErrUnexpectedEOF) {
		r.bodyErr = nil // without a length, the end of the body is the end of the object
	}
	return r, nil
}

// getObject sends one ranged GET: lean when it can (see leanHTTP), else,
// or when the lean one did not succeed, through the SDK.
func (s *Store) getObject(ctx context.Context, bucket, key, rng, ifMatch string, sseKey s3io.SSECustomerKey) (getAnswer, error) {
	var optFns []func(*s3.Options)
	if s.lean != nil {
		a, how := s.lean.get(ctx, bucket, key, rng, ifMatch, sseKey)
		if how == leanServed {
			return a, nil
		}
		ctx, optFns = s.afterLean(ctx, how)
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String(rng)}
	if ifMatch != "" {
		in.IfMatch = aws.String(quoteETag(ifMatch))
	}
	if len(sseKey) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(sseKey)
	}
	out, err := s.client.GetObject(ctx, in, optFns...)
	if err != nil {
		if httpStatus(err) == http.StatusRequestedRangeNotSatisfiable {
			return getAnswer{pastEnd: true}, nil
		}
		return getAnswer{}, ssecKeyError(mapError(ctx, "GetObject", bucket, key, err), sseKey)
	}
	return getAnswer{etag: aws.ToString(out.ETag), contentRange: aws.ToString(out.ContentRange),
		contentLength: out.ContentLength, body: out.Body}, nil
}

// filledFrom turns ReadOptions.Filled into the hook of a request that
// fills p from byte base on (nil without one).
func filledFrom(filled func(int), base int) func(int) {
	if filled == nil {
		return nil
	}
	return func(n int) { filled(base + n) }
}

// filledRead caps each read of a body whose bytes the caller works on as
// they arrive (ReadOptions.Filled), so that they are still in the CPU's L2
// cache when it does: a read from a fast socket returns up to several MiB.
// (Checksumming a block's chunks this way cost 60 ms per GiB, against 100
// to 160 ms after uncapped reads.)
const filledRead = 256 << 10

// readFull is io.ReadFull, telling filled (when set) how much of p is in
// after each read of the body.
func readFull(body io.Reader, p []byte, filled func(int)) (int, error) {
	if filled == nil {
		return io.ReadFull(body, p)
	}
	n := 0
	for n < len(p) {
		m, err := body.Read(p[n:min(n+filledRead, len(p))])
		n += m
		if m > 0 {
			filled(n)
		}
		if err != nil {
			if n == len(p) {
				return n, nil
			}
			if err == io.EOF && n > 0 {
				err = io.ErrUnexpectedEOF
			}
			return n, err
		}
	}
	return n, nil
}

// parseContentRange reads "bytes START-END/TOTAL"; total is -1 for "*".
func parseContentRange(v string) (start, end, total int64, ok bool) {
	rest, found := strings.CutPrefix(v, "bytes ")
	if !found {
		return 0, 0, 0, false
	}
	rng, size, _ := strings.Cut(rest, "/")
	a, b, found := strings.Cut(rng, "-")
	if !found {
		return 0, 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	end, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || end < start {
		return 0, 0, 0, false
	}
	total = -1
	if t, err := strconv.ParseInt(size, 10, 64); err == nil {
		total = t
	}
	return start, end, total, true
}

// storageClass names S3's default, which HEAD leaves out.
func storageClass(c string) string {
	if c == "" {
		return "STANDARD"
	}
	return c
}
