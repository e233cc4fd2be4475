// Package s3io is everything s3mount asks of an object store, in s3mount's
// own vocabulary.
//
// The filesystem talks to S3 only through the Store interface. The real
// implementation lives in s3io/awsstore (the only package that imports the
// AWS SDK); s3io/memstore is an in-memory Store for fast deterministic tests,
// and s3io/storetest is the conformance suite both must pass. Bucket
// configuration documents (CORS, lifecycle) cross the interface as S3's
// own XML; s3io/s3xml reads, checks and writes them.
//
// Invariants:
//   - Errors returned by a Store are *OpError values wrapping one of the
//     sentinel errors below, so callers decide with errors.Is and never look
//     at S3 error codes themselves.
//   - ReadRange never returns bytes from two different versions of an object:
//     with IfMatch set, a changed object yields ErrPreconditionFailed.
//   - What S3 would refuse for its form alone (11 object tags, a malformed
//     lifecycle document, a policy that is not JSON) is refused before
//     sending, with ErrInvalidArgument and the rule broken in the message,
//     so that every server answers it the same way.
package s3io
