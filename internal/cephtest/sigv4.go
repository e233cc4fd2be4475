package cephtest

import (
	"context"
	"net/http"

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
	return g.keys().Do(ctx, g.client, method, g.Endpoint, target, header, body)
}

// CreateBucket creates a bucket.
func (g *Gateway) CreateBucket(ctx context.Context, name string) error {
	return g.keys().CreateBucket(ctx, g.client, g.Endpoint, name)
}

func (g *Gateway) keys() sigv4.Keys {
	return sigv4.Keys{AccessKey: g.AccessKey, SecretKey: g.SecretKey, Region: g.Region}
}
