package versitygwtest

import (
	"context"
	"net/http"

	"github.com/s3mount/s3mount/internal/sigv4"
)

// do sends one request signed with the gateway's credentials (AWS
// Signature Version 4), for the readiness probe and this package's tests.
// path is the escaped, path-style resource, such as "/" or "/bucket/key",
// without a query; the caller closes the body.
func (g *Gateway) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	keys := sigv4.Keys{AccessKey: g.AccessKey, SecretKey: g.SecretKey, Region: g.Region}
	return keys.Do(ctx, g.client, method, g.Endpoint, path, nil, body)
}
