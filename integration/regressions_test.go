package integration

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Failures seen in other S3 mounts over MinIO; each is a test here. (A
// close that returned 0 while every upload failed: fault_test.go;
// chmod/chown that changed nothing: TestChmodChownTouchSurviveRemount.)

func TestShrinkingFtruncateOfAnOpenFileIsKept(t *testing.T) {
	s := newSession(t, nil)
	f, err := os.Create(s.path("f"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(randomBytes(40, 3<<20)); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(1000); err != nil {
		t.Fatalf("ftruncate: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	s.remount()
	if fi, err := os.Stat(s.path("f")); err != nil || fi.Size() != 1000 {
		t.Fatalf("after a shrinking ftruncate and a remount: %v, %v", fi, err)
	}
	if got := s.get("f"); !bytes.Equal(got, randomBytes(40, 3<<20)[:1000]) {
		t.Fatalf("S3 has %d bytes, want the first 1000 written", len(got))
	}
}

func TestEmptyFileCreatedExclusivelyReachesS3(t *testing.T) {
	s := newSession(t, nil)
	fd, err := openRetryingEINTR(s.path("empty"), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Close(fd); err != nil {
		t.Fatal(err)
	}
	if got := s.get("empty"); len(got) != 0 {
		t.Fatalf("empty file has %d bytes in S3", len(got))
	}
	if _, err := openRetryingEINTR(s.path("empty"), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0o644); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("second O_EXCL create: %v, want EEXIST", err)
	}
}

func TestDataClosedJustBeforeUnmountIsInS3(t *testing.T) {
	s := newSession(t, nil)
	for i := 0; i < 20; i++ {
		if err := os.WriteFile(s.path(fmt.Sprintf("f%d", i)), randomBytes(int64(i), 200<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := randomBytes(99, 12<<20)
	if err := os.WriteFile(s.path("big"), big, 0o644); err != nil {
		t.Fatal(err)
	}
	unmount(t, s.mnt)
	for i := 0; i < 20; i++ {
		if got := s.get(fmt.Sprintf("f%d", i)); !bytes.Equal(got, randomBytes(int64(i), 200<<10)) {
			t.Fatalf("f%d lost at unmount", i)
		}
	}
	if !bytes.Equal(s.get("big"), big) {
		t.Fatal("big file lost at unmount")
	}
}

func TestReadlinkOfARegularFileIsEINVAL(t *testing.T) {
	s := newSession(t, map[string]string{"plain": "x"})
	if _, err := os.Readlink(s.path("plain")); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("readlink of a regular file: %v, want EINVAL", err)
	}
}

// daemonPID finds the s3mount serving mnt.
func daemonPID(t *testing.T, mnt string) int {
	t.Helper()
	out, err := exec.Command("pgrep", "-f", "s3mount.* "+mnt+"$").Output()
	if err != nil {
		t.Fatalf("no s3mount process for %s: %v", mnt, err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(out))[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmHWM")
	return 0
}

func TestReadingOneGiBStaysWithinTheCacheBudget(t *testing.T) {
	s := newBucketSession(t)
	chunk := randomBytes(50, 8<<20)
	src := s.t.TempDir() + "/big"
	f, _ := os.Create(src)
	for i := 0; i < 128; i++ {
		f.Write(chunk)
	}
	f.Close()
	s.mnt = s.mount(s.bucket)
	run(t, "cp", src, s.path("big"))
	unmount(t, s.mnt)
	s.mnt = s.mount(s.bucket, "--cache-size", "128MiB")
	in, err := os.Open(s.path("big"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, struct{ io.Reader }{in})
	in.Close()
	if err != nil || n != 1<<30 {
		t.Fatalf("read %d bytes: %v", n, err)
	}
	if rss, limit := peakRSS(t, daemonPID(t, s.mnt)), int64(128+100)<<20; rss > limit {
		t.Fatalf("peak RSS %d MiB reading 1 GiB with a 128 MiB cache, limit %d MiB", rss>>20, limit>>20)
	}
}

func TestObjectOverwrittenElsewhereIsNeverMixedOrCut(t *testing.T) {
	s := newBucketSession(t)
	old := randomBytes(60, 1<<20)
	s.put("f", old)
	s.mnt = s.mount(s.bucket, "--metadata-ttl", "1s", "--block-size", "256KiB", "--cache-size", "1MiB")
	f, err := os.Open(s.path("f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	if _, err := f.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, old[:4096]) {
		t.Fatalf("first read: %v", err)
	}
	newer := randomBytes(61, 3<<20)
	s.put("f", newer)
	// The open file reads the version it opened, or fails; never the new
	// bytes, never cut to the old size.
	for off := int64(0); off < 1<<20; off += 256 << 10 {
		n, err := f.ReadAt(buf, off+100)
		if err != nil {
			if !errors.Is(err, syscall.ESTALE) {
				t.Fatalf("read at %d after the overwrite: %v, want old bytes or ESTALE", off, err)
			}
			break
		}
		if !bytes.Equal(buf[:n], old[off+100:off+100+int64(n)]) {
			t.Fatalf("read at %d after the overwrite returned bytes that are not the old version's", off)
		}
	}
	f.Close()
	time.Sleep(1500 * time.Millisecond) // past --metadata-ttl 1s
	got, err := os.ReadFile(s.path("f"))
	if err != nil || !bytes.Equal(got, newer) {
		t.Fatalf("reopened after the TTL: %d bytes, %v; want the new %d bytes", len(got), err, len(newer))
	}
}

// openRetryingEINTR is open(2) as C programs with SA_RESTART and Go's os
// package see it: the Go runtime's preemption signals interrupt slow FUSE
// requests, and an interrupted open is retried.
func openRetryingEINTR(path string, flags int, mode uint32) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, mode)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
