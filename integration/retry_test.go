package integration

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/internal/faultproxy"
)

// retrySession mounts a fresh bucket through a fault proxy, with quick
// background retries of uploads whose close failed, logging to a file.
func retrySession(t *testing.T) (s *session, p *faultproxy.Proxy, logFile string) {
	t.Helper()
	s = newBucketSession(t)
	p, err := faultproxy.Start(s.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	logFile = filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL(), "--max-retries", "1",
		"--upload-retry-delay", "300ms", "--log-file", logFile)
	return s, p, logFile
}

// waitFor polls cond for up to d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after %v: %s", d, what)
		}
	}
}

// After a failed close the mount shows and serves the program's bytes,
// refuses to report a later close as a success while S3 lacks them, and
// uploads them in the background once the server answers again.
func TestFailedCloseIsRetriedInTheBackgroundWhileTheMountShowsTheBytes(t *testing.T) {
	for _, tc := range []struct {
		name string
		old  []byte // the object before the write, or nil for a new file
	}{
		{"new file", nil},
		{"overwrite", []byte("the old object's bytes")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, p, logFile := retrySession(t)
			if tc.old != nil {
				s.put("f", tc.old)
			}
			p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
			data := randomBytes(31, 100<<10)
			err := os.WriteFile(s.path("f"), data, 0o644)
			if !errors.Is(err, syscall.EIO) {
				t.Fatalf("close while every PUT fails: %v, want EIO", err)
			}
			st, err := os.Stat(s.path("f"))
			if err != nil || st.Size() != int64(len(data)) {
				t.Fatalf("stat after the failed close: %v, size %d; want the %d bytes written", err, sizeOf(st), len(data))
			}
			// The kernel may forget the file's inode meanwhile (memory
			// pressure; here drop_caches): the mount still knows the file.
			if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0); err != nil {
				t.Fatalf("drop the kernel's dentries (the tests run as root): %v", err)
			}
			st, err = os.Stat(s.path("f"))
			if err != nil || st.Size() != int64(len(data)) {
				t.Fatalf("stat after the kernel forgot the inode: %v, size %d; want %d", err, sizeOf(st), len(data))
			}
			if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read after the failed close: %v, %d bytes; want the bytes written", err, len(got))
			}
			names := readdirNames(t, s.mnt)
			if !strings.Contains(strings.Join(names, "\n"), "f") {
				t.Fatalf("ls after the failed close: %v, want f", names)
			}
			// A reopen and close is no way around the failure.
			fh, err := os.OpenFile(s.path("f"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if err := fh.Close(); !errors.Is(err, syscall.EIO) {
				t.Fatalf("close of a reopened file S3 still lacks: %v, want EIO", err)
			}
			waitFor(t, 10*time.Second, "no retry logged", func() bool {
				b, _ := os.ReadFile(logFile)
				return strings.Contains(string(b), "upload retry failed")
			})
			if tc.old != nil && !bytes.Equal(s.get("f"), tc.old) {
				t.Fatal("the old object changed although every PUT failed")
			}
			p.Reset()
			waitFor(t, 20*time.Second, "the background retry never uploaded the file", func() bool {
				return bytes.Equal(s.tryGet("f"), data)
			})
			waitFor(t, 10*time.Second, "the staging file stayed after the upload", func() bool {
				return len(stagedData(t, s)) == 0
			})
			b, _ := os.ReadFile(logFile)
			if !strings.Contains(string(b), "upload succeeded on retry") {
				t.Fatalf("no log line for the retry's success:\n%s", b)
			}
			fh, err = os.OpenFile(s.path("f"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fh.Write([]byte("+")); err != nil {
				t.Fatal(err)
			}
			if err := fh.Close(); err != nil {
				t.Fatalf("close once the server answers: %v", err)
			}
			if got := s.get("f"); !bytes.Equal(got, append(data, '+')) {
				t.Fatalf("after an append S3 has %d bytes, want %d", len(got), len(data)+1)
			}
		})
	}
}

// A file whose upload is still failing when the mount ends is uploaded by
// the next mount, and an fsync while it fails reports the failure.
func TestFileStillFailingAtUnmountIsUploadedByTheNextMount(t *testing.T) {
	s, p, _ := retrySession(t)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})
	data := []byte("bytes whose upload keeps failing")
	if err := os.WriteFile(s.path("f"), data, 0o644); !errors.Is(err, syscall.EIO) {
		t.Fatalf("close while every PUT fails: %v, want EIO", err)
	}
	fh, err := os.OpenFile(s.path("f"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := fh.Sync(); !errors.Is(err, syscall.EIO) {
		t.Fatalf("fsync while S3 lacks the bytes: %v, want EIO", err)
	}
	fh.Close()
	unmount(t, s.mnt)
	if staged := stagedData(t, s); len(staged) != 1 {
		t.Fatalf("staged files after unmount: %v, want the failed file", staged)
	}
	p.Reset()
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL())
	if got := s.get("f"); !bytes.Equal(got, data) {
		t.Fatalf("the next mount uploaded %q, want %q", got, data)
	}
}

func sizeOf(st os.FileInfo) int64 {
	if st == nil {
		return -1
	}
	return st.Size()
}

func readdirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// tryGet returns an object's bytes, or nil when it cannot be read.
func (s *session) tryGet(key string) []byte {
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		return nil
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil
	}
	return b
}
