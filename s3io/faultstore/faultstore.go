// Package faultstore is a Store decorator for unit tests of failure paths:
// it fails or holds chosen calls, and fails them with the *s3io.OpError
// the real store (s3io/awsstore) would return for the same answer, so that
// the code under test cannot tell an injected fault from a server's.
//
// With no rules it changes nothing: it passes the conformance suite like
// the store it wraps.
package faultstore

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/s3mount/s3mount/s3io"
)

// Rule picks calls. Zero fields match anything.
type Rule struct {
	// Op is the S3 operation, as in s3io.Call.Op: "GetObject" for
	// ReadRange, "ListObjectsV2" for List, the method's name for most.
	Op     string
	Bucket string
	// Key matches the key exactly (the prefix for listings); KeyPrefix,
	// keys that begin with it.
	Key, KeyPrefix string
	// Part matches one part number of UploadPart and UploadPartCopy.
	Part int32
	// Nth picks only the nth call (from 1) that matches the fields above;
	// 0 picks every one.
	Nth int
}

// Store wraps an s3io.Store and applies its faults.
type Store struct {
	s3io.Store

	mu     sync.Mutex
	faults []*fault
	calls  map[string]int
}

var _ s3io.Store = (*Store)(nil)

// New wraps s. It injects nothing until told.
func New(s s3io.Store) *Store {
	f := &Store{calls: make(map[string]int)}
	f.Store = s3io.Wrap(s, f.around)
	return f
}

type fault struct {
	rule Rule
	seen int // calls that matched rule's fields
	// Exactly one of err and hold is set.
	err       *s3io.OpError
	afterCall bool
	hold      *Hold
	removed   bool
}

func (r Rule) matches(c s3io.Call) bool {
	return (r.Op == "" || r.Op == c.Op) && (r.Bucket == "" || r.Bucket == c.Bucket) &&
		(r.Key == "" || r.Key == c.Key) && (r.KeyPrefix == "" || strings.HasPrefix(c.Key, r.KeyPrefix)) &&
		(r.Part == 0 || r.Part == c.Part)
}

// picks reports whether fault f applies to c, counting c as seen.
func (f *fault) picksLocked(c s3io.Call) bool {
	if f.removed || !f.rule.matches(c) {
		return false
	}
	f.seen++
	return f.rule.Nth == 0 || f.seen == f.rule.Nth
}

func (s *Store) around(ctx context.Context, c s3io.Call, next func(context.Context) error) error {
	s.mu.Lock()
	s.calls[c.Op]++
	var picked []*fault
	for _, f := range s.faults {
		if f.picksLocked(c) {
			picked = append(picked, f)
		}
	}
	s.mu.Unlock()
	var after *s3io.OpError
	for _, f := range picked {
		switch {
		case f.hold != nil:
			if err := f.hold.wait(ctx, c); err != nil {
				return err
			}
		case f.afterCall:
			after = f.err
		default:
			return f.opError(c)
		}
	}
	err := next(ctx)
	if after != nil {
		return opError(after, c)
	}
	return err
}

func (f *fault) opError(c s3io.Call) error { return opError(f.err, c) }

func opError(tmpl *s3io.OpError, c s3io.Call) error {
	e := *tmpl
	e.Op, e.Bucket, e.Key = c.Op, c.Bucket, c.Key
	return &e
}

// Fault is an injected failure; Remove ends it.
type Fault struct {
	s *Store
	f *fault
}

// Remove stops the fault: later calls pass.
func (f Fault) Remove() {
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	f.f.removed = true
}

// Fail makes the calls r picks fail with err, without making them: an
// *s3io.OpError with the call's operation, bucket and key, wrapping err
// (a sentinel of s3io or a context error), with the S3 error code that
// awsstore reads as err (CodeOf).
func (s *Store) Fail(r Rule, err error) Fault {
	return s.add(&fault{rule: r, err: newOpError(err)})
}

// LoseAnswer makes the calls r picks happen, then fail with err as if
// their answer had been lost on the way: the store below has done what
// was asked (a multipart upload created, an object written) and the
// caller sees err.
func (s *Store) LoseAnswer(r Rule, err error) Fault {
	return s.add(&fault{rule: r, err: newOpError(err), afterCall: true})
}

// Hold makes the calls r picks wait until the Hold is released (or their
// context ends), then proceed.
func (s *Store) Hold(r Rule) *Hold {
	h := &Hold{entered: make(chan struct{}), release: make(chan struct{})}
	s.add(&fault{rule: r, hold: h})
	return h
}

func (s *Store) add(f *fault) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return Fault{s: s, f: f}
}

// Clear removes every fault and releases every hold.
func (s *Store) Clear() {
	s.mu.Lock()
	faults := s.faults
	s.faults = nil
	s.mu.Unlock()
	for _, f := range faults {
		if f.hold != nil {
			f.hold.Release()
		}
	}
}

// Calls is the number of calls of op seen so far, faulted or not.
func (s *Store) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Hold is a set of held calls.
type Hold struct {
	entered, release chan struct{}
	enterOnce        sync.Once
	releaseOnce      sync.Once
}

// Entered is closed when the first held call arrives.
func (h *Hold) Entered() <-chan struct{} { return h.entered }

// Release lets the held calls, and all later ones, proceed.
func (h *Hold) Release() { h.releaseOnce.Do(func() { close(h.release) }) }

func (h *Hold) wait(ctx context.Context, c s3io.Call) error {
	h.enterOnce.Do(func() { close(h.entered) })
	select {
	case <-h.release:
		return nil
	case <-ctx.Done():
		return c.OpError(ctx.Err())
	}
}

// codes are the S3 error codes whose answer awsstore turns into each
// sentinel (one of several); awsstore's tests check that they do.
var codes = map[error]string{
	s3io.ErrNotFound:           "NoSuchKey",
	s3io.ErrBucketNotFound:     "NoSuchBucket",
	s3io.ErrAccessDenied:       "AccessDenied",
	s3io.ErrInvalidCredentials: "InvalidAccessKeyId",
	s3io.ErrPreconditionFailed: "PreconditionFailed",
	s3io.ErrNotImplemented:     "NotImplemented",
	s3io.ErrInvalidObjectState: "InvalidObjectState",
	s3io.ErrInvalidArgument:    "InvalidArgument",
	s3io.ErrTooLarge:           "EntityTooLarge",
	s3io.ErrQuotaExceeded:      "QuotaExceeded",
	s3io.ErrBucketNotEmpty:     "BucketNotEmpty",
	s3io.ErrBucketExists:       "BucketAlreadyOwnedByYou",
	s3io.ErrNoConfiguration:    "NoSuchBucketPolicy",
	s3io.ErrThrottled:          "SlowDown",
	s3io.ErrServer:             "InternalError",
}

// CodeOf is the S3 error code an injected err carries, "" for errors that
// come with no answer (ErrUnreachable, a context error, ErrSSECKey and
// ErrEncryptionIgnored, which the store concludes itself).
func CodeOf(err error) string {
	for sentinel, code := range codes {
		if errors.Is(err, sentinel) {
			return code
		}
	}
	return ""
}

// Codes returns the sentinel of every code CodeOf gives, for the test that
// checks them against awsstore's translation.
func Codes() map[string]error {
	out := make(map[string]error, len(codes))
	for sentinel, code := range codes {
		out[code] = sentinel
	}
	return out
}

func newOpError(err error) *s3io.OpError {
	if err == nil {
		err = s3io.ErrServer
	}
	return &s3io.OpError{Code: CodeOf(err), Message: "injected by faultstore", Err: err}
}
