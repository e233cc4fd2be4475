package cephtest

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Do sends one request signed with the gateway's keys (AWS Signature
// Version 4). target is the escaped, path-style resource with an optional
// query, such as "/", "/bucket" or "/bucket/key?uploads"; the caller
// closes the body. It exists so that tests can set up buckets without
// depending on the code under test.
func (g *Gateway) Do(ctx context.Context, method, target string, body []byte) (*http.Response, error) {
	return g.DoWithHeader(ctx, method, target, nil, body)
}

// DoWithHeader is Do with extra request headers (SSE-C keys, Content-Type,
// …); those named x-amz-*, Content-Type and Content-MD5 are signed.
func (g *Gateway) DoWithHeader(ctx context.Context, method, target string, header http.Header, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, g.Endpoint+target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	g.sign(req, body, time.Now().UTC())
	return g.client.Do(req)
}

// CreateBucket creates a bucket.
func (g *Gateway) CreateBucket(ctx context.Context, name string) error {
	resp, err := g.Do(ctx, http.MethodPut, "/"+name, nil)
	if err != nil {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("create bucket %s: HTTP %d: %s", name, resp.StatusCode, b)
	}
	return nil
}

// sign adds SigV4 headers to req, whose body is body.
func (g *Gateway) sign(req *http.Request, body []byte, now time.Time) {
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
	var headers strings.Builder
	for _, n := range names {
		headers.WriteString(n + ":" + values[n] + "\n")
	}
	signed := strings.Join(names, ";")
	path := req.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	canonical := strings.Join([]string{
		req.Method,
		path,
		canonicalQuery(req.URL.RawQuery),
		headers.String(),
		signed,
		payload,
	}, "\n")
	scope := day + "/" + g.Region + "/s3/aws4_request"
	crSum := sha256.Sum256([]byte(canonical))
	toSign := "AWS4-HMAC-SHA256\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crSum[:])

	key := []byte("AWS4" + g.SecretKey)
	for _, part := range []string{day, g.Region, "s3", "aws4_request"} {
		key = hmacSHA256(key, part)
	}
	sig := hex.EncodeToString(hmacSHA256(key, toSign))
	req.Header.Set("Authorization", fmt.Sprintf(
		"AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s",
		g.AccessKey, scope, signed, sig))
}

// canonicalQuery sorts the query by name, then value, each URI-encoded
// as SigV4 wants (space as %20, "uploads" as "uploads=").
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
