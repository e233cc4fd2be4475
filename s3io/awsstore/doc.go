// Package awsstore implements s3io.Store on aws-sdk-go-v2. It is the only
// package of s3mount that imports the SDK.
//
// It works with AWS and with S3-compatible servers: custom endpoints, with
// a base path or not; path-style or virtual-hosted addressing; request and
// response checksums only where an operation requires them (many servers
// reject the SDK's newer default checksum headers); extra CAs from
// --ca-bundle or AWS_CA_BUNDLE. Throttling, 5xx answers and broken
// connections are retried by the SDK's standard retryer without a client-side
// retry quota; a GET body broken in the middle is resumed by ReadRange.
package awsstore
