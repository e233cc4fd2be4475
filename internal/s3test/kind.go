package s3test

import (
	"fmt"
	"os"
	"strings"
)

// Kind names a family of S3 servers the tests know how to start (or, for
// External, how to reach).
type Kind string

const (
	MinIO     Kind = "minio"
	Ceph      Kind = "ceph"
	VersityGW Kind = "versitygw"
	// External is a server the tests do not start: a site's gateway or AWS,
	// given by S3MOUNT_TEST_ENDPOINT and the keys in the environment.
	External Kind = "external"
)

// EnvServer names the setting that chooses the server; empty means MinIO.
const EnvServer = "S3MOUNT_TEST_SERVER"

// Kinds lists the servers the tests start themselves, in the order
// `make test-servers` runs them.
var Kinds = []Kind{MinIO, Ceph, VersityGW}

// Selected returns the server kind chosen by $S3MOUNT_TEST_SERVER.
func Selected() (Kind, error) {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(EnvServer)))
	if v == "" {
		return MinIO, nil
	}
	for _, k := range append(Kinds, External) {
		if Kind(v) == k {
			return k, nil
		}
	}
	return "", fmt.Errorf("$%s=%q: want one of minio, ceph, versitygw, external", EnvServer, v)
}

// String returns the server's name as people write it.
func (k Kind) String() string {
	switch k {
	case MinIO:
		return "MinIO"
	case Ceph:
		return "Ceph RGW"
	case VersityGW:
		return "versitygw"
	case External:
		return "external S3"
	}
	return string(k)
}
