package s3io

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error a Store returns wraps exactly one of these
// (or a context error), so that fs can map it to an errno in one place.
var (
	ErrNotFound           = errors.New("not found")
	ErrBucketNotFound     = errors.New("bucket not found")
	ErrAccessDenied       = errors.New("access denied")
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrPreconditionFailed = errors.New("precondition failed")
	ErrNotImplemented     = errors.New("not implemented by the server")
	ErrInvalidObjectState = errors.New("invalid object state (archived)")
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrTooLarge           = errors.New("entity too large")
	ErrQuotaExceeded      = errors.New("quota exceeded")
	ErrBucketNotEmpty     = errors.New("bucket not empty")
	ErrBucketExists       = errors.New("bucket already exists")
	ErrNoConfiguration    = errors.New("no such bucket configuration") // policy, CORS, lifecycle, ...
	// ErrSSECKey: the object is encrypted with an SSE-C key that was not
	// given, or a different one was.
	ErrSSECKey = errors.New("SSE-C key missing or wrong")
	// ErrEncryptionIgnored: a write asked for server-side encryption and
	// the server's answer shows none (versitygw stores such writes as
	// plaintext and answers 200).
	ErrEncryptionIgnored = errors.New("the server ignored the requested encryption")
	ErrUnreachable       = errors.New("endpoint unreachable")
	ErrThrottled         = errors.New("throttled")
	ErrServer            = errors.New("server error")
)

// OpError records the operation and object that failed. Code and Message
// are the server's, when it sent any, for log lines.
type OpError struct {
	Op      string // e.g. "GetObject"
	Bucket  string
	Key     string
	Code    string // the S3 error code, e.g. "NoSuchKey"
	Message string
	Err     error // a sentinel above, or a context error
}

func (e *OpError) Error() string {
	where := e.Bucket
	if e.Key != "" {
		where += "/" + e.Key
	}
	msg := fmt.Sprintf("%s %s: %v", e.Op, where, e.Err)
	switch {
	case e.Code != "" && e.Message != "":
		msg += " (" + e.Code + ": " + e.Message + ")"
	case e.Code != "":
		msg += " (" + e.Code + ")"
	case e.Message != "":
		// A check made before sending: no server code, but a reason.
		msg += " (" + e.Message + ")"
	}
	return msg
}

func (e *OpError) Unwrap() error { return e.Err }
