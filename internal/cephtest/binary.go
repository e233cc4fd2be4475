package cephtest

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"
)

// binaries lists the commands Launch runs, each with the Debian package
// that installs it. ceph-base and ceph-common come with ceph-mon, so installing the
// three daemon packages is enough.
var binaries = []struct{ cmd, pkg string }{
	{"ceph-mon", "ceph-mon"},
	{"ceph-osd", "ceph-osd"},
	{"radosgw", "radosgw"},
	{"radosgw-admin", "ceph-common"},
	{"monmaptool", "ceph-base"},
	{"osdmaptool", "ceph-base"},
}

// FindBinaries checks that every Ceph command Launch runs is on PATH. Its
// error names each missing command and the Debian package to install.
func FindBinaries() error {
	var missing []string
	for _, b := range binaries {
		if _, err := exec.LookPath(b.cmd); err != nil {
			missing = append(missing, fmt.Sprintf("%s (Debian package %s)", b.cmd, b.pkg))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("ceph: not on PATH: %s; install with: apt-get install ceph-mon ceph-osd radosgw",
		strings.Join(missing, ", "))
}

// binaryVersion returns what `radosgw --version` says, e.g. "16.2.15", or
// "unknown". The radosgw binary is the one whose behaviour tests see.
func binaryVersion() string {
	cmd := exec.Command("radosgw", "--version")
	cmd.Env = cleanEnv()
	out, err := cmd.Output()
	if err != nil {
		return "unknown"
	}
	// "ceph version 16.2.15 (618f4408…) pacific (stable)"
	f := strings.Fields(string(bytes.TrimSpace(out)))
	if len(f) >= 3 && f[0] == "ceph" && f[1] == "version" {
		return f[2]
	}
	return "unknown"
}
