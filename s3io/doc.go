// Package s3io is everything s3mount asks of an object store, in s3mount's
// own vocabulary.
//
// The filesystem talks to S3 only through the Store interface. The real
// implementation lives in s3io/awsstore (the only package that imports the
// AWS SDK); s3io/memstore is an in-memory Store for fast deterministic tests,
// and s3io/storetest is the conformance suite both must pass.
//
// Invariants:
//   - Errors returned by a Store are *OpError values wrapping one of the
//     sentinel errors below, so callers decide with errors.Is and never look
//     at S3 error codes themselves.
//   - ReadRange never returns bytes from two different versions of an object:
//     with IfMatch set, a changed object yields ErrPreconditionFailed.
package s3io
