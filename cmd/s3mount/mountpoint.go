package main

import (
	"errors"
	"io"
	"os"
)

// checkMountPoint refuses a mount point that is missing, not a directory,
// or not empty (unless allowed), before any S3 request is made.
func checkMountPoint(path string, allowNonEmpty bool) error {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail(exitMountPoint, "mount point %s does not exist", path)
	case err != nil:
		return fail(exitMountPoint, "mount point %s: %v", path, err)
	case !st.IsDir():
		return fail(exitMountPoint, "mount point %s is not a directory", path)
	}
	if allowNonEmpty {
		return nil
	}
	d, err := os.Open(path)
	if err != nil {
		return fail(exitMountPoint, "mount point %s: %v", path, err)
	}
	defer d.Close()
	if _, err := d.Readdirnames(1); !errors.Is(err, io.EOF) {
		if err != nil {
			return fail(exitMountPoint, "mount point %s: %v", path, err)
		}
		return fail(exitMountPoint, "mount point %s is not empty (use --allow-non-empty to mount over it)", path)
	}
	return nil
}
