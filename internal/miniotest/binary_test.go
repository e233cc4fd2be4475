package miniotest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func writeExecutable(t *testing.T, path string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"), 0o755); err != nil {
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
	pkg := filepath.Join(root, "s3io", "awsstore")
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

	if _, err := FindBinary(); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "bin", "minio")) {
		t.Fatalf("with nothing installed: err = %v, want one naming %s/bin/minio", err, root)
	}

	onPath := filepath.Join(pathDir, "minio")
	writeExecutable(t, onPath)
	if got, err := FindBinary(); err != nil || got != onPath {
		t.Fatalf("PATH only: got %q, %v; want %q", got, err, onPath)
	}

	inRepo := filepath.Join(root, "bin", "minio")
	writeExecutable(t, inRepo)
	if got, err := FindBinary(); err != nil || got != inRepo {
		t.Fatalf("repo bin/minio must win over PATH: got %q, %v; want %q", got, err, inRepo)
	}

	fromEnv := filepath.Join(t.TempDir(), "my-minio")
	writeExecutable(t, fromEnv)
	t.Setenv(EnvBinary, fromEnv)
	if got, err := FindBinary(); err != nil || got != fromEnv {
		t.Fatalf("$%s must win: got %q, %v; want %q", EnvBinary, got, err, fromEnv)
	}
}

func TestFindBinaryRejectsMissingEnvBinaryWithoutFallingBack(t *testing.T) {
	root := fakeRepo(t)
	writeExecutable(t, filepath.Join(root, "bin", "minio"))
	missing := filepath.Join(t.TempDir(), "nope")
	t.Setenv(EnvBinary, missing)
	_, err := FindBinary()
	if err == nil || !strings.Contains(err.Error(), missing) {
		t.Fatalf("err = %v, want an error naming %s", err, missing)
	}
}
