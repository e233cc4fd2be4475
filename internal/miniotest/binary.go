package miniotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/internal/testproc"
)

// EnvBinary names the environment variable that points at the MinIO binary.
const EnvBinary = "S3MOUNT_MINIO"

// EnvRequire names the environment variable that, set to "1", turns a
// missing MinIO (or any other missing test prerequisite) into a failure.
const EnvRequire = "S3MOUNT_TEST_REQUIRE"

// FindBinary returns the MinIO binary to run: $S3MOUNT_MINIO when set,
// else bin/minio at the repository root (the directory holding go.mod,
// found by walking up from the working directory), else "minio" on PATH.
//
// An S3MOUNT_MINIO that names no executable file is an error rather than a
// reason to fall back: whoever set it meant that binary.
func FindBinary() (string, error) {
	return testproc.FindBinary(EnvBinary, "minio", "run `make tools`, ")
}

// SkipOrFail skips the test because a prerequisite is missing, or fails it
// when S3MOUNT_TEST_REQUIRE=1 says that nothing may be skipped.
func SkipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvRequire) == "1" {
		t.Fatalf("%s (and %s=1 forbids skipping)", reason, EnvRequire)
	}
	t.Skip(reason)
}

// Version is the pinned MinIO version the binary was built at (the marker
// `make tools` writes beside it), or "unknown".
func Version() string {
	bin, err := FindBinary()
	if err != nil {
		return "unknown"
	}
	b, err := os.ReadFile(filepath.Join(filepath.Dir(bin), ".minio-version"))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}
