package main

import (
	"fmt"
	"path/filepath"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

// mounted is a running s3mount in the foreground, so that its RSS can be
// read.
type mounted struct {
	*benchkit.Daemon
	dir string
}

var mountSeq int

func (b *bench) mount(flags ...string) (*mounted, error) {
	mountSeq++
	dir := filepath.Join(b.work, fmt.Sprintf("mnt%d", mountSeq))
	d, err := b.env.Mount(bucket, dir, nil, flags...)
	if err != nil {
		return nil, err
	}
	return &mounted{Daemon: d, dir: dir}, nil
}

func (m *mounted) unmount() { m.Unmount() }

// peakRSS is the s3mount process's VmHWM in bytes.
func (m *mounted) peakRSS() (int64, error) { return m.ProcStatus("VmHWM:") }

// status is a size field of the s3mount process's /proc/PID/status
// ("VmHWM:", "VmRSS:") in bytes.
func (m *mounted) status(field string) (int64, error) { return m.ProcStatus(field) }
