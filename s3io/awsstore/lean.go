package awsstore

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/s3mount/s3mount/s3io"
)

// leanHTTP sends file reads' ranged GETs (and, in lean_put.go,
// Content-MD5 PutObjects) straight over HTTP, signed by the SDK's signer,
// without the SDK's middleware stack: a 16 KiB GET took 551 allocations
// through it against about 200 lean, the test server's included
// (BenchmarkRequestCost), and `cat` of 1,082 small files cost the daemon
// 290-330 ms of CPU lean against 510-560. It serves only what it can serve
// exactly as the SDK would: path-style requests to a configured endpoint,
// answered with success. Anything else (an error status, a transport
// failure) is sent again through the SDK, whose retries, error mapping
// and re-signing with renewed keys then apply, so a lean request never
// answers differently from the SDK, at worst later.
type leanHTTP struct {
	base    *url.URL // the endpoint, its path included
	region  string
	creds   aws.CredentialsProvider
	signer  *v4.Signer
	client  *http.Client
	log     *slog.Logger
	observe s3io.AttemptObserver
}

// emptySHA256 is the payload hash of a request without a body.
const emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// newLeanHTTP returns nil when requests must go through the SDK: no
// endpoint (AWS's own, whose addressing the SDK's rules decide), virtual
// hosted addressing, or unsigned requests.
func newLeanHTTP(cfg Config, region string, creds aws.CredentialsProvider, client *http.Client, log *slog.Logger) *leanHTTP {
	if cfg.Endpoint == "" || !cfg.ForcePathStyle || creds == nil || cfg.NoSignRequest {
		return nil
	}
	base, err := url.Parse(strings.TrimSuffix(cfg.Endpoint, "/"))
	if err != nil {
		return nil
	}
	return &leanHTTP{base: base, region: region, creds: creds, signer: v4.NewSigner(func(o *v4.SignerOptions) {
		o.DisableURIPathEscaping = true // S3 signs the path as sent, as the SDK's S3 client does
	}), client: client, log: log, observe: cfg.Observe}
}

// getAnswer is what a ranged GET answered, through either path.
type getAnswer struct {
	etag, contentRange string
	contentLength      *int64
	body               io.ReadCloser
	pastEnd            bool // 416: the range starts at or past the end
}

// url is the path-style URL of bucket/key under the endpoint, escaped as
// the SDK escapes it.
func (l *leanHTTP) url(bucket, key string) *url.URL {
	u := l.bucketURL(bucket)
	u.Path += "/" + key
	u.RawPath += "/" + httpbinding.EscapePath(key, false)
	return u
}

// bucketURL is the path-style URL of bucket under the endpoint, as the SDK
// builds it for bucket operations (no trailing slash).
func (l *leanHTTP) bucketURL(bucket string) *url.URL {
	u := *l.base
	u.Path = l.base.Path + "/" + bucket
	u.RawPath = l.base.EscapedPath() + "/" + httpbinding.EscapePath(bucket, true)
	return &u
}

// leanTriedKey marks the context of an SDK call that follows a lean
// attempt that failed (afterLeanAttempt).
type leanTriedKey struct{}

// afterLean is ctx and options for the SDK's sending of a request whose
// lean attempt went as how: after a failed one, that attempt was the
// first of the request's, so the SDK has one fewer, and its are logged
// and observed from the second on.
func (s *Store) afterLean(ctx context.Context, how leanResult) (context.Context, []func(*s3.Options)) {
	if how != leanFailed {
		return ctx, nil
	}
	return context.WithValue(ctx, leanTriedKey{}, true), []func(*s3.Options){withAttempts(max(1, s.maxAttempts-1))}
}

// errNotSent: the request could not be signed (no keys to be had); the
// SDK sends it and says why.
var errNotSent = errors.New("not signed")

// send signs req with payloadHash as its body's hash and sends it,
// returning how long the answer's headers took.
func (l *leanHTTP) send(ctx context.Context, req *http.Request, payloadHash string) (*http.Response, time.Duration, error) {
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)
	creds, err := l.creds.Retrieve(ctx)
	if err != nil {
		return nil, 0, errNotSent
	}
	if err := l.signer.SignHTTP(ctx, creds, req, payloadHash, "s3", l.region, time.Now().UTC()); err != nil {
		return nil, 0, errNotSent
	}
	start := time.Now()
	resp, err := l.client.Do(req)
	return resp, time.Since(start), err
}

// leanResult is how a lean GET went.
type leanResult int

const (
	leanServed  leanResult = iota
	leanNotSent            // the SDK sends it, every attempt its own
	leanFailed             // sent and failed: the SDK sends it again, this attempt counted
)

// get sends one ranged GET.
func (l *leanHTTP) get(ctx context.Context, bucket, key, rng, ifMatch string, sseKey s3io.SSECustomerKey) (getAnswer, leanResult) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "", nil)
	if err != nil {
		return getAnswer{}, leanNotSent
	}
	req.URL = l.url(bucket, key)
	req.Host = req.URL.Host
	h := req.Header
	h.Set("Range", rng)
	// Go's transport would otherwise ask for gzip and undo it, losing the
	// length; the SDK asks for the bytes as stored too.
	h.Set("Accept-Encoding", "identity")
	if ifMatch != "" {
		h.Set("If-Match", quoteETag(ifMatch))
	}
	if len(sseKey) > 0 {
		alg, k, sum := ssec(sseKey)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Algorithm", *alg)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key", *k)
		h.Set("X-Amz-Server-Side-Encryption-Customer-Key-Md5", *sum)
	}
	resp, d, err := l.send(ctx, req, emptySHA256)
	if errors.Is(err, errNotSent) {
		return getAnswer{}, leanNotSent
	}
	if err != nil {
		l.log.DebugContext(ctx, "lean GET failed; sending it through the SDK", "bucket", bucket, "key", key,
			"err", transportMessage(err))
		l.failedOp("GetObject", 0, 0, d)
		return getAnswer{}, leanFailed
	}
	if resp.StatusCode == http.StatusRequestedRangeNotSatisfiable {
		// At or past the end of the object: nothing to read, no error.
		resp.Body.Close()
		l.served(ctx, "GetObject", bucket, key, rng, resp, 0, d)
		return getAnswer{pastEnd: true}, leanServed
	}
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusPartialContent {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		l.log.DebugContext(ctx, "lean GET answered an error; sending it through the SDK", "bucket", bucket,
			"key", key, "status", resp.StatusCode)
		l.answered(ctx, "GetObject", bucket, key, rng, resp, 0, d, true)
		return getAnswer{}, leanFailed
	}
	l.served(ctx, "GetObject", bucket, key, rng, resp, 0, d)
	a := getAnswer{etag: resp.Header.Get("ETag"), contentRange: resp.Header.Get("Content-Range"), body: resp.Body}
	if v := resp.Header.Get("Content-Length"); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			a.contentLength = &n
		}
	}
	return a, leanServed
}

// served tells the metrics and the debug log of a lean request that
// succeeded, as requestLogging tells of the SDK's attempts.
func (l *leanHTTP) served(ctx context.Context, op, bucket, key, rng string, resp *http.Response, sent int64, d time.Duration) {
	l.answered(ctx, op, bucket, key, rng, resp, sent, d, false)
}

// answered is served for any answer, an error status (failed) among them:
// one debug line for each attempt, as the SDK's have.
func (l *leanHTTP) answered(ctx context.Context, op, bucket, key, rng string, resp *http.Response, sent int64, d time.Duration, failed bool) {
	if l.observe != nil {
		a := s3io.Attempt{Op: op, Status: resp.StatusCode, Attempt: 1, Duration: d, BytesSent: sent, Err: failed}
		if resp.ContentLength > 0 && resp.Request != nil && resp.Request.Method != http.MethodHead {
			a.BytesReceived = resp.ContentLength // a HEAD's describes the object, not the answer
		}
		l.observe(a)
	}
	if l.log.Enabled(ctx, slog.LevelDebug) {
		target := slog.String("key", key)
		if op == "ListObjectsV2" {
			target = slog.String("prefix", key) // a listing's key is its prefix, as the SDK path's lines say
		}
		attrs := []slog.Attr{slog.String("op", op), slog.String("bucket", bucket), target}
		if rng != "" {
			attrs = append(attrs, slog.String("range", rng))
		}
		attrs = append(attrs, slog.Int("attempt", 1), slog.Int("status", resp.StatusCode))
		if id := resp.Header.Get("X-Amz-Request-Id"); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		if id := resp.Header.Get("X-Amz-Id-2"); id != "" {
			attrs = append(attrs, slog.String("host_id", id))
		}
		attrs = append(attrs, slog.Duration("duration", d.Round(time.Microsecond)))
		l.log.LogAttrs(ctx, slog.LevelDebug, "s3 request", attrs...)
	}
}

// failedOp tells the metrics of a lean attempt that failed (status 0: no
// answer); the SDK's attempts that follow are told by requestLogging.
func (l *leanHTTP) failedOp(op string, status int, sent int64, d time.Duration) {
	if l.observe != nil {
		l.observe(s3io.Attempt{Op: op, Status: status, Attempt: 1, Duration: d, BytesSent: sent, Err: true})
	}
}
