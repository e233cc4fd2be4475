package fs

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// alignedBlock is a buffer O_DIRECT reads accept.
func alignedBlock(n int) []byte {
	b := make([]byte, n+4096)
	off := (4096 - int(uintptr(unsafe.Pointer(&b[0]))%4096)) % 4096
	return b[off : off+n]
}

// A signal the reader catches (Go's SIGURG, a shell's SIGCHLD, dd's
// SIGUSR1) interrupts its FUSE read; the read must still succeed, as on a
// local disk: before, it failed with EINTR, which programs do not retry
// for a regular file.
func TestASignalDoesNotFailARead(t *testing.T) {
	// Read-only, and through a descriptor open for writing too (its reads
	// of bytes not written fetch the object's blocks as well).
	for _, flags := range []int{syscall.O_RDONLY, syscall.O_RDWR} {
		t.Run(map[int]string{syscall.O_RDONLY: "read-only", syscall.O_RDWR: "read-write"}[flags], func(t *testing.T) {
			signalledReads(t, flags)
		})
	}
}

func signalledReads(t *testing.T, flags int) {
	mem := memstore.New()
	mem.AddBucket("b")
	const blocks = 12 // of the test cache's 1 MiB; each read below fetches one
	want := bytes.Repeat([]byte("0123456789abcdef"), blocks<<16)
	mem.PutBytes("b", "f", want, nil)
	sr := &slowReads{Store: mem, delay: 30 * time.Millisecond, reads: make(map[string]int)}
	mnt := mountStore(t, Config{}, sr)

	caught := make(chan os.Signal, 64)
	signal.Notify(caught, syscall.SIGUSR1)
	defer signal.Stop(caught)
	type result struct {
		got []byte
		err error
	}
	tids, done := make(chan int, 1), make(chan result, 1)
	go func() {
		runtime.LockOSThread() // the signals go to this thread
		defer runtime.UnlockOSThread()
		tids <- syscall.Gettid()
		fd, err := syscall.Open(filepath.Join(mnt, "f"), flags|syscall.O_DIRECT, 0)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer syscall.Close(fd)
		// The last block first, then backwards: no read-ahead gets there
		// before the read.
		got := make([]byte, len(want))
		buf := alignedBlock(64 << 10)
		for i := blocks - 1; i >= 0; i-- {
			off := i << 20
			n, err := syscall.Pread(fd, buf, int64(off)) // no retry on EINTR, as C programs
			if err != nil {
				done <- result{err: err}
				return
			}
			copy(got[off:], buf[:n])
		}
		done <- result{got: got}
	}()
	tid := <-tids
	signals := 0
	for {
		select {
		case r := <-done:
			if r.err != nil {
				t.Fatalf("pread after %d signals: %v", signals, r.err)
			}
			for i := 0; i < blocks; i++ {
				off := i << 20
				if !bytes.Equal(r.got[off:off+64<<10], want[off:off+64<<10]) {
					t.Fatalf("block %d: not the file's bytes", i)
				}
			}
			if signals < 20 {
				t.Fatalf("only %d signals reached the reader: the test proves nothing", signals)
			}
			return
		case <-time.After(2 * time.Millisecond):
			syscall.Tgkill(os.Getpid(), tid, syscall.SIGUSR1)
			signals++
		}
	}
}

// A reader that takes a signal it handles (dd and SIGINT) keeps its held
// read; killed (kill -9 now, after that first interrupt) it lets go of it
// at once, although the kernel sends no second interrupt: the killed
// process exits without the read having been answered by S3, so an
// abandoned read in an outage holds no fetch.
func TestAKilledReaderLetsGoOfItsRead(t *testing.T) {
	if _, err := exec.LookPath("dd"); err != nil {
		miniotest.SkipOrFail(t, "needs dd: "+err.Error())
	}
	mem := memstore.New()
	mem.AddBucket("b")
	mem.PutBytes("b", "f", bytes.Repeat([]byte("x"), 1<<20), nil)
	st := faultstore.New(mem)
	mnt := mountStore(t, Config{}, st)
	held := st.Hold(faultstore.Rule{Op: "GetObject", Key: "f"})
	defer held.Release()
	dd := exec.Command("dd", "if="+filepath.Join(mnt, "f"), "of=/dev/null", "bs=64k", "count=1", "iflag=direct")
	if err := dd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- dd.Wait() }()
	select {
	case <-held.Entered():
	case err := <-exited:
		t.Fatalf("dd ended before its read reached S3: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("dd's read never reached S3")
	}
	dd.Process.Signal(syscall.SIGINT) // dd handles it (it prints its counts)
	select {
	case err := <-exited:
		t.Fatalf("a handled SIGINT ended the held read (dd: %v)", err)
	case <-time.After(3 * dyingPoll):
	}
	dd.Process.Kill()
	select {
	case err := <-exited:
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("dd: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a killed reader still waits for its held read 2 s after kill -9")
	}
}
