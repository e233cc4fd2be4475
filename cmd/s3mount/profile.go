package main

import (
	"os"
	"runtime/pprof"
)

// startProfile writes a CPU profile of the whole mount to the file named
// by S3MOUNT_CPUPROFILE, for performance work; the returned function ends
// it at unmount.
func startProfile() func() {
	path := os.Getenv("S3MOUNT_CPUPROFILE")
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	if err != nil {
		return func() {}
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
