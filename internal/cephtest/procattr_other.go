//go:build !linux

package cephtest

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return nil }
