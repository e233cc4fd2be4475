package integration

import (
	"bytes"
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/internal/faultproxy"
)

// getsOf counts the GETs of key among recs.
func getsOf(recs []faultproxy.RequestRecord, bucket, key string) int {
	n := 0
	for _, r := range recs {
		if r.Method == "GET" && r.Path == "/"+bucket+"/"+key {
			n++
		}
	}
	return n
}

// allKeys lists every key of the session's bucket.
func (s *session) allKeys() []string {
	s.t.Helper()
	out, err := s.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket)})
	if err != nil {
		s.t.Fatal(err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// openChanged opens a 48 MiB object for writing and changes one byte, as
// a program updating a large file in place does.
func openChanged(t *testing.T, s *session) (*os.File, []byte) {
	t.Helper()
	data := randomBytes(41, 48<<20)
	s.put("big", data)
	fh, err := os.OpenFile(s.path("big"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	data[5] ^= 0xff
	if _, err := fh.WriteAt(data[5:6], 5); err != nil {
		t.Fatal(err)
	}
	return fh, data
}

// rm of a large file that a program has open for writing returns without
// downloading the object (the server keeps a copy aside until the last
// close), the program still reads every byte, and nothing is left in the
// bucket after its close.
func TestUnlinkOfALargeOpenFileDownloadsNothing(t *testing.T) {
	s, p := faultSession(t)
	fh, data := openChanged(t, s)
	before := len(p.Requests())
	if err := os.Remove(s.path("big")); err != nil {
		t.Fatal(err)
	}
	if gets := getsOf(p.Requests()[before:], s.bucket, "big"); gets != 0 {
		t.Fatalf("unlink sent %d GETs of the object, want 0", gets)
	}
	if _, err := os.Stat(s.path("big")); !os.IsNotExist(err) {
		t.Fatalf("stat after unlink: %v, want ENOENT", err)
	}
	if keys := s.list("big"); len(keys) != 0 {
		t.Fatalf("S3 still has %v after unlink", keys)
	}
	names := readdirNames(t, s.mnt)
	if len(names) != 0 {
		t.Fatalf("ls after unlink shows %v, want nothing (the parked copy is hidden)", names)
	}
	got := make([]byte, len(data))
	if n, err := fh.ReadAt(got, 0); n != len(data) || !bytes.Equal(got, data) {
		t.Fatalf("read of the unlinked open file: %d bytes, %v; want its %d bytes", n, err, len(data))
	}
	if err := fh.Close(); err != nil {
		t.Fatalf("close of the unlinked file: %v", err)
	}
	// The kernel releases the file after close(2) returns.
	waitFor(t, 10*time.Second, "the parked copy outlived the last close", func() bool {
		return len(s.allKeys()) == 0
	})
}

// A mount killed while an unlinked file is open leaves the parked copy;
// the next mount with the same staging directory deletes it.
func TestParkedCopyOfAKilledMountIsDeletedByTheNextMount(t *testing.T) {
	s, p := faultSession(t)
	fh, _ := openChanged(t, s)
	if err := os.Remove(s.path("big")); err != nil {
		t.Fatal(err)
	}
	keys := s.allKeys()
	if len(keys) != 1 || !strings.Contains(keys[0], ".s3mount-unlinked/") {
		t.Fatalf("keys while the unlinked file is open: %v, want its parked copy", keys)
	}
	pids := daemonsOf(s.mnt)
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
	waitExited(t, pids)
	fh.Close()
	unmount(t, s.mnt)
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL())
	if keys := s.allKeys(); len(keys) != 0 {
		t.Fatalf("keys left after the next mount: %v", keys)
	}
}
