package fs

import (
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// MountOptions are the kernel-facing settings of a mount.
type MountOptions struct {
	FSName     string
	AllowOther bool
	AllowRoot  bool
	NonEmpty   bool
	Debug      bool // log every FUSE request (very verbose)
}

// maxIO is the largest FUSE read and write: 1 MiB requests need a fraction
// of the round trips of the 128 KiB default.
const maxIO = 1 << 20

// Mount mounts f at mountpoint and returns the running server.
func (f *FS) Mount(mountpoint string, mo MountOptions) (*fuse.Server, error) {
	return mountTree(mountpoint, f.Root(), f.Options(), mo, f.cfg.ReadOnly, false, f.log)
}

// mountTree mounts the tree of root; guard keeps root out of every node
// but the root (see rootGuard).
func mountTree(mountpoint string, root gofs.InodeEmbedder, opts *gofs.Options, mo MountOptions, readOnly, guard bool, log *slog.Logger) (*fuse.Server, error) {
	opts.MountOptions = fuse.MountOptions{
		FsName:       mo.FSName,
		Name:         "s3mount",
		AllowOther:   mo.AllowOther,
		MaxWrite:     maxIO,
		MaxReadAhead: maxIO,
		DirectMount:  true, // as root, mount(2) directly; else fusermount3
		Debug:        mo.Debug,
		// security.* xattrs are asked for on every write; S3 has none.
		IgnoreSecurityLabels: true,
		// Nothing is read from a file descriptor: go-fuse would otherwise
		// try to splice every ReadResultData reply through a pipe (a pipe
		// write and, for 1 MiB reads, a refused resize and a log line per
		// read) before it falls back to the plain write it then makes.
		DisableSplice: true,
		// The kernel checks permission bits itself, so --allow-other mounts
		// still honour modes and owners.
		Options: []string{"default_permissions"},
	}
	if readOnly {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "ro")
	}
	if mo.AllowRoot {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "allow_root")
	}
	if mo.NonEmpty {
		opts.MountOptions.Options = append(opts.MountOptions.Options, "nonempty")
	}
	// As gofs.Mount, with the guard between the kernel and the node tree.
	var raw fuse.RawFileSystem = gofs.NewNodeFS(root, opts)
	if guard {
		raw = rootGuard{raw}
	}
	server, err := fuse.NewServer(raw, mountpoint, &opts.MountOptions)
	if err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	go server.Serve()
	if err := server.WaitMount(); err != nil {
		return nil, fmt.Errorf("mount %s: %w", mountpoint, err)
	}
	if err := setReadAhead(mountpoint, maxIO); err != nil {
		log.Debug("kernel readahead of the mount left at the kernel's default (128 KiB)", "err", err)
	}
	return server, nil
}

// setReadAhead sets the kernel's readahead for the mount to n bytes. The
// kernel caps a FUSE mount's readahead at its default, 128 KiB, whatever
// MaxReadAhead asks for, so that a sequential reader has at most a couple
// of 128 KiB reads in flight; at 1 MiB, reads served from memory or the
// disk cache run about 1.5 times faster (cold reads are unchanged: S3 is
// read ahead by s3mount itself). Only root may set it (sysfs).
func setReadAhead(mountpoint string, n int) error {
	var st syscall.Stat_t
	if err := syscall.Stat(mountpoint, &st); err != nil {
		return err
	}
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	return os.WriteFile(path, []byte(strconv.Itoa(n>>10)), 0)
}
