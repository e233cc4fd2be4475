package awsstore

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// putAnswer is what a PutObject answered, through either path.
type putAnswer struct {
	etag, versionID, sse, ssecAlg, kmsKeyID string
}

// put sends one PutObject as the SDK does with Content-MD5 (the default:
// the body goes as UNSIGNED-PAYLOAD, see doc.go); other uploads, and any
// answer but 200, go through the SDK (see leanHTTP).
func (l *leanHTTP) put(ctx context.Context, bucket, key string, body io.Reader, size int64, md5 string,
	opts s3io.WriteOptions) (putAnswer, leanResult) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, "", io.NopCloser(body))
	if err != nil {
		return putAnswer{}, leanNotSent
	}
	req.URL = l.url(bucket, key)
	req.Host = req.URL.Host
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	h := req.Header
	h.Set("Content-Md5", md5)
	a := attrsOf(opts)
	contentType := "application/octet-stream" // what the SDK sends for a body without one
	if a.contentType != nil {
		contentType = *a.contentType
	}
	h.Set("Content-Type", contentType)
	for k, v := range opts.Metadata {
		h.Set("X-Amz-Meta-"+http.CanonicalHeaderKey(k), v)
	}
	if a.storageClass != "" {
		h.Set("X-Amz-Storage-Class", string(a.storageClass))
	}
	if a.acl != "" {
		h.Set("X-Amz-Acl", string(a.acl))
	}
	if a.sse != "" {
		h.Set("X-Amz-Server-Side-Encryption", string(a.sse))
	}
	if a.kmsKeyID != nil {
		h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", *a.kmsKeyID)
	}
	if a.ssecAlg != nil {
		h.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", *a.ssecAlg)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key", *a.ssecKey)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", *a.ssecMD5)
	}
	if opts.IfNoneMatch != "" {
		h.Set("If-None-Match", opts.IfNoneMatch)
	}
	h.Set("Accept-Encoding", "identity") // as the SDK asks
	resp, d, err := l.send(ctx, req, "UNSIGNED-PAYLOAD")
	if errors.Is(err, errNotSent) {
		return putAnswer{}, leanNotSent
	}
	status := 0
	if err == nil {
		status = resp.StatusCode
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	if status != http.StatusOK {
		l.log.DebugContext(ctx, "lean PUT did not succeed; sending it through the SDK", "bucket", bucket,
			"key", key, "status", status)
		if resp != nil {
			l.answered(ctx, "PutObject", bucket, key, "", resp, size, d, true)
		} else {
			l.failedOp("PutObject", status, size, d)
		}
		return putAnswer{}, leanFailed
	}
	l.served(ctx, "PutObject", bucket, key, "", resp, size, d)
	rh := resp.Header
	return putAnswer{etag: rh.Get("ETag"), versionID: rh.Get("X-Amz-Version-Id"),
		sse: rh.Get("X-Amz-Server-Side-Encryption"), ssecAlg: rh.Get("X-Amz-Server-Side-Encryption-Customer-Algorithm"),
		kmsKeyID: rh.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")}, leanServed
}

// putObject sends one PutObject: lean when it can, else through the SDK.
func (s *Store) putObject(ctx context.Context, bucket, key string, body io.ReadSeeker, size int64, md5 string,
	opts s3io.WriteOptions) (putAnswer, error) {
	var optFns []func(*s3.Options)
	if s.lean != nil && md5 != "" {
		start, err := body.Seek(0, io.SeekCurrent)
		if err != nil {
			return putAnswer{}, bodyError("PutObject", bucket, key, err)
		}
		a, how := s.lean.put(ctx, bucket, key, body, size, md5, opts)
		switch how {
		case leanServed:
			return a, nil
		case leanFailed:
			// The SDK sends the whole body again, as its own retries do.
			if _, err := body.Seek(start, io.SeekStart); err != nil {
				return putAnswer{}, bodyError("PutObject", bucket, key, err)
			}
		}
		ctx, optFns = s.afterLean(ctx, how)
	}
	in := putInput(bucket, key, body, size, opts)
	if md5 != "" {
		in.ContentMD5 = aws.String(md5)
	}
	out, err := s.client.PutObject(ctx, in, append(md5Signing(md5 != ""), optFns...)...)
	if err != nil {
		return putAnswer{}, mapError(ctx, "PutObject", bucket, key, err)
	}
	return putAnswer{etag: aws.ToString(out.ETag), versionID: aws.ToString(out.VersionId), sse: string(out.ServerSideEncryption),
		ssecAlg: aws.ToString(out.SSECustomerAlgorithm), kmsKeyID: aws.ToString(out.SSEKMSKeyId)}, nil
}

// sseOf is an answer's encryption as verifyEncryption takes it.
func (a putAnswer) sseOf() (types.ServerSideEncryption, *string) {
	var alg *string
	if a.ssecAlg != "" {
		alg = aws.String(a.ssecAlg)
	}
	return types.ServerSideEncryption(a.sse), alg
}
