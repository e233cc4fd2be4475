package cephtest

import "syscall"

// sysProcAttr makes the kernel kill a daemon (or a tool such as
// radosgw-admin) when the test process dies, so a test binary killed by
// its timeout leaves no cluster behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
