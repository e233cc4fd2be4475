package main

import (
	"context"
	"errors"
	"log/slog"
	"strings"

	"github.com/s3mount/s3mount/credcmd"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/awsstore"
)

// newStore builds the S3 client from the options. Keys come from a
// password file or a credentials command; otherwise the standard AWS chain
// applies.
func newStore(ctx context.Context, opts *Options, logger *slog.Logger, observe s3io.AttemptObserver) (*awsstore.Store, error) {
	cfg := storeConfig(opts, logger, observe)
	if opts.PasswdFile != "" {
		creds, err := loadPasswdFile(opts.PasswdFile, opts.Bucket)
		if err != nil {
			return nil, fail(exitCredentials, "%v", err)
		}
		cfg.AccessKeyID, cfg.SecretAccessKey, cfg.SessionToken = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	}
	if opts.CredentialsCommand != "" {
		cfg.Credentials = (&credcmd.Command{Line: opts.CredentialsCommand}).Fetch
	}
	store, err := awsstore.New(ctx, cfg)
	if err != nil {
		code := exitError
		if errors.Is(err, s3io.ErrInvalidCredentials) {
			code = exitCredentials
		}
		return nil, fail(code, "S3 client: %v", err)
	}
	if opts.CredentialsCommand != "" {
		// The first run, before any request: its failure is the command's,
		// not the server's.
		if err := store.CheckCredentials(ctx); err != nil {
			return nil, fail(exitCredentials, "%s", credentialsCommandMessage(err))
		}
	}
	return store, nil
}

// storeConfig is the S3 client's configuration from the options, without
// keys.
func storeConfig(opts *Options, logger *slog.Logger, observe s3io.AttemptObserver) awsstore.Config {
	return awsstore.Config{
		Endpoint:        opts.EndpointURL,
		Region:          opts.Region,
		Profile:         opts.Profile,
		ForcePathStyle:  opts.ForcePathStyle,
		NoSignRequest:   opts.NoSignRequest,
		CABundle:        opts.CABundle,
		MaxConcurrency:  max(opts.MaxConcurrency, opts.MaxRequests),
		MaxAttempts:     opts.MaxRetries,
		ResponseTimeout: opts.RequestTimeout,
		Logger:          logger,
		Observe:         observe,
	}
}

// credentialsCommandMessage is the one line a mount whose command failed
// ends with: why, and the last line the command wrote to stderr. That line
// is shown to the user who ran the mount (as if they had run the command)
// and never logged.
func credentialsCommandMessage(err error) string {
	var ce *credcmd.Error
	if !errors.As(err, &ce) {
		return "credentials command: " + strings.TrimPrefix(err.Error(), s3io.ErrInvalidCredentials.Error()+": ")
	}
	msg := ce.Error()
	if ce.Stderr != "" {
		msg += " (stderr: " + ce.Stderr + ")"
	}
	return msg
}
