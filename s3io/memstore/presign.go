package memstore

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// PresignGetObject returns memstore://BUCKET/KEY?X-Amz-Expires=UNIX: a
// URL no HTTP client can fetch, but one that names the object and the
// expiry, after the same checks awsstore makes. Like S3's presigning it
// sends nothing, so a missing object is no error.
func (s *Store) PresignGetObject(ctx context.Context, bucketName, key string, expiry time.Duration, opts s3io.ReadOptions) (string, error) {
	const op = "PresignGetObject"
	if expiry < time.Second || expiry > s3io.MaxPresignExpiry {
		return "", &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidArgument",
			Message: fmt.Sprintf("expiry %v, want 1s to %v", expiry, s3io.MaxPresignExpiry), Err: s3io.ErrInvalidArgument}
	}
	if err := checkSSEC(op, bucketName, key, opts.SSEC); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Err: err}
	}
	u := url.URL{Scheme: "memstore", Host: bucketName, Path: "/" + key,
		RawQuery: url.Values{"X-Amz-Expires": {fmt.Sprint(time.Now().Add(expiry).Unix())}}.Encode()}
	return u.String(), nil
}
