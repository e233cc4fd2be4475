package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// mounted is a running s3mount in the foreground, so that its RSS can be
// read.
type mounted struct {
	dir string
	cmd *exec.Cmd
}

var mountSeq int

func (b *bench) mount(flags ...string) (*mounted, error) {
	mountSeq++
	dir := filepath.Join(b.work, fmt.Sprintf("mnt%d", mountSeq))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"--foreground", "--endpoint-url", b.srv.Endpoint, "--force-path-style", "--region", "us-east-1",
		"--staging-dir", filepath.Join(b.work, "staging")}, flags...)
	args = append(args, bucket, dir)
	cmd := exec.Command(b.c.bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+b.srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+b.srv.SecretKey)
	args = append([]string{"--log-file", filepath.Join(b.work, "s3mount.log")}, args...)
	cmd.Args = append(cmd.Args[:1], args...)
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	m := &mounted{dir: dir, cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(dir) {
		if time.Now().After(deadline) {
			m.unmount()
			return nil, fmt.Errorf("%s not mounted after 30s", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return m, nil
}

func (m *mounted) unmount() {
	_ = exec.Command("fusermount3", "-u", m.dir).Run()
	done := make(chan struct{})
	go func() { _ = m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = m.cmd.Process.Kill()
		_ = syscall.Unmount(m.dir, syscall.MNT_DETACH)
	}
}

// peakRSS is the s3mount process's VmHWM in bytes.
func (m *mounted) peakRSS() (int64, error) { return m.status("VmHWM:") }

// status is a size field of the s3mount process's /proc/PID/status
// ("VmHWM:", "VmRSS:") in bytes.
func (m *mounted) status(field string) (int64, error) {
	return procStatus(m.cmd.Process.Pid, field)
}

func procStatus(pid int, field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}
