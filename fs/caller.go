package fs

import (
	"bytes"
	"context"
	"os"
	"strconv"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// callerProcess returns the process (thread group) of the request's
// caller, or 0 when it cannot be told. FUSE passes the calling thread's
// ID; a program opening in one thread and closing in another is still one
// process.
func callerProcess(ctx context.Context) int {
	caller, ok := fuse.FromContext(ctx)
	if !ok || caller.Pid == 0 {
		return 0 // a caller outside our PID namespace
	}
	return tgidOf(int(caller.Pid))
}

// tgidOf reads the thread group ID of thread tid from /proc.
func tgidOf(tid int) int {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(b, []byte("\nTgid:"))
	if !ok {
		return 0
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	n, err := strconv.Atoi(string(bytes.TrimSpace(line)))
	if err != nil {
		return 0
	}
	return n
}
