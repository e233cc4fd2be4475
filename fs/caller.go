package fs

import (
	"bytes"
	"context"
	"os"
	"strconv"

	"github.com/hanwen/go-fuse/v2/fuse"
)

// callerThread returns the thread that made the request, or 0 when it
// cannot be told (a caller outside our PID namespace). FUSE passes the
// calling thread's ID, not its process's.
func callerThread(ctx context.Context) int {
	caller, ok := fuse.FromContext(ctx)
	if !ok {
		return 0
	}
	return int(caller.Pid)
}

// sameProcess reports whether threads a and b belong to one process. It
// asks /proc only when they differ (a program opening in one thread and
// closing in another, or a forked child): most closes come from the
// opening thread, and reading /proc/PID/status twice per file cost small
// files about 0.1 ms each. When either cannot be told (0, or a thread
// that has exited), it reports true: the close is then taken as the
// program's own, as before the check existed.
func sameProcess(a, b int) bool {
	if a == 0 || b == 0 || a == b {
		return true
	}
	ga, gb := tgidOf(a), tgidOf(b)
	return ga == 0 || gb == 0 || ga == gb
}

// tgidOf reads the thread group ID of thread tid from /proc.
func tgidOf(tid int) int {
	v, ok := statusField(tid, "Tgid")
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0
	}
	return n
}

// statusField is field name of /proc/TID/status; false when the thread
// is gone or the field missing.
func statusField(tid int, name string) (string, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return "", false
	}
	_, rest, ok := bytes.Cut(b, []byte("\n"+name+":"))
	if !ok {
		return "", false
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	return string(bytes.TrimSpace(line)), true
}
