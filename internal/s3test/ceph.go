package s3test

import "github.com/s3mount/s3mount/internal/cephtest"

func cephMissing() error { return cephtest.FindBinaries() }

// launchCeph starts a throw-away cluster: one monitor, one OSD, one RGW.
// Its testing KMS always has a key, so Options.KMS needs nothing more.
func launchCeph(opts Options) (*Server, error) {
	g, err := cephtest.Launch(cephtest.Options{CertFile: opts.CertFile, KeyFile: opts.KeyFile})
	if err != nil {
		return nil, err
	}
	return &Server{Kind: Ceph, Version: g.Version, Endpoint: g.Endpoint, AccessKey: g.AccessKey,
		SecretKey: g.SecretKey, Region: g.Region, CertFile: g.CertFile, KMSKeyID: cephtest.KMSKeyID, proc: g}, nil
}
