package awsstore

import (
	"crypto/md5"
	"encoding/base64"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go/encoding/httpbinding"

	"github.com/s3mount/s3mount/s3io"
)

// quoteETag makes an ETag an HTTP entity tag for If-Match and the parts
// of CompleteMultipartUpload; S3 answers with quoted ETags and every
// server accepts them quoted.
func quoteETag(e string) string {
	if strings.HasPrefix(e, `"`) || e == "*" {
		return e
	}
	return `"` + e + `"`
}

// unquoteETag strips the quotes S3 puts around ETags, and the weak marker
// some gateways add. What it strips is copied out: a file node keeps its
// ETag for as long as the kernel holds the inode, and a 32-digit MD5
// inside its quotes would keep 48 bytes of heap where it needs 32.
func unquoteETag(e string) string {
	t := strings.Trim(strings.TrimPrefix(e, "W/"), `"`)
	if len(t) < len(e) {
		return strings.Clone(t)
	}
	return t
}

// copySource is the x-amz-copy-source value: bucket/key with every byte of
// the key but unreserved ones and "/" percent-encoded. url.PathEscape
// would leave "+", which some servers decode as a space.
func copySource(src s3io.CopySource) string {
	return httpbinding.EscapePath(src.Bucket, true) + "/" + httpbinding.EscapePath(src.Key, false)
}

// ssec returns the SSE-C headers' values: algorithm, base64 key, and
// base64 MD5 of the key (which lets the server detect a corrupted key).
func ssec(key s3io.SSECustomerKey) (alg, k, sum *string) {
	h := md5.Sum(key)
	return aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(key)),
		aws.String(base64.StdEncoding.EncodeToString(h[:]))
}

// lowerKeys returns user metadata with lower-cased names, as s3io promises
// whatever the server or SDK did with the case.
func lowerKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = v
	}
	return out
}

// contentMD5 returns the base64 MD5 of body (for Content-MD5) and rewinds
// it to where it was.
func contentMD5(body io.ReadSeeker) (string, error) {
	start, err := body.Seek(0, io.SeekCurrent)
	if err != nil {
		return "", err
	}
	h := md5.New()
	if _, err := io.Copy(h, body); err != nil {
		return "", err
	}
	if _, err := body.Seek(start, io.SeekStart); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil)), nil
}

// md5Signing returns the per-request options of a body: with Content-MD5
// it is sent as UNSIGNED-PAYLOAD (see doc.go).
func md5Signing(withMD5 bool) []func(*s3.Options) {
	if !withMD5 {
		return nil
	}
	return []func(*s3.Options){s3.WithAPIOptions(v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)}
}

// writeAttrs are a new object's attributes as the SDK's inputs of
// PutObject, CreateMultipartUpload and CopyObject take them; nil and ""
// leave them out of the request.
type writeAttrs struct {
	contentType               *string
	storageClass              types.StorageClass
	acl                       types.ObjectCannedACL
	sse                       types.ServerSideEncryption
	kmsKeyID                  *string
	ssecAlg, ssecKey, ssecMD5 *string
}

func attrsOf(o s3io.WriteOptions) writeAttrs {
	a := writeAttrs{storageClass: types.StorageClass(o.StorageClass), acl: types.ObjectCannedACL(o.ACL),
		sse: types.ServerSideEncryption(o.SSE)}
	if o.ContentType != "" {
		a.contentType = aws.String(o.ContentType)
	}
	if o.SSEKMSKeyID != "" {
		a.kmsKeyID = aws.String(o.SSEKMSKeyID)
	}
	if len(o.SSEC) > 0 {
		a.ssecAlg, a.ssecKey, a.ssecMD5 = ssec(o.SSEC)
	}
	return a
}
