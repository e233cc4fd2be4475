package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/awsstore"
)

// newStore builds the S3 client from the options. Static keys come only
// from a password file; otherwise the standard AWS chain applies.
func newStore(ctx context.Context, opts *Options, logger *slog.Logger) (*awsstore.Store, error) {
	cfg := awsstore.Config{
		Endpoint:        opts.EndpointURL,
		Region:          opts.Region,
		Profile:         opts.Profile,
		ForcePathStyle:  opts.ForcePathStyle,
		NoSignRequest:   opts.NoSignRequest,
		CABundle:        opts.CABundle,
		MaxConcurrency:  opts.MaxConcurrency,
		MaxAttempts:     opts.MaxRetries,
		ResponseTimeout: opts.RequestTimeout,
		Logger:          logger,
	}
	if opts.PasswdFile != "" {
		creds, err := loadPasswdFile(opts.PasswdFile, opts.Bucket)
		if err != nil {
			return nil, fail(exitCredentials, "%v", err)
		}
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	}
	store, err := awsstore.New(ctx, cfg)
	if err != nil {
		code := exitError
		if errors.Is(err, s3io.ErrInvalidCredentials) {
			code = exitCredentials
		}
		return nil, fail(code, "S3 client: %v", err)
	}
	return store, nil
}
