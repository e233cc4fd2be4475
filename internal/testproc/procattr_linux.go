package testproc

import "syscall"

// SysProcAttr makes the kernel kill a server (or a tool it runs) when the
// test process dies, so a test binary killed by its timeout leaves no
// server behind.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
