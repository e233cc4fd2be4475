package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
)

// awsHTTPClient keeps n connections to MinIO open, so that n requests at
// once do not open a new one each.
func awsHTTPClient(n int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = n, n
	})
}

// daemon is a running s3mount in the foreground with its metrics served.
type daemon struct {
	dir, metrics string
	cmd          *exec.Cmd
}

func (s *scale) mount() (*daemon, error) {
	dir := filepath.Join(s.work, "mnt")
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"--log-file", filepath.Join(s.work, "s3mount.log"), "--foreground", "--endpoint-url", s.srv.Endpoint,
		"--force-path-style", "--region", "us-east-1", "--staging-dir", filepath.Join(s.work, "staging"), "--metrics-addr", addr}
	args = append(args, strings.Fields(s.c.flags)...)
	args = append(args, bucket, dir)
	cmd := exec.Command(s.c.bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+s.srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+s.srv.SecretKey, "AWS_EC2_METADATA_DISABLED=true")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &daemon{dir: dir, metrics: "http://" + addr + "/metrics", cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(dir) {
		if time.Now().After(deadline) {
			d.unmount()
			return nil, fmt.Errorf("%s not mounted after 30s", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d, nil
}

func (d *daemon) unmount() {
	_ = exec.Command("fusermount3", "-u", d.dir).Run()
	done := make(chan struct{})
	go func() { _ = d.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		_ = syscall.Unmount(d.dir, syscall.MNT_DETACH)
	}
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

// proc is a size field of the daemon's /proc/PID/status ("VmHWM:",
// "VmRSS:") in bytes.
func (d *daemon) proc(field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// requests scrapes the daemon's S3 requests by operation.
func (d *daemon) requests() (map[string]float64, error) {
	resp, err := http.Get(d.metrics)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "s3mount_s3_requests_total{") {
			continue
		}
		op := opLabel.FindStringSubmatch(line)
		f := strings.Fields(line)
		v, err := strconv.ParseFloat(f[len(f)-1], 64)
		if op == nil || err != nil {
			continue
		}
		out[op[1]] += v
	}
	return out, sc.Err()
}

var opLabel = regexp.MustCompile(`operation="([^"]+)"`)

// heap is the daemon's own account of its Go heap (s3.status): live bytes
// after its last collection and that collection's number.
type heap struct {
	live   float64 // MiB
	cycles int64
	held   int // inodes the kernel holds, as the daemon counts them; -1: not reported
}

var (
	heapLine  = regexp.MustCompile(`heap: live ([0-9.]+) (B|KiB|MiB|GiB) after GC (\d+)`)
	inodeLine = regexp.MustCompile(`inodes: (\d+) held by the kernel`)
)

func (d *daemon) heap() (heap, error) {
	buf := make([]byte, 64<<10)
	n, err := syscall.Getxattr(d.dir, "s3.status", buf)
	if err != nil {
		return heap{}, fmt.Errorf("s3.status: %w", err)
	}
	m := heapLine.FindStringSubmatch(string(buf[:n]))
	if m == nil {
		return heap{}, fmt.Errorf("no heap line in s3.status (an s3mount without it?)")
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	v *= map[string]float64{"B": 1.0 / (1 << 20), "KiB": 1.0 / 1024, "MiB": 1, "GiB": 1024}[m[2]]
	c, _ := strconv.ParseInt(m[3], 10, 64)
	held := -1
	if m := inodeLine.FindStringSubmatch(string(buf[:n])); m != nil {
		held, _ = strconv.Atoi(m[1])
	}
	return heap{live: v, cycles: c, held: held}, nil
}

// heapAfterGC waits for a collection that starts after now (the runtime
// forces one every 2 minutes on an idle daemon) and returns what it found
// live.
func (d *daemon) heapAfterGC() (heap, time.Duration, error) {
	start := time.Now()
	h0, err := d.heap()
	if err != nil {
		return h0, 0, err
	}
	for time.Since(start) < 150*time.Second {
		time.Sleep(time.Second)
		h, err := d.heap()
		if err != nil {
			return h, 0, err
		}
		if h.cycles > h0.cycles {
			return h, time.Since(start), nil
		}
	}
	return h0, 0, fmt.Errorf("no garbage collection in the daemon within 150s")
}
