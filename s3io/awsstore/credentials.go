package awsstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"golang.org/x/sync/singleflight"

	"github.com/s3mount/s3mount/s3io"
)

// Refreshing keys from a CredentialsSource (a credentials command).
//
// Keys that say when they expire are fetched again before then: at
// min(5 min, a tenth of their lifetime) before expiry, so that hour-long
// keys are renewed 5 minutes early and keys of 20 s, 2 s early. Keys that
// do not say are used until S3 rejects them. A rejection (one of
// rejectionCodes) drops them, and the attempt is sent once more with
// fresh keys, inside the same retry attempt so that the retry count is not
// multiplied. A failed fetch is not repeated for failedFetchPause; while
// the old keys are still within their lifetime they go on being used.
const (
	maxRefreshWindow = 5 * time.Minute
	failedFetchPause = 5 * time.Second
	// bodylessRejectionAge: a HEAD refused with a bare 403 may be a policy
	// or stale keys; keys younger than this are not fetched again for it,
	// so that a denied HEAD does not run the command every time.
	bodylessRejectionAge = time.Minute
)

// rejectionCodes are S3's answers to keys it does not accept (now): the
// same codes errors.go maps to s3io.ErrInvalidCredentials.
func isRejectionCode(code string) bool {
	return code != "" && codeErrors[code] == s3io.ErrInvalidCredentials && code != "XAdminUserNotFound"
}

// refreshWindow is how long before expiry keys of this lifetime are
// fetched again.
func refreshWindow(lifetime time.Duration) time.Duration {
	return min(maxRefreshWindow, lifetime/10)
}

// refreshingProvider is an aws.CredentialsProvider over a
// CredentialsSource. It is its own cache, rather than the SDK's
// aws.CredentialsCache, because that cache cannot hold keys with an empty
// secret (it refetches them on every request), renews at a fixed window,
// and forgets the old keys when a renewal fails.
type refreshingProvider struct {
	fetch s3io.CredentialsSource
	log   *slog.Logger
	now   func() time.Time

	flight singleflight.Group

	mu        sync.Mutex
	cur       *aws.Credentials // nil before the first fetch and after a rejection
	fetchedAt time.Time
	refreshAt time.Time // zero: until rejected
	gen       uint64    // counts sets of keys fetched
	lastErr   error     // of the last fetch, until one succeeds
	retryAt   time.Time // no fetch before this after a failed one
	fetches   int
}

func newRefreshingProvider(fetch s3io.CredentialsSource, log *slog.Logger) *refreshingProvider {
	return &refreshingProvider{fetch: fetch, log: log, now: time.Now}
}

// Retrieve returns the current keys, fetching new ones when they are due.
// Concurrent callers share one fetch; each waits only as long as its own
// context allows.
func (p *refreshingProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	if c, err, ok := p.cached(); ok {
		return c, err
	}
	// The fetch outlives a caller that gives up: others may be waiting.
	ch := p.flight.DoChan("fetch", func() (any, error) {
		return p.refresh(context.WithoutCancel(ctx))
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return aws.Credentials{}, r.Err
		}
		return r.Val.(aws.Credentials), nil
	case <-ctx.Done():
		return aws.Credentials{}, ctx.Err()
	}
}

// cached answers without a fetch when it can: keys not yet due, or the
// last failure while fetching is paused.
func (p *refreshingProvider) cached() (aws.Credentials, error, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	if p.cur != nil && (p.refreshAt.IsZero() || now.Before(p.refreshAt)) {
		return *p.cur, nil, true
	}
	if p.lastErr != nil && now.Before(p.retryAt) {
		if p.cur != nil && now.Before(p.cur.Expires) {
			return *p.cur, nil, true // due, but still valid
		}
		return aws.Credentials{}, p.lastErr, true
	}
	return aws.Credentials{}, nil, false
}

func (p *refreshingProvider) refresh(ctx context.Context) (aws.Credentials, error) {
	k, err := p.fetch(ctx)
	now := p.now()
	if err == nil && !k.Expires.IsZero() && !now.Before(k.Expires) {
		err = fmt.Errorf("the keys it printed expired at %s", k.Expires.UTC().Format(time.RFC3339))
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fetches++
	if err != nil {
		p.lastErr, p.retryAt = err, now.Add(failedFetchPause)
		if p.cur != nil && now.Before(p.cur.Expires) {
			p.log.Warn("credentials command failed; using the current keys until they expire",
				"expires", p.cur.Expires, "err", err)
			return *p.cur, nil
		}
		p.cur = nil
		if p.gen == 0 {
			// The first fetch: the caller (a mount) reports it.
			return aws.Credentials{}, err
		}
		p.log.Warn("credentials command failed; operations that need new keys fail with EACCES until it succeeds "+
			"(it is tried again at most every "+failedFetchPause.String()+")", "err", err)
		return aws.Credentials{}, err
	}
	c := aws.Credentials{
		AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey, SessionToken: k.SessionToken,
		Source: "s3mount credentials command", CanExpire: !k.Expires.IsZero(), Expires: k.Expires,
	}
	p.cur, p.fetchedAt, p.lastErr, p.retryAt = &c, now, nil, time.Time{}
	p.refreshAt = time.Time{}
	if c.CanExpire {
		p.refreshAt = k.Expires.Add(-refreshWindow(k.Expires.Sub(now)))
	}
	p.gen++
	attrs := []any{"access_key", c.AccessKeyID}
	if c.CanExpire {
		attrs = append(attrs, "expires", c.Expires, "refresh_at", p.refreshAt)
	}
	p.log.Debug("credentials command gave keys", attrs...)
	return c, nil
}

// generation identifies the current keys, for invalidate.
func (p *refreshingProvider) generation() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.gen
}

// invalidate drops the keys of generation gen after S3 rejected them, so
// that the next Retrieve fetches new ones. It does nothing when newer keys
// have come since (many requests in flight are rejected together: one
// fetch serves them all), or, for a doubtful rejection, when the keys are
// younger than bodylessRejectionAge. It reports whether it dropped them.
func (p *refreshingProvider) invalidate(gen uint64, doubtful bool, code string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cur == nil || p.gen != gen || doubtful && p.now().Sub(p.fetchedAt) < bodylessRejectionAge {
		return false
	}
	p.log.Info("S3 rejected the keys; running the credentials command again", "access_key", p.cur.AccessKeyID, "code", code)
	p.cur, p.refreshAt = nil, time.Time{}
	return true
}

// retryRejectedKeys adds, to an operation of a Store whose keys come from
// a CredentialsSource, a finalize middleware between the retry loop and
// signing: an attempt whose keys S3 rejects is signed again with fresh
// keys and sent once more. Every operation gets a fresh middleware, so
// "once" is per operation.
func retryRejectedKeys(p *refreshingProvider) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		if _, ok := stack.Finalize.Get("Retry"); !ok {
			return nil // a presign stack sends nothing
		}
		return stack.Finalize.Insert(&rejectionRetry{p: p}, "Retry", middleware.After)
	}
}

type rejectionRetry struct {
	p    *refreshingProvider
	done bool
}

func (*rejectionRetry) ID() string { return "s3mountRetryRejectedKeys" }

func (m *rejectionRetry) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	req, ok := in.Request.(*smithyhttp.Request)
	if m.done || !ok {
		return next.HandleFinalize(ctx, in)
	}
	// Signing changes the request's headers: a resend starts from a copy.
	pristine := req.Clone()
	// The keys this attempt will be signed with, fetched now if they are
	// due, so that gen names them (signing asks the same cache).
	_, _ = m.p.Retrieve(ctx)
	gen := m.p.generation()
	out, md, err := next.HandleFinalize(ctx, in)
	if err == nil {
		return out, md, err
	}
	code, doubtful, rejected := keyRejection(err, req.Method)
	if !rejected || ctx.Err() != nil {
		return out, md, err
	}
	m.done = true
	// Another request may have fetched new keys already (invalidate then
	// returns false): the resend uses those.
	m.p.invalidate(gen, doubtful, code)
	if m.p.generation() == gen && doubtful {
		return out, md, err // too young to doubt: a policy refusal
	}
	if rerr := pristine.RewindStream(); rerr != nil {
		return out, md, err // a body that cannot be sent again
	}
	in.Request = pristine
	return next.HandleFinalize(ctx, in)
}

// keyRejection reads an attempt's error: S3 rejecting the keys (code), or
// a bare 403 to a HEAD that may be that (doubtful).
func keyRejection(err error, method string) (code string, doubtful, rejected bool) {
	var respErr *awshttp.ResponseError
	hasResp := errors.As(err, &respErr) && respErr.Response != nil
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	if hasResp && method == http.MethodHead {
		// MinIO names a HEAD's error in a header, as the body is empty.
		if c := respErr.Response.Header.Get("X-Minio-Error-Code"); c != "" {
			code = c
		}
	}
	switch {
	case isRejectionCode(code):
		return code, false, true
	case !hasResp:
		return "", false, false
	case respErr.HTTPStatusCode() == http.StatusUnauthorized:
		return code, false, true
	case respErr.HTTPStatusCode() == http.StatusForbidden && method == http.MethodHead &&
		respErr.Response.Header.Get("X-Minio-Error-Code") == "":
		return code, true, true
	}
	return "", false, false
}

// rekeyingSigner is the SDK's SigV4 signer, replaced whenever the secret
// changes. The SDK's signer caches the key it derives from the secret by
// access key and day only, so a rotation that keeps the access key and
// changes the secret (MinIO's and RGW's "set the user's secret") would go
// on signing with the old secret until midnight UTC.
type rekeyingSigner struct {
	newSigner func() *v4.Signer

	mu     sync.Mutex
	keysOf [sha256.Size]byte // of the access key and secret s signs for
	s      *v4.Signer
}

func newRekeyingSigner(log logging.Logger, logSigning bool) *rekeyingSigner {
	return &rekeyingSigner{newSigner: func() *v4.Signer {
		// As the S3 client's default signer.
		return v4.NewSigner(func(o *v4.SignerOptions) {
			o.Logger = log
			o.LogSigning = logSigning
			o.DisableURIPathEscaping = true
		})
	}}
}

func (r *rekeyingSigner) signerFor(c aws.Credentials) *v4.Signer {
	keys := sha256.Sum256([]byte(c.AccessKeyID + "\x00" + c.SecretAccessKey))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s == nil || keys != r.keysOf {
		r.s, r.keysOf = r.newSigner(), keys
	}
	return r.s
}

func (r *rekeyingSigner) SignHTTP(ctx context.Context, c aws.Credentials, req *http.Request, payloadHash, service, region string,
	t time.Time, optFns ...func(*v4.SignerOptions)) error {
	return r.signerFor(c).SignHTTP(ctx, c, req, payloadHash, service, region, t, optFns...)
}

func (r *rekeyingSigner) PresignHTTP(ctx context.Context, c aws.Credentials, req *http.Request, payloadHash, service, region string,
	t time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return r.signerFor(c).PresignHTTP(ctx, c, req, payloadHash, service, region, t, optFns...)
}
