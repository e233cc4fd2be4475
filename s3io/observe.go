package s3io

import "time"

// Attempt describes one HTTP attempt of an S3 request, for counting: no
// bucket, key or header, so that nothing secret and nothing unbounded
// reaches a metric.
type Attempt struct {
	// Op is the S3 operation (GetObject, PutObject, UploadPart, ...).
	Op string
	// Status is the HTTP status, or 0 when no response came (a transport
	// error or a timeout).
	Status int
	// Attempt is 1 for the first try of a request, 2 for its first retry.
	Attempt int
	// Duration is the wire time of this attempt.
	Duration time.Duration
	// BytesSent and BytesReceived are the request's and the response's
	// Content-Length (0 when unknown).
	BytesSent, BytesReceived int64
	// Err: the attempt failed (any error, a 4xx or 5xx among them).
	Err bool
}

// AttemptObserver is told of every HTTP attempt. It runs on the request's
// goroutine and must not block.
type AttemptObserver func(Attempt)
