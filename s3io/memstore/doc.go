// Package memstore is an in-memory s3io.Store with S3's listing, range,
// conditional-read and multipart semantics, for fast deterministic tests.
// It passes the same conformance suite (s3io/storetest) as the real Store.
package memstore
