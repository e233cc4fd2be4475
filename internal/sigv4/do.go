package sigv4

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Do sends one request to endpoint+target (an escaped, path-style
// resource with an optional query, such as "/bucket?uploads"), with header
// added and signed with k. The caller closes the body.
func (k Keys) Do(ctx context.Context, client *http.Client, method, endpoint, target string, header http.Header, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, endpoint+target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for name, vs := range header {
		for _, v := range vs {
			req.Header.Add(name, v)
		}
	}
	k.Sign(req, body, time.Now())
	return client.Do(req)
}

// CreateBucket creates a bucket with a signed PUT.
func (k Keys) CreateBucket(ctx context.Context, client *http.Client, endpoint, name string) error {
	resp, err := k.Do(ctx, client, http.MethodPut, endpoint, "/"+name, nil, nil)
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
