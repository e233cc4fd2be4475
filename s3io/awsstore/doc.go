// Package awsstore implements s3io.Store on aws-sdk-go-v2. It is the only
// package of s3mount that imports the SDK, and it translates everything
// the SDK says into s3io's vocabulary: ObjectInfo, ListPage, and errors
// that are *s3io.OpError values wrapping s3io's sentinels (errors.go is the
// one place that reads S3 error codes).
//
// It works with AWS and with S3-compatible servers: a custom endpoint with
// or without a base path, path-style or virtual-hosted addressing, and
// checksums only where an operation requires them (many servers reject the
// SDK's newer default checksum headers). CA bundles from Config.CABundle,
// AWS_CA_BUNDLE or the profile's ca_bundle are honoured even when a test
// wraps the transport.
//
// Failures are retried by the SDK's standard retryer (throttling, 5xx,
// broken connections) with exponential backoff and without a client-side
// retry quota, so a burst of failures is retried rather than refused. A
// GET body that breaks in the middle is resumed by ReadRange from where it
// stopped, pinned with If-Match to the version it started reading.
//
// Payload signing: over HTTPS the SDK sends UNSIGNED-PAYLOAD (TLS protects
// the body); over plain HTTP it signs the SHA-256 of every body. A body
// sent with Content-MD5 is UNSIGNED-PAYLOAD on HTTP too: the server checks
// the MD5, and the Content-MD5 header is itself signed, so the body stays
// bound to the signature while one hash (not two) is computed; that is
// 0.9 s of CPU per GiB written on a 2-core machine. Without Content-MD5
// (--upload-checksum off) the SDK's choice stands.
//
// Keys come from a password file (static, the secret may be empty), the
// standard AWS chain, or a Config.Credentials source (credentials.go): its
// keys are cached here, renewed before they expire and after S3 rejects
// them, and an attempt rejected for its keys is re-signed and sent once
// more inside the same retry attempt. Signing uses a fresh SigV4 signer
// whenever the secret changes, as the SDK's caches its derived key by
// access key alone.
//
// Config.Logger at debug level gets one line per HTTP attempt (logging.go);
// it never logs credentials, signatures, SSE-C keys or query strings.
// Presigned URLs (presign.go) are returned to the caller only: they are
// bearer credentials, and no request is sent to make them.
//
// Requests S3 would refuse for their form (tag limits, malformed CORS or
// lifecycle documents, see s3io/s3xml) are refused before sending, so that
// every server gives the same ErrInvalidArgument with the same reason.
package awsstore
