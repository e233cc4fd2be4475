package cephtest

import (
	"os"
	"path/filepath"
	"syscall"
)

// directIO reports whether files in dir can be opened with O_DIRECT, which
// bluestore needs for its block file. tmpfs before Linux 6.6 cannot.
func directIO(dir string) bool {
	path := filepath.Join(dir, ".direct-io-probe")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_DIRECT, 0o600)
	if err != nil {
		return false
	}
	f.Close()
	os.Remove(path)
	return true
}
