// Package storetest is the conformance suite every s3io.Store must pass,
// in the manner of restic's backend tests: memstore runs it in a unit test,
// awsstore runs it against a real MinIO, so that the in-memory store the
// upper layers are tested with cannot drift from the real one.
//
// The suite states S3's behaviour where callers depend on it: listing
// pages and common prefixes, ranged reads at and past the end, If-Match,
// multipart rules and ETags, copy metadata directives, error sentinels.
// Each subtest gets a fresh, empty bucket and names what it proves.
package storetest
