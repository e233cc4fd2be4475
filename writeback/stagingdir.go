package writeback

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockName is the lock file of a mount's own staging directory.
const lockName = ".lock"

// ownDir makes this mount's directory under the staging directory, locked
// for the mount's life: two live mounts sharing a staging directory never
// touch each other's files, and a later mount recovers a directory only
// once its lock is free (its mount is gone).
func ownDir(staging string) (dir string, lock *os.File, err error) {
	dir, err = os.MkdirTemp(staging, "mount-*")
	if err != nil {
		return "", nil, fmt.Errorf("staging directory: %w", err)
	}
	lock, err = lockDir(dir)
	if err != nil {
		os.Remove(dir)
		return "", nil, fmt.Errorf("staging directory: %w", err)
	}
	return dir, lock, nil
}

// lockDir takes dir's lock without waiting; it fails while the mount that
// owns dir is alive.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// releaseDir drops dir's lock and removes dir when nothing is staged in it.
func releaseDir(dir string, lock *os.File) {
	entries, err := os.ReadDir(dir)
	if err == nil && len(entries) == 1 && entries[0].Name() == lockName {
		os.Remove(filepath.Join(dir, lockName))
		os.Remove(dir)
	}
	lock.Close()
}
