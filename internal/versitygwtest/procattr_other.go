//go:build !linux

package versitygwtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
