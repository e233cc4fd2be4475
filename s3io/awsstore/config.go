package awsstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/s3io"
)

// Config says how to reach the S3 service and how to behave on failure.
type Config struct {
	// Endpoint is a custom endpoint URL (--endpoint-url). It may carry a
	// base path, e.g. http://host:39999/api/v1/s3. Empty means AWS.
	Endpoint string
	// Region defaults to the profile's or the environment's, else us-east-1.
	Region  string
	Profile string
	// ForcePathStyle addresses buckets as ENDPOINT/BUCKET/KEY rather than
	// BUCKET.ENDPOINT/KEY.
	ForcePathStyle bool
	// NoSignRequest sends anonymous requests.
	NoSignRequest bool
	// Static keys (from a password file). Empty AccessKeyID means the
	// standard AWS chain: environment, ~/.aws files with Profile, web
	// identity, IMDS. SecretAccessKey may be empty (token schemes); so may
	// AWS_SECRET_ACCESS_KEY when it is set beside AWS_ACCESS_KEY_ID.
	AccessKeyID, SecretAccessKey, SessionToken string
	// Credentials, when set, is where keys come from instead (a
	// credentials command): asked at the first request, again before the
	// keys expire, and again when S3 rejects them (credentials.go).
	Credentials s3io.CredentialsSource
	// CABundle is a PEM file of CAs to trust instead of the system's.
	// AWS_CA_BUNDLE and the profile's ca_bundle work too; CABundle wins.
	CABundle string
	// MaxConcurrency is how many requests the caller runs at once; it sizes
	// the connection pool so that they reuse connections. Default 16.
	MaxConcurrency int
	// MaxAttempts is the number of attempts per request, the first one
	// included. Default 5.
	MaxAttempts int
	// MaxBackoff caps the wait between attempts. Default 20 s (the SDK's).
	MaxBackoff time.Duration
	// ResponseTimeout bounds the wait for a response's headers once a
	// request is sent; the attempt then fails and is retried. Default 2 min.
	ResponseTimeout time.Duration
	// Logger gets, at debug level, one line per HTTP attempt: operation,
	// bucket, key, status, duration, request id. Never a secret. Nil means
	// no logging.
	Logger *slog.Logger
	// Observe, when set, is told of every HTTP attempt (for metrics).
	Observe s3io.AttemptObserver
	// WrapTransport wraps the HTTP transport, for fault injection in tests.
	WrapTransport func(http.RoundTripper) http.RoundTripper
}

// Defaults for zero Config fields.
const (
	defaultRegion         = "us-east-1"
	defaultMaxAttempts    = 5
	defaultMaxConcurrency = 16
)

// Store is s3io.Store on aws-sdk-go-v2. It is safe for concurrent use.
type Store struct {
	client      *s3.Client
	presign     *s3.PresignClient
	maxAttempts int
	log         *slog.Logger
	// encryptedUploads maps the ID of a multipart upload that asked for
	// encryption to what it asked, so that its completion can be checked
	// (CreateMultipartUpload's answer does not always echo it: MinIO).
	encryptedUploads sync.Map
	creds            aws.CredentialsProvider
	// refreshing is the provider of keys from Config.Credentials, nil
	// otherwise.
	refreshing *refreshingProvider
	listMeta   listMetadataState
	lean       *leanHTTP // nil: every GET through the SDK
}

var _ s3io.Store = (*Store)(nil)

// New builds a Store. It reads the AWS configuration files and environment
// but makes no request: credentials are fetched on first use, and
// ProbeBucket or ProbeService check them.
func New(ctx context.Context, cfg Config) (*Store, error) {
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = defaultMaxAttempts
	}
	if cfg.MaxConcurrency <= 0 {
		cfg.MaxConcurrency = defaultMaxConcurrency
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = retry.DefaultMaxBackoff
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := checkEndpoint(cfg.Endpoint); err != nil {
		return nil, err
	}
	var refreshing *refreshingProvider
	if cfg.Credentials != nil && !cfg.NoSignRequest {
		refreshing = newRefreshingProvider(cfg.Credentials, log)
	}
	awsCfg, err := loadAWSConfig(ctx, cfg, refreshing, log)
	if err != nil {
		return nil, err
	}
	httpClient, err := newHTTPClient(awsCfg.HTTPClient, cfg)
	if err != nil {
		return nil, err
	}
	var signer *rekeyingSigner
	if refreshing != nil {
		signer = newRekeyingSigner(awsCfg.Logger, awsCfg.ClientLogMode.IsSigning())
	}
	client := s3.NewFromConfig(awsCfg, func(o *s3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.ForcePathStyle
		o.EndpointResolverV2 = newEndpointCache(s3.NewDefaultEndpointResolverV2())
		o.HTTPClient = httpClient
		o.APIOptions = append(o.APIOptions, requestLogging(log, cfg.Observe))
		if refreshing != nil {
			o.APIOptions = append(o.APIOptions, retryRejectedKeys(refreshing))
			o.HTTPSignerV4 = signer
		}
	})
	presign := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
		if signer != nil {
			o.Presigner = signer
		}
	})
	return &Store{client: client, presign: presign, maxAttempts: cfg.MaxAttempts, log: log,
		creds: awsCfg.Credentials, refreshing: refreshing,
		lean: newLeanHTTP(cfg, awsCfg.Region, awsCfg.Credentials, httpClient, log)}, nil
}

// CheckCredentials obtains the keys requests will be signed with (running
// a credentials command, for one), without a request to S3, so that a
// mount whose keys cannot be had says so before it probes the server. The
// error wraps s3io.ErrInvalidCredentials and the source's own error.
func (s *Store) CheckCredentials(ctx context.Context) error {
	if s.creds == nil {
		return nil
	}
	_, err := s.creds.Retrieve(ctx)
	if err == nil {
		return nil
	}
	var ce *credentialsError
	if errors.As(err, &ce) {
		err = ce.err
	}
	return fmt.Errorf("%w: %w", s3io.ErrInvalidCredentials, err)
}

// AccessKeyID returns the access key ID requests are signed with ("" when
// unsigned or unknown): the identity a mount's staged data belongs to.
// The secret is never returned.
func (s *Store) AccessKeyID(ctx context.Context) string {
	if s.creds == nil {
		return ""
	}
	c, err := s.creds.Retrieve(ctx)
	if err != nil {
		return ""
	}
	return c.AccessKeyID
}

// loadAWSConfig resolves region, credentials and CA bundle the way the AWS
// CLI does, with s3mount's overrides.
func loadAWSConfig(ctx context.Context, cfg Config, refreshing *refreshingProvider, log *slog.Logger) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return newRetryer(cfg) }),
		// Many S3-compatible servers reject the SDK's newer default
		// checksum headers; send and check checksums only when an
		// operation requires them.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
		config.WithLogger(sdkLogger(log)),
	}
	if cfg.Region != "" {
		opts = append(opts, config.WithRegion(cfg.Region))
	}
	if cfg.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(cfg.Profile))
	}
	if cfg.CABundle != "" {
		pem, err := readCABundle(cfg.CABundle)
		if err != nil {
			return aws.Config{}, err
		}
		opts = append(opts, config.WithCustomCABundle(bytes.NewReader(pem)))
	} else if path := os.Getenv("AWS_CA_BUNDLE"); path != "" {
		// The SDK reads AWS_CA_BUNDLE itself, but silently ignores a file
		// without certificates; check it to fail early and clearly.
		if _, err := readCABundle(path); err != nil {
			return aws.Config{}, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		}
	}
	// Our own providers are set again after loading, because the loader
	// wraps a given provider in an aws.CredentialsCache, which cannot hold
	// keys with an empty secret.
	var own aws.CredentialsProvider
	switch {
	case cfg.NoSignRequest:
		opts = append(opts, config.WithCredentialsProvider(aws.AnonymousCredentials{}))
	case refreshing != nil:
		own = refreshing
	case cfg.AccessKeyID != "":
		own = staticKeys{aws.Credentials{AccessKeyID: cfg.AccessKeyID, SecretAccessKey: cfg.SecretAccessKey,
			SessionToken: cfg.SessionToken, Source: "s3mount password file"}}
	case cfg.Profile == "" && envKeyWithEmptySecret():
		// The SDK reads AWS_ACCESS_KEY_ID only with a secret beside it.
		own = staticKeys{aws.Credentials{AccessKeyID: os.Getenv("AWS_ACCESS_KEY_ID"),
			SessionToken: os.Getenv("AWS_SESSION_TOKEN"), Source: "environment, empty secret"}}
	}
	if own != nil {
		opts = append(opts, config.WithCredentialsProvider(own))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		var noProfile config.SharedConfigProfileNotExistError
		if errors.As(err, &noProfile) {
			return aws.Config{}, fmt.Errorf("AWS configuration: %w: %v", s3io.ErrInvalidCredentials, err)
		}
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if awsCfg.Region == "" {
		awsCfg.Region = defaultRegion
	}
	if own != nil {
		awsCfg.Credentials = own
	}
	if !cfg.NoSignRequest && awsCfg.Credentials != nil {
		awsCfg.Credentials = markCredentialErrors{awsCfg.Credentials}
	}
	return awsCfg, nil
}

// newRetryer is the SDK's standard retryer (exponential backoff with
// jitter; retries throttling, 5xx and connection errors) without its retry
// quota: a file system under a long outage must keep retrying each request
// its full count, not fail fast with "retry quota exceeded".
func newRetryer(cfg Config) aws.Retryer {
	return retry.NewStandard(func(o *retry.StandardOptions) {
		o.MaxAttempts = cfg.MaxAttempts
		o.MaxBackoff = cfg.MaxBackoff
		o.RateLimiter = ratelimit.None
	})
}

// checkEndpoint rejects an endpoint the SDK would misread, such as
// "minio:9000" without a scheme.
func checkEndpoint(endpoint string) error {
	if endpoint == "" {
		return nil
	}
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("endpoint %q: %w: want http://HOST[:PORT][/PATH] or https://…", endpoint, s3io.ErrInvalidArgument)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("endpoint %q: %w: no query or fragment allowed", endpoint, s3io.ErrInvalidArgument)
	}
	return nil
}

// envKeyWithEmptySecret reports an access key in the environment with
// AWS_SECRET_ACCESS_KEY set and empty: a token scheme's key (OSiRIS).
// An unset AWS_SECRET_ACCESS_KEY still means "not these keys", as for the
// SDK.
func envKeyWithEmptySecret() bool {
	secret, set := os.LookupEnv("AWS_SECRET_ACCESS_KEY")
	return os.Getenv("AWS_ACCESS_KEY_ID") != "" && set && secret == ""
}

// staticKeys are fixed keys. Unlike the SDK's static provider they may have
// an empty secret, which the signer uses as it is.
type staticKeys struct{ c aws.Credentials }

func (k staticKeys) Retrieve(context.Context) (aws.Credentials, error) { return k.c, nil }

// markCredentialErrors tags failures to obtain credentials (no credentials
// anywhere, an expired SSO session, an unreachable IMDS) so that errors.go
// reports them as ErrInvalidCredentials rather than as a server failure.
type markCredentialErrors struct {
	aws.CredentialsProvider
}

func (m markCredentialErrors) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := m.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err}
	}
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string { return "no usable credentials: " + e.err.Error() }
func (e *credentialsError) Unwrap() error { return e.err }
