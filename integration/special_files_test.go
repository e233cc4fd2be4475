package integration

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// FIFOs and device nodes are stored as s3fs stores them (an empty object,
// the type in x-amz-meta-mode, the device number in x-amz-meta-rdev):
// mkfifo, mknod and tar x of such entries work, and a fresh mount shows
// them again, to ls -l and stat alike.
func TestFIFOsAndDevicesSurviveARemountAndTar(t *testing.T) {
	s := newSession(t, nil)
	run(t, "mkfifo", "-m", "0640", s.path("fifo"))
	if os.Geteuid() == 0 {
		run(t, "mknod", "-m", "0600", s.path("null"), "c", "1", "3")
	}
	src := t.TempDir()
	run(t, "mkfifo", filepath.Join(src, "from-tar"))
	archive := filepath.Join(t.TempDir(), "a.tar")
	run(t, "tar", "-C", src, "-cf", archive, "from-tar")
	run(t, "tar", "-C", s.mnt, "-xf", archive)
	if md := s.metadata("fifo"); md["mode"] != "4512" { // S_IFIFO|0640
		t.Errorf("x-amz-meta-mode of the FIFO = %q, want 4512", md["mode"])
	}
	s.remount()
	out := run(t, "ls", "-l", s.mnt)
	for _, want := range []string{"prw-r----- ", "from-tar"} {
		if !strings.Contains(out, want) {
			t.Errorf("ls -l after a remount lacks %q:\n%s", want, out)
		}
	}
	for _, name := range []string{"fifo", "from-tar"} {
		if fi, err := os.Lstat(s.path(name)); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
			t.Errorf("%s after a remount: %v, %v; want a FIFO", name, fi.Mode(), err)
		}
	}
	if os.Geteuid() == 0 {
		var st syscall.Stat_t
		if err := syscall.Lstat(s.path("null"), &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFCHR ||
			st.Rdev != 0x0103 || st.Mode&0o777 != 0o600 {
			t.Errorf("char device after a remount: mode %o rdev %#x, %v; want 020600 and 1,3", st.Mode, st.Rdev, err)
		}
	}
	if err := os.Rename(s.path("fifo"), s.path("moved")); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(s.path("moved")); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("renamed FIFO: %v, %v", fi.Mode(), err)
	}
}
