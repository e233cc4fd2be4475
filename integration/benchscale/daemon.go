package main

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
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
	*benchkit.Daemon
	dir, metrics string
}

func (s *scale) mount() (*daemon, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := filepath.Join(s.env.Work, "mnt")
	d, err := s.env.Mount(bucket, dir, os.Stderr, append([]string{"--metrics-addr", addr}, strings.Fields(s.c.flags)...)...)
	if err != nil {
		return nil, err
	}
	return &daemon{Daemon: d, dir: dir, metrics: "http://" + addr + "/metrics"}, nil
}

func (d *daemon) unmount() { d.Unmount() }

// proc is a size field of the daemon's /proc/PID/status ("VmHWM:",
// "VmRSS:") in bytes, -1 when it cannot be read.
func (d *daemon) proc(field string) int64 {
	n, err := d.ProcStatus(field)
	if err != nil {
		return -1
	}
	return n
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
