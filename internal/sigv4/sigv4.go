// Package sigv4 signs the few plain HTTP requests that test servers need
// before any client exists: readiness probes and bucket creation. It lets
// the test-server packages start a server without depending on the code
// under test or on the AWS SDK.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Keys are the credentials and region a request is signed for.
type Keys struct {
	AccessKey, SecretKey, Region string
}

// Sign adds AWS Signature Version 4 headers to req, whose query string
// must be empty and whose body is body.
func (k Keys) Sign(req *http.Request, body []byte, now time.Time) {
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	amzDate := now.UTC().Format("20060102T150405Z")
	day := now.UTC().Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payload)

	const signed = "host;x-amz-content-sha256;x-amz-date"
	canonical := strings.Join([]string{
		req.Method,
		req.URL.EscapedPath(),
		"", // query
		"host:" + req.URL.Host,
		"x-amz-content-sha256:" + payload,
		"x-amz-date:" + amzDate,
		"",
		signed,
		payload,
	}, "\n")
	scope := day + "/" + k.Region + "/s3/aws4_request"
	crSum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])

	key := []byte("AWS4" + k.SecretKey)
	for _, part := range []string{day, k.Region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		k.AccessKey, scope, signed, sig))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
