package miniotest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	if p := os.Getenv(EnvBinary); p != "" {
		if err := isExecutable(p); err != nil {
			return "", fmt.Errorf("minio binary from $%s: %w", EnvBinary, err)
		}
		return p, nil
	}
	var repoBin string
	if root, err := repoRoot(); err == nil {
		repoBin = filepath.Join(root, "bin", "minio")
		if isExecutable(repoBin) == nil {
			return repoBin, nil
		}
	}
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	where := "on PATH"
	if repoBin != "" {
		where = "at " + repoBin + " or on PATH"
	}
	return "", fmt.Errorf("minio binary not found (set $%s, or put it %s)", EnvBinary, where)
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

func isExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// repoRoot walks up from the working directory (a test's package
// directory) to the directory that holds go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
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
