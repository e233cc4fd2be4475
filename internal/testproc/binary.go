package testproc

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// FindBinary returns the binary name to run: $envVar when set, else
// bin/NAME at the repository root (the directory holding go.mod, found by
// walking up from the working directory), else NAME on PATH. An $envVar
// that names no executable file is an error rather than a reason to fall
// back: whoever set it meant that binary. hint says how to get the binary.
func FindBinary(envVar, name, hint string) (string, error) {
	if p := os.Getenv(envVar); p != "" {
		if err := IsExecutable(p); err != nil {
			return "", fmt.Errorf("%s binary from $%s: %w", name, envVar, err)
		}
		return p, nil
	}
	var repoBin string
	if root, err := RepoRoot(); err == nil {
		repoBin = filepath.Join(root, "bin", name)
		if IsExecutable(repoBin) == nil {
			return repoBin, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	where := "on PATH"
	if repoBin != "" {
		where = "at " + repoBin + " or on PATH"
	}
	return "", fmt.Errorf("%s binary not found (%sset $%s, or put it %s)", name, hint, envVar, where)
}

// IsExecutable says why path is not an executable file, or returns nil.
func IsExecutable(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", path)
	}
	return nil
}

// RepoRoot walks up from the working directory (a test's package
// directory) to the directory that holds go.mod.
func RepoRoot() (string, error) {
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
