package awsstore

import (
	"crypto/md5"
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/s3mount/s3mount/s3io"
)

// ssecHeaders returns the SSE-C algorithm, key and key MD5 header values.
func ssecHeaders(key s3io.SSECustomerKey) (alg, k, sum *string) {
	h := md5.Sum(key)
	return aws.String("AES256"), aws.String(base64.StdEncoding.EncodeToString(key)),
		aws.String(base64.StdEncoding.EncodeToString(h[:]))
}

// pathEscape escapes a key for x-amz-copy-source, keeping "/".
func pathEscape(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
