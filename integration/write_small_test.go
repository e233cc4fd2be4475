package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// stagingWatch reports the files created in the staging directories
// (inotify, so that it sees a file made and removed at once).
type stagingWatch struct{ fd int }

func watchStaging(t *testing.T, dir string) *stagingWatch {
	t.Helper()
	fd, err := syscall.InotifyInit1(syscall.IN_NONBLOCK | syscall.IN_CLOEXEC)
	if err != nil {
		t.Fatalf("inotify: %v", err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		_, err = syscall.InotifyAddWatch(fd, p, syscall.IN_CREATE|syscall.IN_MOVED_TO)
		return err
	})
	if err != nil {
		t.Fatalf("watch %s: %v", dir, err)
	}
	return &stagingWatch{fd: fd}
}

// created returns the names created since the watch began.
func (w *stagingWatch) created(t *testing.T) []string {
	t.Helper()
	var names []string
	buf := make([]byte, 64<<10)
	for {
		n, err := syscall.Read(w.fd, buf)
		if errors.Is(err, syscall.EAGAIN) {
			return names
		}
		if err != nil {
			t.Fatalf("read inotify: %v", err)
		}
		for off := 0; off+syscall.SizeofInotifyEvent <= n; {
			ev := (*syscall.InotifyEvent)(unsafe.Pointer(&buf[off]))
			name := buf[off+syscall.SizeofInotifyEvent : off+syscall.SizeofInotifyEvent+int(ev.Len)]
			names = append(names, string(bytes.TrimRight(name, "\x00")))
			off += syscall.SizeofInotifyEvent + int(ev.Len)
		}
	}
}

// In the default (durable) mode a small new file whose close uploads it
// never reaches the staging disk: creating many of them makes no staging
// file and no manifest, and S3 has each one when its close returns.
func TestDurableSmallFilesMakeNoStagingFiles(t *testing.T) {
	addr := metricsAddr(t)
	s := newBucketSession(t)
	s.mnt = s.mount(s.bucket, "--metrics-addr", addr)
	w := watchStaging(t, s.staging)
	const files = 100
	for i := range files {
		if err := os.WriteFile(s.path(fmt.Sprintf("small-%03d", i)), randomBytes(int64(i), 16<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := w.created(t); len(got) != 0 {
		t.Fatalf("%d small files made %d files in the staging directory: %v", files, len(got), got[:min(len(got), 10)])
	}
	m := scrape(t, addr)
	if got := metric(m, "s3mount_staging_files_created_total"); got != 0 {
		t.Fatalf("s3mount_staging_files_created_total = %v after %d small files, want 0", got, files)
	}
	// The kernel's release, which frees the memory, follows the close.
	waitFor(t, 5*time.Second, "staged bytes freed after the closes", func() bool {
		return metric(scrape(t, addr), "s3mount_staged_bytes") == 0
	})
	for i := range files {
		key := fmt.Sprintf("small-%03d", i)
		if got := s.get(key); !bytes.Equal(got, randomBytes(int64(i), 16<<10)) {
			t.Fatalf("%s: S3 has %d bytes, not what was written", key, len(got))
		}
	}
	// A file past the memory threshold is staged on disk, as before.
	if err := os.WriteFile(s.path("big"), randomBytes(7, 3<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := metric(scrape(t, addr), "s3mount_staging_files_created_total"); got != 1 {
		t.Fatalf("s3mount_staging_files_created_total = %v after a 3 MiB file, want 1", got)
	}
}
