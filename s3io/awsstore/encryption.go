package awsstore

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io"
)

// asksEncryption reports whether a write asks the server to encrypt.
func asksEncryption(o s3io.WriteOptions) bool { return o.SSE != "" || len(o.SSEC) > 0 }

// verifyEncryption makes sure that a finished write that asked for
// server-side encryption got it. The answer usually says so (S3 and Ceph
// RGW echo the algorithm; MinIO not on copies and multipart uploads); when
// it does not, a HEAD asks. A server that ignores the headers (versitygw
// stores plaintext and answers 200) fails the write with
// ErrEncryptionIgnored, and the plaintext object is deleted rather than
// left readable by anyone with access to the bucket.
func (s *Store) verifyEncryption(ctx context.Context, op, bucket, key string, asked s3io.WriteOptions, sse types.ServerSideEncryption, ssecAlg *string) error {
	if !asksEncryption(asked) || encryptionMissing(asked, sse, ssecAlg) == "" {
		return nil
	}
	in := &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if len(asked.SSEC) > 0 {
		in.SSECustomerAlgorithm, in.SSECustomerKey, in.SSECustomerKeyMD5 = ssec(asked.SSEC)
	}
	out, err := s.client.HeadObject(ctx, in)
	if err != nil {
		return mapError(ctx, op, bucket, key, err)
	}
	missing := encryptionMissing(asked, out.ServerSideEncryption, out.SSECustomerAlgorithm)
	if missing == "" {
		return nil
	}
	_ = s.DeleteObject(ctx, bucket, key)
	return &s3io.OpError{Op: op, Bucket: bucket, Key: key, Err: s3io.ErrEncryptionIgnored,
		Message: "encryption " + missing + " was asked for and the server stored the object without it " +
			"(it does not support it); the unencrypted object was deleted"}
}

// encryptionMissing names the encryption asked for that an answer's
// headers do not show, or returns "".
func encryptionMissing(asked s3io.WriteOptions, sse types.ServerSideEncryption, ssecAlg *string) string {
	switch {
	case len(asked.SSEC) > 0 && aws.ToString(ssecAlg) == "":
		return "SSE-C"
	case asked.SSE != "" && sse == "":
		return asked.SSE
	}
	return ""
}
