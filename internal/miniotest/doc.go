// Package miniotest runs a real MinIO server for tests, on a free loopback
// port, with fresh random credentials and a throw-away data directory.
//
// A test that needs one server calls Start (or StartTLS); the server is
// killed by t.Cleanup. A package whose tests share one server keeps a
// Shared value, calls Get from each test and Stop from TestMain. Launch is
// the bare form for code that is not a test.
//
// The binary is found by FindBinary: $S3MOUNT_MINIO, else bin/minio at the
// repository root, else "minio" on PATH. When none exists the test is
// skipped with a message naming what is missing, unless
// S3MOUNT_TEST_REQUIRE=1 (set in CI), which turns the skip into a failure.
// Under go test -short every test that asks for a server is skipped.
//
// Invariants: a Server returned ready has answered a request signed with its
// own credentials, so it is ours and not some other process that won a race
// for the port. MinIO never reads the caller's ~/.minio or MINIO_* settings:
// its environment is built from scratch.
package miniotest
