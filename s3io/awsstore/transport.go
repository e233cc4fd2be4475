package awsstore

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/s3mount/s3mount/s3io"
)

// responseHeaderTimeout bounds the wait for a response's headers once the
// request is sent, so that a server that stops answering fails the attempt
// (and the retryer tries again) instead of hanging a file system call. S3
// answers even long copies with early headers.
const responseHeaderTimeout = 2 * time.Minute

// newHTTPClient builds the HTTP client every request goes through.
//
// It starts from the transport the SDK's configuration loader built,
// because that transport already holds the CA bundle from Config.CABundle,
// AWS_CA_BUNDLE or the profile. (Handing the loader a client of our own
// instead makes it refuse AWS_CA_BUNDLE, as it can only add a CA to an
// *awshttp.BuildableClient.) On top it sizes the connection pool and lets
// a test wrap the transport.
func newHTTPClient(loaded aws.HTTPClient, cfg Config) (*http.Client, error) {
	bc, ok := loaded.(*awshttp.BuildableClient)
	switch {
	case loaded == nil:
		bc = awshttp.NewBuildableClient()
	case !ok:
		return nil, fmt.Errorf("unexpected HTTP client %T from the AWS configuration", loaded)
	}
	tr := bc.GetTransport()
	perHost := max(cfg.MaxConcurrency, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	tr.MaxIdleConnsPerHost = perHost
	// Virtual-hosted addressing makes one host per bucket.
	tr.MaxIdleConns = max(2*perHost, awshttp.DefaultHTTPTransportMaxIdleConns)
	tr.ResponseHeaderTimeout = responseHeaderTimeout
	if cfg.ResponseTimeout > 0 {
		tr.ResponseHeaderTimeout = cfg.ResponseTimeout
	}
	// Transparent gzip would break the byte arithmetic of ranged reads.
	tr.DisableCompression = true

	var rt http.RoundTripper = &stallTransport{next: tr, timeout: tr.ResponseHeaderTimeout}
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	return &http.Client{
		Transport: rt,
		Timeout:   bc.GetTimeout(),
		// Like the SDK's own client: a redirect is S3 telling us about
		// another region, an answer to report, not a URL to follow with a
		// signature made for the first one.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// readCABundle reads a PEM file and checks that it holds a certificate.
func readCABundle(path string) ([]byte, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("CA bundle: %w: %v", s3io.ErrInvalidArgument, err)
	}
	if !x509.NewCertPool().AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA bundle %s: %w: no PEM certificate in it", path, s3io.ErrInvalidArgument)
	}
	return pem, nil
}
