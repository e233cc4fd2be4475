package versitygwtest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeExecutable(t *testing.T, path, script string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// fakeRepo makes a directory tree with a go.mod at its root and moves the
// test into a package directory two levels down.
func fakeRepo(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pkg := filepath.Join(root, "internal", "versitygwtest")
	if err := os.MkdirAll(pkg, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(pkg)
	return root
}

func TestFindBinaryOrder(t *testing.T) {
	root := fakeRepo(t)
	pathDir := t.TempDir()
	t.Setenv("PATH", pathDir)
	t.Setenv(EnvBinary, "")

	_, err := FindBinary()
	if err == nil || !strings.Contains(err.Error(), filepath.Join(root, "bin", "versitygw")) ||
		!strings.Contains(err.Error(), "make tools") {
		t.Fatalf("with nothing installed: err = %v, want one naming %s/bin/versitygw and make tools", err, root)
	}

	onPath := filepath.Join(pathDir, "versitygw")
	writeExecutable(t, onPath, "")
	if got, err := FindBinary(); err != nil || got != onPath {
		t.Fatalf("PATH only: got %q, %v; want %q", got, err, onPath)
	}

	inRepo := filepath.Join(root, "bin", "versitygw")
	writeExecutable(t, inRepo, "")
	if got, err := FindBinary(); err != nil || got != inRepo {
		t.Fatalf("repo bin/versitygw must win over PATH: got %q, %v; want %q", got, err, inRepo)
	}

	fromEnv := filepath.Join(t.TempDir(), "my-versitygw")
	writeExecutable(t, fromEnv, "")
	t.Setenv(EnvBinary, fromEnv)
	if got, err := FindBinary(); err != nil || got != fromEnv {
		t.Fatalf("$%s must win: got %q, %v; want %q", EnvBinary, got, err, fromEnv)
	}
}

func TestFindBinaryRejectsMissingEnvBinaryWithoutFallingBack(t *testing.T) {
	root := fakeRepo(t)
	writeExecutable(t, filepath.Join(root, "bin", "versitygw"), "")
	missing := filepath.Join(t.TempDir(), "nope")
	t.Setenv(EnvBinary, missing)
	_, err := FindBinary()
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want an error naming %s", err, missing)
	}
}

func TestBinaryVersionPrefersAReleaseVersionThenTheMarker(t *testing.T) {
	dir := t.TempDir()
	release := filepath.Join(dir, "release", "versitygw")
	writeExecutable(t, release, "printf 'Version  : v1.8.0\\nBuild    : abc123\\nBuildTime: now\\n'\n")
	if got := binaryVersion(release); got != "v1.8.0" {
		t.Fatalf("release build: version %q, want v1.8.0", got)
	}

	// go install stamps no version: versitygw says "git".
	installed := filepath.Join(dir, "bin", "versitygw")
	writeExecutable(t, installed, "printf 'Version  : git\\nBuild    : norev\\nBuildTime: none\\n'\n")
	if got := binaryVersion(installed); got != "git" {
		t.Fatalf("no marker, no build info: version %q, want what it reports", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "bin", versionMarker), []byte("v1.8.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := binaryVersion(installed); got != "v1.8.0" {
		t.Fatalf("with marker: version %q, want v1.8.0", got)
	}
}

func TestLaunchReportsAGatewayThatExitsAtStartup(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "versitygw")
	writeExecutable(t, bin, "case \"$1\" in --version) echo 'Version  : v0.0.1';; *) echo 'xattr check failed: operation not supported' >&2; exit 1;; esac\n")
	t.Setenv("TMPDIR", t.TempDir())
	_, err := Launch(Options{Binary: bin})
	if err == nil || !strings.Contains(err.Error(), "exited during startup") || !strings.Contains(err.Error(), "xattr check failed") {
		t.Fatalf("err = %v, want one saying it exited and quoting its log", err)
	}
	if left, _ := filepath.Glob(filepath.Join(os.Getenv("TMPDIR"), "versitygwtest-*")); len(left) != 0 {
		t.Fatalf("a failed Launch left %v behind", left)
	}
}
