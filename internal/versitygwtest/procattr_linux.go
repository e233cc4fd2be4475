package versitygwtest

import "syscall"

// sysProcAttr makes the kernel kill versitygw when the test process dies,
// so a test binary killed by its timeout leaves no gateway behind.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
