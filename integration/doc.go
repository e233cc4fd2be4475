// Package integration tests the real s3mount binary end to end: it builds
// the binary, starts a MinIO on a free loopback port, mounts buckets
// through /dev/fuse and drives real tools (ls, find, stat, cat, md5sum, dd).
// Objects are created with aws-sdk-go-v2 directly, so the mount is checked
// against what the SDK sees, not against s3mount's own S3 code.
package integration
