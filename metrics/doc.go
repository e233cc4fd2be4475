// Package metrics counts what a mount does, for the Prometheus endpoint
// (--metrics-addr) and for `s3mount status`.
//
// A Recorder owns a registry of its own, never the client library's
// global one, so that two mounts in one process (tests) do not collide.
// Labels are bounded: the S3 operation and the HTTP status code, never a
// bucket, key or credential. Counts that other packages already keep
// (cache hits, staged bytes, failed uploads) are read from them at scrape
// time rather than copied.
//
// S3 is counted twice over, in two metrics: each HTTP attempt (told by
// awsstore, retries included, with its status code) and each request (told
// by the s3io.Count decorator, once, with its result class).
//
// Besides the totals, the Recorder keeps the last minute of requests,
// errors and retries in one-second buckets (60 of them: constant memory).
package metrics
