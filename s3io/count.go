package s3io

import (
	"context"
	"errors"
	"time"
)

// Request is one Store call as the file system made it, for counting: its
// operation and how it ended, never its bucket or key. Retries within it
// are the SDK's and are not counted again here (an AttemptObserver sees
// each attempt).
type Request struct {
	Op string // as in Call.Op
	// Result is "ok" or the class of the error: see ResultOf.
	Result string
	// Duration is the time the call took below the counter.
	Duration time.Duration
}

// RequestObserver is told of every counted request. It runs on the
// request's goroutine and must not block.
type RequestObserver func(Request)

// Count returns s telling observe of every call that sends a request
// (PresignGetObject sends none and is not counted).
//
// Under a Limit, Count counts what reaches the store below: a call that
// gave up waiting for a slot sent nothing and is not counted, and the
// durations are the server's, not the queue's.
func Count(s Store, observe RequestObserver) Store {
	return Wrap(s, func(ctx context.Context, c Call, next func(context.Context) error) error {
		if c.Local {
			return next(ctx)
		}
		start := time.Now()
		err := next(ctx)
		observe(Request{Op: c.Op, Result: ResultOf(err), Duration: time.Since(start)})
		return err
	})
}

// results names each sentinel's class, in the order ResultOf tries them.
var results = []struct {
	err  error
	name string
}{
	{ErrNotFound, "not_found"},
	{ErrBucketNotFound, "bucket_not_found"},
	{ErrAccessDenied, "access_denied"},
	{ErrInvalidCredentials, "invalid_credentials"},
	{ErrPreconditionFailed, "precondition_failed"},
	{ErrNotImplemented, "not_implemented"},
	{ErrInvalidObjectState, "invalid_object_state"},
	{ErrInvalidArgument, "invalid_argument"},
	{ErrTooLarge, "too_large"},
	{ErrQuotaExceeded, "quota_exceeded"},
	{ErrBucketNotEmpty, "bucket_not_empty"},
	{ErrBucketExists, "bucket_exists"},
	{ErrNoConfiguration, "no_configuration"},
	{ErrSSECKey, "sse_c_key"},
	{ErrEncryptionIgnored, "encryption_ignored"},
	{ErrUnreachable, "unreachable"},
	{ErrThrottled, "throttled"},
	{ErrServer, "server_error"},
	{context.Canceled, "canceled"},
	{context.DeadlineExceeded, "timeout"},
}

// ResultOf names how a call ended, from a small fixed set fit for a
// metric label: "ok", the class of the sentinel err wraps ("not_found",
// "access_denied", "throttled", "server_error", "canceled", "timeout",
// ...), or "other".
func ResultOf(err error) string {
	if err == nil {
		return "ok"
	}
	for _, r := range results {
		if errors.Is(err, r.err) {
			return r.name
		}
	}
	return "other"
}
