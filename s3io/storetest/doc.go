// Package storetest is the conformance suite every s3io.Store must pass,
// in the manner of restic's backend tests: memstore runs it in a unit test,
// awsstore runs it against a real MinIO, so that the in-memory store the
// upper layers are tested with cannot drift from the real one.
//
// The suite states S3's behaviour where callers depend on it: listing
// pages and common prefixes, ranged reads at and past the end, If-Match,
// multipart rules and ETags, copy metadata directives, tags and their
// limits, canned ACLs, bucket configuration documents read back as S3's
// XML, bucket creation and deletion, presigning, restores, and the error
// sentinel of each refusal.
// Each subtest gets a fresh, empty bucket and names what it proves.
//
// Some servers lack some of S3 (MinIO keeps no ACLs and no CORS, and has
// no archive tiers): Options.MayLack lists the Features a store may
// refuse. A case that meets such a refusal checks that it carries the
// documented sentinel (which the file system turns into ENOTSUP or EINVAL)
// and ends there, passing and logging it; nothing is skipped. memstore
// lacks nothing, so each case runs in full at least once.
package storetest
