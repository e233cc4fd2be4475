package awsstore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/s3io"
)

// PresignGetObject signs a GET of the object valid for expiry, with the
// query-string form of SigV4. Nothing is sent. Headers opts asks for are
// signed, not put in the query: If-Match and, for an SSE-C object, the
// three x-amz-server-side-encryption-customer-* headers (algorithm, key,
// key MD5), which S3 never accepts in a query string. Whoever uses the URL
// must send them with the same values.
//
// The URL carries a signature that grants access: it is returned, never
// logged (the logging middleware sees no presigned request, since none is
// sent).
func (s *Store) PresignGetObject(ctx context.Context, bucket, key string, expiry time.Duration, opts s3io.ReadOptions) (string, error) {
	const op = "PresignGetObject"
	if expiry < time.Second || expiry > s3io.MaxPresignExpiry {
		return "", refused(op, bucket, key, fmt.Errorf("expiry %v, want 1s to %v", expiry, s3io.MaxPresignExpiry))
	}
	if n := len(opts.SSEC); n != 0 && n != 32 {
		return "", refused(op, bucket, key, fmt.Errorf("SSE-C key of %d bytes, want 32", n))
	}
	in := &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if opts.IfMatch != "" {
		in.IfMatch = aws.String(quoteETag(opts.IfMatch))
	}
	if len(opts.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(opts.SSEC)
	}
	req, err := s.presign.PresignGetObject(ctx, in, s3.WithPresignExpires(expiry))
	if err != nil {
		return "", mapError(ctx, op, bucket, key, err)
	}
	return req.URL, nil
}
