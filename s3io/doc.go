// Package s3io is everything s3mount asks of an object store, in s3mount's
// own vocabulary.
//
// The filesystem talks to S3 only through the Store interface. The real
// implementation lives in s3io/awsstore (the only package that imports the
// AWS SDK); s3io/memstore is an in-memory Store for fast deterministic tests,
// and s3io/storetest is the conformance suite both must pass, decorated
// too. Bucket configuration documents (CORS, lifecycle) cross the
// interface as S3's own XML; s3io/s3xml reads, checks and writes them.
//
// The interface has two halves: ObjectStore, the data path (head, list,
// read, put, multipart, copy, delete: what reading and writing files
// needs; writeback takes it plus object tags and ACLs), and AdminStore
// (buckets, object tags and ACLs, restore, presigned URLs, bucket
// configuration: what extended attributes and bucket directories need).
// Store is their union.
//
// Cross-cutting concerns are decorators, as restic's backends have them:
// Wrap runs every call of a Store through one Around function, so that a
// decorator is only that function, in a file of its own:
//
//   - Limit (limit.go): one ceiling of requests in flight, shared by every
//     kind. A slot is held for one call and never while waiting for
//     another, so limits of one purpose (read-ahead, upload parts) can sit
//     above it without deadlock. A wait ends with the caller's context.
//   - Count (count.go): each request once, by S3 operation and result
//     class (ResultOf), for the metrics. Attempts and retries are counted
//     where the SDK makes them, by awsstore's AttemptObserver.
//   - s3io/faultstore: fails or holds chosen calls, for unit tests, with
//     the OpErrors the real store returns for the same answers.
//
// The mount's store is Limit(Count(awsstore)): counting beneath the limit
// counts what was sent, and times the server rather than the queue.
// Retries stay in the SDK's retryer, so attempts are never multiplied by a
// second layer.
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
