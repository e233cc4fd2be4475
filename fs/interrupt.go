package fs

import (
	"context"
	"strconv"
	"time"
)

// killable detaches a read from the kernel's interrupt unless its caller
// is dying. The kernel interrupts a request for any signal its caller
// takes: a Go program gets SIGURG all the time, a shell SIGCHLD, dd
// SIGUSR1. Failing the read with EINTR then breaks programs, which do not
// expect it of a regular file (and SA_RESTART does not restart it: the
// kernel restarts only ERESTARTSYS). A caller killed with Ctrl-C or kill
// -9 in an outage must still let go of its read, so that abandoned reads
// hold no fetch slot (see cache's shared fetches): the kernel marks every
// thread of a dying process with a pending SIGKILL, which
// /proc/TID/status shows. A later fatal signal brings no second interrupt
// (the kernel sends one per request), so after the first the caller is
// watched until the read ends.
//
// The returned function must be called when the read ends.
func killable(ctx context.Context) (context.Context, func()) {
	tid := callerThread(ctx)
	detached, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if tid == 0 || ctx.Done() == nil {
		// Caller unknown (outside our PID namespace): a dying caller is
		// then no different from a signalled one; keep the read.
		return detached, cancel
	}
	ended := make(chan struct{})
	go func() {
		select {
		case <-ended:
			return
		case <-ctx.Done():
		}
		tick := time.NewTicker(dyingPoll)
		defer tick.Stop()
		for !dying(tid) {
			select {
			case <-ended:
				return
			case <-tick.C:
			}
		}
		cancel()
	}()
	return detached, func() {
		close(ended)
		cancel()
	}
}

// dyingPoll is how often an interrupted read looks at its caller again.
const dyingPoll = 100 * time.Millisecond

// dying reports whether thread tid is gone or has a fatal signal pending
// (the SIGKILL the kernel queues on every thread of a process it kills).
func dying(tid int) bool {
	v, ok := statusField(tid, "SigPnd")
	if !ok {
		return true // exited (a status without SigPnd is no Linux's)
	}
	pending, err := strconv.ParseUint(v, 16, 64)
	if err != nil {
		return false
	}
	const sigkill = 9
	return pending&(1<<(sigkill-1)) != 0
}
