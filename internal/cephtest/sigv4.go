package cephtest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
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

// sign adds SigV4 headers (query and x-amz-* headers included).
func (g *Gateway) sign(req *http.Request, body []byte, now time.Time) {
	sigv4.Keys{AccessKey: g.AccessKey, SecretKey: g.SecretKey, Region: g.Region}.Sign(req, body, now)
}
