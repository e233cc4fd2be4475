// Package sigv4 signs the few plain HTTP requests that test servers need
// before any client exists: readiness probes, bucket creation, users. It
// lets the test-server packages start a server without depending on the
// code under test or on the AWS SDK.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Keys are the credentials and region a request is signed for.
type Keys struct {
	AccessKey, SecretKey, Region string
}

// Sign adds AWS Signature Version 4 headers to req, whose body is body.
// It signs the query string and every x-amz-*, Content-Type and
// Content-MD5 header the request carries.
func (k Keys) Sign(req *http.Request, body []byte, now time.Time) {
	now = now.UTC()
	sum := sha256.Sum256(body)
	payload := hex.EncodeToString(sum[:])
	amzDate := now.Format("20060102T150405Z")
	day := now.Format("20060102")
	req.Header.Set("X-Amz-Date", amzDate)
	req.Header.Set("X-Amz-Content-Sha256", payload)

	names := []string{"host"}
	values := map[string]string{"host": req.URL.Host}
	for k, vs := range req.Header {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-amz-") || lk == "content-type" || lk == "content-md5" {
			names = append(names, lk)
			trimmed := make([]string, len(vs))
			for i, v := range vs {
				trimmed[i] = strings.Join(strings.Fields(v), " ")
			}
			values[lk] = strings.Join(trimmed, ",")
		}
	}
	sort.Strings(names)
	scope := day + "/" + k.Region + "/s3/aws4_request"
	sig := signature(k.SecretKey, amzDate, scope, canonicalRequest(req, names, values, payload))
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		k.AccessKey, scope, strings.Join(names, ";"), sig))
}

// canonicalRequest is SigV4's canonical form of req with the headers
// names (sorted, lower case) holding values.
func canonicalRequest(req *http.Request, names []string, values map[string]string, payload string) string {
	var headers strings.Builder
	for _, n := range names {
		headers.WriteString(n + ":" + values[n] + "\n")
	}
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return strings.Join([]string{
		req.Method,
		path,
		canonicalQuery(req.URL.RawQuery),
		headers.String(),
		strings.Join(names, ";"),
		payload,
	}, "\n")
}

// signature signs a canonical request with secret for scope
// (DAY/REGION/SERVICE/aws4_request).
func signature(secret, amzDate, scope, canonical string) string {
	crSum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])
	key := []byte("AWS4" + secret)
	for _, part := range strings.Split(scope, "/") {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, toSign))
}

// canonicalQuery sorts the query by name, then value, each URI-encoded
// as SigV4 wants (space as %20, "uploads" as "uploads=").

// canonicalQuery sorts and escapes the query as SigV4 wants it.
func canonicalQuery(raw string) string {
	q, _ := url.ParseQuery(raw)
	type pair struct{ k, v string }
	var pairs []pair
	for k, vs := range q {
		for _, v := range vs {
			pairs = append(pairs, pair{sigEscape(k), sigEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.k + "=" + p.v
	}
	return strings.Join(parts, "&")
}

func sigEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}
