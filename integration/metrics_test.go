package integration

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/testproc"
)

// metricsAddr returns a loopback address that was free a moment ago.
func metricsAddr(t *testing.T) string {
	t.Helper()
	ports, err := testproc.FreePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("127.0.0.1:%d", ports[0])
}

// scrape returns the text of http://addr/metrics.
func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape: %s, %v", resp.Status, err)
	}
	return string(b)
}

// metric sums the samples of name whose labels include every one of
// labels (`operation="GetObject"`), in the text format.
func metric(text, name string, labels ...string) float64 {
	var sum float64
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		series, value, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		sname, lbls, _ := strings.Cut(series, "{")
		if sname != name {
			continue
		}
		match := true
		for _, l := range labels {
			if !strings.Contains(lbls, l) {
				match = false
			}
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil && match {
			sum += v
		}
	}
	return sum
}

// status runs `s3mount status mnt`.
func status(t *testing.T, mnt string) string {
	t.Helper()
	out, err := exec.Command(env.bin, "status", mnt).CombinedOutput()
	if err != nil {
		t.Fatalf("s3mount status: %v: %s", err, out)
	}
	return string(out)
}

// dropPageCache makes the next read of a file reach the daemon.
func dropPageCache(t *testing.T) {
	t.Helper()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0); err != nil {
		t.Fatalf("drop the kernel's page cache (the tests run as root): %v", err)
	}
}

// TestMetricsCountRequestsBytesAndCacheHits: reads and writes through the
// mount move the request, byte and cache counters of /metrics, a re-read
// shows as cache hits, and no bucket or key appears in the metrics.
func TestMetricsCountRequestsBytesAndCacheHits(t *testing.T) {
	addr := metricsAddr(t)
	data := randomBytes(41, 3<<20)
	s := newBucketSession(t)
	s.put("dir/secret-key-name", data)
	s.mnt = s.mount(s.bucket, "--metrics-addr", addr, "--block-size", "1MiB")

	before := scrape(t, addr)
	if got := metric(before, "s3mount_s3_requests_total"); got == 0 {
		t.Fatalf("no request counted after the mount's probe:\n%s", before)
	}
	for i := 0; i < 2; i++ {
		if got, err := os.ReadFile(s.path("dir/secret-key-name")); err != nil || len(got) != len(data) {
			t.Fatalf("read %d: %d bytes, %v", i, len(got), err)
		}
		dropPageCache(t)
	}
	written := randomBytes(42, 200<<10)
	if err := os.WriteFile(s.path("new"), written, 0o644); err != nil {
		t.Fatal(err)
	}

	m := scrape(t, addr)
	if got := metric(m, "s3mount_s3_requests_total", `operation="GetObject"`); got == 0 {
		t.Errorf("no GetObject counted")
	}
	if got := metric(m, "s3mount_s3_requests_total", `operation="PutObject"`, `status="200"`); got == 0 {
		t.Errorf("no successful PutObject counted")
	}
	if got := metric(m, "s3mount_s3_request_duration_seconds_count", `operation="GetObject"`); got == 0 {
		t.Errorf("no GetObject latency observed")
	}
	if got := metric(m, "s3mount_s3_read_bytes_total"); got < float64(len(data)) {
		t.Errorf("read bytes %v, want at least the object's %d", got, len(data))
	}
	if got := metric(m, "s3mount_s3_written_bytes_total"); got < float64(len(written)) {
		t.Errorf("written bytes %v, want at least the file's %d", got, len(written))
	}
	// Each request once, by result: the reads, the write, and the lookup
	// of the new name, which S3 answers 404.
	if got := metric(m, "s3mount_store_requests_total", `operation="GetObject"`, `result="ok"`); got == 0 {
		t.Errorf("no successful GetObject request counted")
	}
	if got := metric(m, "s3mount_store_requests_total", `operation="PutObject"`, `result="ok"`); got == 0 {
		t.Errorf("no successful PutObject request counted")
	}
	if got := metric(m, "s3mount_store_requests_total", `operation="HeadObject"`, `result="not_found"`); got == 0 {
		t.Errorf("no HEAD of a missing name counted as not_found")
	}
	if !strings.Contains(m, "s3mount_s3_requests_in_flight ") || !strings.Contains(m, "s3mount_s3_requests_waiting 0") {
		t.Errorf("the request limit's gauges are missing")
	}
	if got := metric(m, "s3mount_cache_misses_total"); got == 0 {
		t.Errorf("no cache miss counted for the first read")
	}
	if got := metric(m, "s3mount_cache_hits_total"); got == 0 {
		t.Errorf("no cache hit counted for the re-read")
	}
	if got := metric(m, "s3mount_uploads_pending"); got != 0 {
		t.Errorf("uploads pending %v after a successful close", got)
	}
	if strings.Contains(m, "secret-key-name") || strings.Contains(m, s.bucket) {
		t.Errorf("the metrics name a key or the bucket")
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", m)
	}

	out := status(t, s.mnt)
	for _, want := range []string{"bucket " + s.bucket, "GetObject", "PutObject", "hit rate", "last minute:", "0 failed"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
}

// TestFailedUploadShowsInStatusAndMetrics: while every PUT fails, the file
// whose close failed is listed by `s3mount status` with its staging path
// and error, and the metrics count failed and retried uploads and one
// pending; once the server answers it is gone from both.
func TestFailedUploadShowsInStatusAndMetrics(t *testing.T) {
	addr := metricsAddr(t)
	s := newBucketSession(t)
	p, err := faultproxy.Start(s.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	s.mnt = s.mount(s.bucket, "--endpoint-url", p.URL(), "--max-retries", "1",
		"--upload-retry-delay", "300ms", "--metrics-addr", addr)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(500, "InternalError")})

	data := randomBytes(43, 100<<10)
	if err := os.WriteFile(s.path("failing"), data, 0o644); !errors.Is(err, syscall.EIO) {
		t.Fatalf("close while every PUT fails: %v, want EIO", err)
	}
	// A retry is counted as it starts and fails a PUT (and the SDK's
	// attempt after it) later: wait for both counts.
	waitFor(t, 10*time.Second, "no background retry counted, or fewer than 2 failed uploads (the close's and a retry's)", func() bool {
		m := scrape(t, addr)
		return metric(m, "s3mount_uploads_retried_total") > 0 && metric(m, "s3mount_uploads_failed_total") >= 2
	})
	m := scrape(t, addr)
	if got := metric(m, "s3mount_uploads_pending"); got != 1 {
		t.Errorf("uploads pending %v, want 1", got)
	}
	if got := metric(m, "s3mount_s3_requests_total", `operation="PutObject"`, `status="500"`); got == 0 {
		t.Errorf("no PutObject answered 500 counted")
	}
	if got := metric(m, "s3mount_store_requests_total", `operation="PutObject"`, `result="server_error"`); got == 0 {
		t.Errorf("no PutObject request counted as a server error")
	}
	if got := metric(m, "s3mount_staged_bytes"); got < float64(len(data)) {
		t.Errorf("staged bytes %v, want at least the file's %d", got, len(data))
	}

	out := status(t, s.mnt)
	staging, _ := filepath.EvalSymlinks(s.staging)
	for _, want := range []string{"1 failed and waiting", "FAILED", s.bucket + "/failing", "staged in " + staging, "last error:", "InternalError"} {
		if !strings.Contains(out, want) {
			t.Errorf("status while the upload fails lacks %q:\n%s", want, out)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", m)
	}

	p.Reset()
	waitFor(t, 20*time.Second, "the retried upload stayed pending", func() bool {
		return metric(scrape(t, addr), "s3mount_uploads_pending") == 0
	})
	if out := status(t, s.mnt); !strings.Contains(out, "0 failed and waiting") || strings.Contains(out, "FAILED") {
		t.Errorf("status once the upload succeeded:\n%s", out)
	}
}

// TestStatusIsRefusedToOtherUsers: on a mount other users may enter
// (--allow-other), only the daemon's user and root read its status.
func TestStatusIsRefusedToOtherUsers(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "switching to another user needs root")
	}
	s := newBucketSession(t)
	s.put("public", []byte("for everyone"))
	mnt := openMountPoint(t)
	mountAt(t, s, mnt, "--allow-other")
	t.Cleanup(func() { unmount(t, mnt) })

	if out, err := asNobody("cat", filepath.Join(mnt, "public")); err != nil || out != "for everyone" {
		t.Fatalf("another user cannot use the --allow-other mount at all: %q, %v", out, err)
	}
	out, err := asNobody(binaryFor(t, "nobody"), "status", mnt)
	if err == nil || !strings.Contains(out, "permission denied") {
		t.Fatalf("another user's s3mount status: %v: %s", err, out)
	}
	if strings.Contains(out, "GetObject") || strings.Contains(out, s.staging) {
		t.Fatalf("the refusal shows status: %s", out)
	}
	if out := status(t, mnt); !strings.Contains(out, "GetObject") {
		t.Fatalf("root's status lacks the requests:\n%s", out)
	}
}

// TestQueuedUploadShowsInFlightInStatus: with --async-upload, a file whose
// upload is still running after its close is listed in flight by status
// and counted pending by the metrics, until S3 has it.
func TestQueuedUploadShowsInFlightInStatus(t *testing.T) {
	addr := metricsAddr(t)
	s, p, _ := asyncSession(t, "--metrics-addr", addr)
	p.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Delay(3 * time.Second)})
	if err := os.WriteFile(s.path("queued"), randomBytes(44, 64<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	out := status(t, s.mnt)
	for _, want := range []string{"1 in flight", "in flight  " + s.bucket + "/queued", "64.0 KiB"} {
		if !strings.Contains(out, want) {
			t.Errorf("status while the upload runs lacks %q:\n%s", want, out)
		}
	}
	if got := metric(scrape(t, addr), "s3mount_uploads_pending"); got != 1 {
		t.Errorf("uploads pending %v while the upload runs, want 1", got)
	}
	if out, err := exec.Command(env.bin, "sync", s.mnt).CombinedOutput(); err != nil {
		t.Fatalf("s3mount sync: %v: %s", err, out)
	}
	waitFor(t, 10*time.Second, "the upload stayed pending after sync", func() bool {
		return metric(scrape(t, addr), "s3mount_uploads_pending") == 0
	})
	if out := status(t, s.mnt); !strings.Contains(out, "0 in flight") {
		t.Errorf("status after sync:\n%s", out)
	}
}

// binaryFor copies the s3mount binary where another user can run it (the
// one the suite builds lives in a private temporary directory).
func binaryFor(t *testing.T, who string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "s3mount-bin-"+who+"-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	b, err := os.ReadFile(env.bin)
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "s3mount")
	if err := os.WriteFile(bin, b, 0o755); err != nil {
		t.Fatal(err)
	}
	return bin
}
