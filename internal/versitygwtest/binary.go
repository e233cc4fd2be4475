package versitygwtest

import (
	"bufio"
	"bytes"
	"context"
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/s3mount/s3mount/internal/testproc"
)

// EnvBinary names the environment variable that points at the versitygw
// binary.
const EnvBinary = "S3MOUNT_VERSITYGW"

// versionMarker is the file next to bin/versitygw in which the install
// script records the version it built.
const versionMarker = ".versitygw-version"

// FindBinary returns the versitygw binary to run: $S3MOUNT_VERSITYGW when
// set, else bin/versitygw at the repository root (the directory holding
// go.mod, found by walking up from the working directory), else
// "versitygw" on PATH.
//
// An S3MOUNT_VERSITYGW that names no executable file is an error rather
// than a reason to fall back: whoever set it meant that binary.
func FindBinary() (string, error) {
	return testproc.FindBinary(EnvBinary, "versitygw", "run `make tools`, ")
}

// binaryVersion says which versitygw bin is. A release build reports its
// version on `versitygw --version`; one made by `go install …@v1.8.0`
// reports "git", because the version is stamped only by the release
// Makefile's -ldflags. Then the marker the install script writes next to
// the binary is asked, and last the module version Go records in every
// binary it builds.
func binaryVersion(bin string) string {
	reported := reportedVersion(bin)
	if isRealVersion(reported) {
		return reported
	}
	if b, err := os.ReadFile(filepath.Join(filepath.Dir(bin), versionMarker)); err == nil {
		if v := strings.TrimSpace(string(b)); v != "" {
			return v
		}
	}
	if info, err := buildinfo.ReadFile(bin); err == nil && isRealVersion(info.Main.Version) {
		return info.Main.Version
	}
	if reported != "" {
		return reported
	}
	return "unknown"
}

// reportedVersion runs `bin --version` and returns what follows
// "Version :", or "" when it cannot tell.
func reportedVersion(bin string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--version")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	cmd.SysProcAttr = testproc.SysProcAttr()
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return parseVersion(out)
}

// parseVersion reads versitygw's
//
//	Version  : v1.8.0
//	Build    : 1a2b3c4
//	BuildTime: 2026-…
func parseVersion(out []byte) string {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(name) == "Version" {
			return strings.TrimSpace(value)
		}
	}
	return ""
}

// isRealVersion rejects the placeholders of an unstamped build.
func isRealVersion(v string) bool {
	switch v {
	case "", "git", "none", "unknown", "(devel)":
		return false
	}
	return true
}
