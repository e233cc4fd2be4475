// Package memstore is an in-memory s3io.Store that behaves like S3, for
// fast, deterministic tests of the packages above s3io.
//
// It follows S3 where a caller could notice: ListObjectsV2 paging
// (prefix, delimiter, start-after, opaque continuation tokens, MaxKeys
// defaulting to and capped at 1,000, common prefixes counting against
// MaxKeys), ETags that are the hex MD5 of the body (md5-of-md5s plus "-N"
// for multipart uploads), If-Match on reads and copies, the 5 MiB minimum
// for every part but the last, and the S3 error for each failure, wrapped
// in *s3io.OpError like awsstore's. It passes the same conformance suite
// (s3io/storetest) as the real store.
//
// Tags, canned ACLs (expanded into grants as S3 documents them, for one
// owner, OwnerID), bucket policies, CORS and lifecycle documents and the
// versioning status are kept and checked as S3 checks them, not acted on:
// no rule expires anything, and objects have one version. Refuse makes
// whole features answer NotImplemented, as S3-compatible gateways without
// them do. AddBucket is the test fixture for a bucket with any name;
// CreateBucket applies S3's naming rules.
//
// Invariants: a Store never shares a byte slice with its callers (bodies are
// copied in and out), and every method is safe for concurrent use; one
// mutex guards all state, and no method blocks while holding it.
package memstore
