package s3test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// minioKMSKey is the name of the built-in KMS key of a MinIO started with
// Options.KMS.
const minioKMSKey = "s3mount-test-key"

func minioMissing() error {
	_, err := miniotest.FindBinary()
	return err
}

func launchMinIO(opts Options) (*Server, error) {
	mo := miniotest.Options{CertFile: opts.CertFile, KeyFile: opts.KeyFile}
	if opts.KMS {
		// MINIO_KMS_SECRET_KEY=<key name>:<base64 of 32 bytes>
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		mo.Env = []string{"MINIO_KMS_SECRET_KEY=" + minioKMSKey + ":" + base64.StdEncoding.EncodeToString(key)}
	}
	m, err := miniotest.Launch(mo)
	if err != nil {
		return nil, err
	}
	srv := &Server{Kind: MinIO, Version: miniotest.Version(), Endpoint: m.Endpoint, AccessKey: m.AccessKey,
		SecretKey: m.SecretKey, Region: m.Region, CertFile: m.CertFile, proc: m}
	if opts.KMS {
		srv.KMSKeyID = minioKMSKey
	}
	return srv, nil
}

// ErrNotMinIO says that a MinIO-only helper met another server.
var ErrNotMinIO = errors.New("not a MinIO server")

// SetMinIOUser creates a MinIO user with secretKey and policy (such as
// "readwrite"), or gives an existing one a new secret, through MinIO's
// admin API; other servers give ErrNotMinIO.
func (s *Server) SetMinIOUser(ctx context.Context, accessKey, secretKey, policy string) error {
	if s.Kind != MinIO {
		return fmt.Errorf("%w: %s", ErrNotMinIO, s.Kind)
	}
	return miniotest.SetUser(ctx, s.client, s.Endpoint, s.keys(), accessKey, secretKey, policy)
}

// SetMinIOPolicy creates (or replaces) MinIO's canned policy name with the
// IAM policy document doc, for SetMinIOUser; other servers give
// ErrNotMinIO.
func (s *Server) SetMinIOPolicy(ctx context.Context, name, doc string) error {
	if s.Kind != MinIO {
		return fmt.Errorf("%w: %s", ErrNotMinIO, s.Kind)
	}
	return miniotest.SetPolicy(ctx, s.client, s.Endpoint, s.keys(), name, doc)
}
