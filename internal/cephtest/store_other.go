//go:build !linux

package cephtest

// directIO is false where O_DIRECT is not known: the OSD uses memstore.
func directIO(string) bool { return false }
