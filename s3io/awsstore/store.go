package awsstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/s3io"
)

// Config says how to reach the S3 service.
type Config struct {
	// Endpoint is a custom endpoint URL; it may carry a base path, e.g.
	// http://host:39999/api/v1/s3. Empty means AWS.
	Endpoint       string
	Region         string
	Profile        string
	ForcePathStyle bool
	NoSignRequest  bool
	// Static keys (from a password file). Empty: the standard AWS chain.
	AccessKeyID, SecretAccessKey, SessionToken string
	// CABundle is a PEM file of extra trusted CAs. AWS_CA_BUNDLE works too.
	CABundle       string
	MaxConcurrency int
	MaxAttempts    int
	// Logger gets one debug line per HTTP attempt; never a secret.
	Logger *slog.Logger
	// WrapTransport, when set, wraps the HTTP transport (fault injection
	// in tests).
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Store is s3io.Store on aws-sdk-go-v2.
type Store struct {
	client      *s3.Client
	maxAttempts int
	log         *slog.Logger
}

var _ s3io.Store = (*Store)(nil)

// defaultRegion is used when neither the flags nor the AWS configuration
// name one; S3-compatible servers mostly ignore it.
const defaultRegion = "us-east-1"

// New builds a Store.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = 16
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	httpClient, err := newHTTPClient(cfg)
	if err != nil {
		return nil, err
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = cfg.MaxAttempts
				o.MaxBackoff = 10 * time.Second
				// Many failures in a row must be retried each, never
				// refused with "retry quota exceeded".
				o.RateLimiter = ratelimit.None
			})
		}),
		// Many S3-compatible servers reject the SDK's newer default
		// checksum headers; send and check checksums only when required.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	switch {
	case cfg.NoSignRequest:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	case cfg.AccessKeyID != "":
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken)))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = defaultRegion
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.ForcePathStyle
		// Set here, not in LoadDefaultConfig, which refuses AWS_CA_BUNDLE
		// with a client it did not build; ours applies the bundle itself.
		o.HTTPClient = httpClient
		o.APIOptions = append(o.APIOptions, requestLogger(log))
	})
	return &Store{client: client, maxAttempts: cfg.MaxAttempts, log: log}, nil
}

// newHTTPClient builds the HTTP client: a connection pool sized for the
// concurrency, the extra CAs, and the test hook.
func newHTTPClient(cfg Config) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 2 * cfg.MaxConcurrency
	tr.MaxIdleConnsPerHost = 2 * cfg.MaxConcurrency
	tr.IdleConnTimeout = 90 * time.Second
	tr.ResponseHeaderTimeout = 60 * time.Second
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	// Compressed bodies would break ranged reads' byte arithmetic.
	tr.DisableCompression = true
	bundles := []string{cfg.CABundle, os.Getenv("AWS_CA_BUNDLE")}
	for _, path := range bundles {
		if path == "" {
			continue
		}
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("CA bundle: %w", err)
		}
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = &tls.Config{}
		}
		if tr.TLSClientConfig.RootCAs == nil {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			tr.TLSClientConfig.RootCAs = pool
		}
		if !tr.TLSClientConfig.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s: no PEM certificates in it", path)
		}
	}
	var rt http.RoundTripper = tr
	if cfg.WrapTransport != nil {
		rt = cfg.WrapTransport(rt)
	}
	return &http.Client{Transport: rt}, nil
}

// ProbeBucket makes one small listing of bucket with few retries, so that
// the mount fails fast and clearly on wrong credentials, a missing bucket
// or an unreachable endpoint.
func (s *Store) ProbeBucket(ctx context.Context, bucket, prefix string) error {
	_, err := s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:  aws.String(bucket),
		Prefix:  aws.String(prefix),
		MaxKeys: aws.Int32(1),
	}, probeAttempts)
	return mapError("ListObjectsV2", bucket, "", err)
}

// ProbeService lists the buckets, for an all-buckets mount.
func (s *Store) ProbeService(ctx context.Context) error {
	_, err := s.client.ListBuckets(ctx, &s3.ListBucketsInput{}, probeAttempts)
	return mapError("ListBuckets", "", "", err)
}

func probeAttempts(o *s3.Options) {
	o.RetryMaxAttempts = 2
}
