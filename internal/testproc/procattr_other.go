//go:build !linux

package testproc

import "syscall"

// SysProcAttr is nil where Pdeathsig does not exist.
func SysProcAttr() *syscall.SysProcAttr { return nil }
