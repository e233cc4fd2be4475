package versitygwtest

import (
	"bytes"
	"context"
	"net/http"
	"time"

	"github.com/s3mount/s3mount/internal/sigv4"
)

// do sends one request signed with the gateway's credentials (AWS
// Signature Version 4), for the readiness probe and this package's tests.
// path is the escaped, path-style resource, such as "/" or "/bucket/key",
// without a query; the caller closes the body.
func (g *Gateway) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, g.Endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	sigv4.Keys{AccessKey: g.AccessKey, SecretKey: g.SecretKey, Region: g.Region}.Sign(req, body, time.Now())
	return g.client.Do(req)
}
