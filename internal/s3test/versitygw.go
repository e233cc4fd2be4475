package s3test

import "github.com/s3mount/s3mount/internal/versitygwtest"

func versityGWMissing() error {
	_, err := versitygwtest.FindBinary()
	return err
}

func launchVersityGW(opts Options) (*Server, error) {
	g, err := versitygwtest.Launch(versitygwtest.Options{CertFile: opts.CertFile, KeyFile: opts.KeyFile})
	if err != nil {
		return nil, err
	}
	return &Server{Kind: VersityGW, Version: g.Version, Endpoint: g.Endpoint, AccessKey: g.AccessKey,
		SecretKey: g.SecretKey, Region: g.Region, CertFile: g.CertFile, proc: g}, nil
}
