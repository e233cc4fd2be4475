// Package versitygwtest runs a real versitygw (the Versity S3 gateway) with
// its posix backend for tests, on a free loopback port, with fresh random
// credentials and a throw-away directory whose subdirectories are the
// buckets.
//
// Launch starts a gateway and returns it once it has answered; the caller
// calls Stop. The binary is found by FindBinary: $S3MOUNT_VERSITYGW, else
// bin/versitygw at the repository root (what `make tools` installs), else
// "versitygw" on PATH.
//
// Invariants: a Gateway returned ready has answered a ListBuckets signed
// with its own credentials, so it is ours and not some other process that
// won a race for the port. versitygw never sees the caller's VGW_* or
// ROOT_* settings: its environment is built from scratch, and it runs in
// single-account mode (no IAM directory), so the root keys are the only
// keys. The posix backend keeps object metadata in extended attributes:
// the directory must be on a file system that has user xattrs (ext4, xfs,
// btrfs, tmpfs since Linux 6.6), or versitygw refuses to start and says so
// in its log.
package versitygwtest
