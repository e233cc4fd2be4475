package main

import (
	"fmt"
	"io"
	"syscall"
	"time"
)

// syncCommand is `s3mount sync MOUNTPOINT...`: it waits until every file
// closed on those mounts (or under those directories) is in S3, for mounts
// with --async-upload, and exits non-zero when an upload fails.
func syncCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: s3mount sync MOUNTPOINT|DIRECTORY...")
		return exitUsage
	}
	code := exitOK
	for _, dir := range args {
		start := time.Now()
		fmt.Fprintf(stdout, "syncing %s ...\n", dir)
		// The daemon does the work: setting s3.sync on a directory returns
		// once the queued uploads under it are done.
		if err := syscall.Setxattr(dir, "s3.sync", []byte("1"), 0); err != nil {
			fmt.Fprintf(stderr, "s3mount sync %s: %v (the daemon's log names the files)\n", dir, err)
			code = 1
			continue
		}
		fmt.Fprintf(stdout, "%s: every closed file is in S3 (%.1fs)\n", dir, time.Since(start).Seconds())
	}
	return code
}
