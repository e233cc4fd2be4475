package integration

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// renameat2 calls renameat2(2) with flags.
func renameat2(from, to string, flags uint) error {
	return unix.Renameat2(unix.AT_FDCWD, from, unix.AT_FDCWD, to, flags)
}

// TestErrnoOfEachOperationIsAsPromised checks, one row per statement of
// SEMANTICS.md, the errno of unsupported and invalid operations.
func TestErrnoOfEachOperationIsAsPromised(t *testing.T) {
	s := newSession(t, map[string]string{"file": "x", "full/a": "a", "other/b": "b"})
	if err := os.Mkdir(s.path("empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	fsyncDir(t, s.mnt) // the marker is written behind: in S3 now
	long := strings.Repeat("n", 256)
	p := s.path
	cases := []struct {
		name string
		op   func() error
		want syscall.Errno
	}{
		{"open of a missing file", func() error { _, err := os.Open(p("missing")); return err }, syscall.ENOENT},
		{"hard link", func() error { return os.Link(p("file"), p("hard")) }, syscall.EPERM},
		{"rmdir of a non-empty directory", func() error { return syscall.Rmdir(p("full")) }, syscall.ENOTEMPTY},
		{"rmdir of a file", func() error { return syscall.Rmdir(p("file")) }, syscall.ENOTDIR},
		{"unlink of a directory", func() error { return syscall.Unlink(p("full")) }, syscall.EISDIR},
		{"mkdir of an existing name", func() error { return os.Mkdir(p("full"), 0o755) }, syscall.EEXIST},
		{"exclusive create of an existing file", func() error {
			_, err := os.OpenFile(p("file"), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			return err
		}, syscall.EEXIST},
		{"rename of a directory over a non-empty one", func() error { return syscall.Rename(p("empty"), p("other")) }, syscall.ENOTEMPTY},
		{"rename of a file over a directory", func() error { return syscall.Rename(p("file"), p("full")) }, syscall.EISDIR},
		{"rename of a directory over a file", func() error { return syscall.Rename(p("full"), p("file")) }, syscall.ENOTDIR},
		{"RENAME_NOREPLACE over an existing file", func() error { return renameat2(p("file"), p("other/b"), 1) }, syscall.EEXIST},
		{"RENAME_EXCHANGE", func() error { return renameat2(p("file"), p("other/b"), 2) }, syscall.EINVAL},
		{"name over 255 bytes (lookup)", func() error { _, err := os.Stat(p(long)); return err }, syscall.ENAMETOOLONG},
		{"name over 255 bytes (create)", func() error { return os.WriteFile(p(long), nil, 0o644) }, syscall.ENAMETOOLONG},
		{"readlink of a regular file", func() error { _, err := os.Readlink(p("file")); return err }, syscall.EINVAL},
		{"truncate of a directory", func() error { return os.Truncate(p("full"), 0) }, syscall.EISDIR},
		{"open of a directory for writing", func() error { _, err := os.OpenFile(p("full"), os.O_WRONLY, 0); return err }, syscall.EISDIR},
	}
	for _, c := range cases {
		if err := c.op(); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// Nothing above changed the bucket. (syscall.Rename: os.Rename refuses
	// a directory target itself, with EEXIST.)
	if keys := strings.Join(s.list(""), " "); keys != "empty/ file full/a other/b" {
		t.Errorf("keys after the refused operations: %s", keys)
	}
}

func TestReadOnlyMountRefusesEveryChange(t *testing.T) {
	s := newSession(t, map[string]string{"file": "x", "d/a": "a"}, "--read-only")
	p := s.path
	for name, op := range map[string]func() error{
		"write":  func() error { _, err := os.OpenFile(p("file"), os.O_WRONLY, 0); return err },
		"create": func() error { return os.WriteFile(p("new"), nil, 0o644) },
		"mkdir":  func() error { return os.Mkdir(p("new"), 0o755) },
		"unlink": func() error { return os.Remove(p("file")) },
		"rename": func() error { return os.Rename(p("file"), p("moved")) },
		"chmod":  func() error { return os.Chmod(p("file"), 0o600) },
		"rmdir":  func() error { return syscall.Rmdir(p("d")) },
	} {
		if err := op(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s on a read-only mount: %v, want EROFS", name, err)
		}
	}
}
