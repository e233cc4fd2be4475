package s3test

import (
	"errors"
	"os"
)

// The settings of an external server.
const (
	EnvEndpoint  = "S3MOUNT_TEST_ENDPOINT"   // e.g. https://s3.example.edu or http://host:39999/api/v1/s3
	EnvAccessKey = "S3MOUNT_TEST_ACCESS_KEY" // keys of an account that may create and delete buckets
	EnvSecretKey = "S3MOUNT_TEST_SECRET_KEY"
	EnvRegion    = "S3MOUNT_TEST_REGION"    // default us-east-1
	EnvCABundle  = "S3MOUNT_TEST_CA_BUNDLE" // a PEM file to trust, when the server's certificate is private
	EnvLacks     = "S3MOUNT_TEST_LACKS"     // comma-separated features the server lacks (see lacks.go)
	EnvKMSKeyID  = "S3MOUNT_TEST_KMS_KEY_ID"
)

func externalMissing() error {
	if os.Getenv(EnvEndpoint) == "" || os.Getenv(EnvAccessKey) == "" {
		return errors.New("external server: set " + EnvEndpoint + ", " + EnvAccessKey + " and " + EnvSecretKey)
	}
	return nil
}

func external() (*Server, error) {
	if err := externalMissing(); err != nil {
		return nil, err
	}
	region := os.Getenv(EnvRegion)
	if region == "" {
		region = "us-east-1"
	}
	return &Server{Kind: External, Version: "external", Endpoint: os.Getenv(EnvEndpoint),
		AccessKey: os.Getenv(EnvAccessKey), SecretKey: os.Getenv(EnvSecretKey), Region: region,
		CertFile: os.Getenv(EnvCABundle), KMSKeyID: os.Getenv(EnvKMSKeyID)}, nil
}
