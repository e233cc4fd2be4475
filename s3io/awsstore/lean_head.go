package awsstore

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/smithy-go/time"

	"github.com/s3mount/s3mount/s3io"
)

// Lookups are a HEAD each (and a one-key listing): through the SDK a HEAD
// cost about 460 allocations and 37 KB (BenchmarkRequestCost, the test
// server's share included), garbage that a stat of a million files makes
// the collector mark against a heap of a million held inodes.

// head sends one HeadObject. It answers for itself a 200 (the attributes,
// read from the headers as the SDK reads them) and a 404 (the error the
// SDK's answer maps to: HEAD has no body to say more); any other answer
// goes to the SDK, as a lean GET's does.
func (l *leanHTTP) head(ctx context.Context, bucket, key string, opts s3io.ReadOptions) (s3io.ObjectInfo, leanResult, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, "", nil)
	if err != nil {
		return s3io.ObjectInfo{}, leanNotSent, nil
	}
	req.URL = l.url(bucket, key)
	req.Host = req.URL.Host
	h := req.Header
	h.Set("Accept-Encoding", "identity")
	if opts.IfMatch != "" {
		h.Set("If-Match", quoteETag(opts.IfMatch))
	}
	if len(opts.SSEC) > 0 {
		alg, k, sum := ssec(opts.SSEC)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", *alg)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key", *k)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", *sum)
	}
	resp, d, err := l.send(ctx, req, emptySHA256)
	if errors.Is(err, errNotSent) {
		return s3io.ObjectInfo{}, leanNotSent, nil
	}
	if err != nil {
		l.log.DebugContext(ctx, "lean HEAD failed; sending it through the SDK", "bucket", bucket, "key", key,
			"err", transportMessage(err))
		l.failedOp("HeadObject", 0, 0, d)
		return s3io.ObjectInfo{}, leanFailed, nil
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		if info, ok := headInfo(key, resp.Header); ok {
			l.served(ctx, "HeadObject", bucket, key, "", resp, 0, d)
			return info, leanServed, nil
		}
		// A header the SDK would refuse: it says so.
	case http.StatusNotFound:
		l.answered(ctx, "HeadObject", bucket, key, "", resp, 0, d, true)
		return s3io.ObjectInfo{}, leanServed, &s3io.OpError{Op: "HeadObject", Bucket: bucket, Key: key, Code: "NotFound",
			Err: s3io.ErrNotFound}
	}
	l.log.DebugContext(ctx, "lean HEAD answered an error; sending it through the SDK", "bucket", bucket,
		"key", key, "status", resp.StatusCode)
	l.answered(ctx, "HeadObject", bucket, key, "", resp, 0, d, true)
	return s3io.ObjectInfo{}, leanFailed, nil
}

// headInfo reads a HeadObject's answer as the SDK's deserializer does (and
// HeadObject then converts it): false when a header would make the SDK
// fail (a length or a date it cannot parse).
func headInfo(key string, h http.Header) (s3io.ObjectInfo, bool) {
	info := s3io.ObjectInfo{
		Key:          key,
		ETag:         unquoteETag(h.Get("ETag")),
		StorageClass: storageClass(h.Get("X-Amz-Storage-Class")),
		ContentType:  h.Get("Content-Type"),
		VersionID:    h.Get("X-Amz-Version-Id"),
		SSE:          h.Get("X-Amz-Server-Side-Encryption"),
		SSEKMSKeyID:  h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"),
		HasMetadata:  true,
	}
	if v := h.Get("Content-Length"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return info, false
		}
		info.Size = n
	}
	if v := h.Get("Last-Modified"); v != "" {
		t, err := time.ParseHTTPDate(v)
		if err != nil {
			return info, false
		}
		info.ModTime = t
	}
	const meta = "X-Amz-Meta-"
	for name, values := range h {
		if len(name) >= len(meta) && strings.EqualFold(name[:len(meta)], meta) && len(values) > 0 {
			if info.Metadata == nil {
				info.Metadata = map[string]string{}
			}
			info.Metadata[strings.ToLower(name[len(meta):])] = strings.TrimSpace(values[0])
		}
	}
	return info, true
}
