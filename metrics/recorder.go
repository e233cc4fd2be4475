package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/s3mount/s3mount/s3io"
)

const namespace = "s3mount"

// window is how far back Recent looks.
const window = 60 * time.Second

// Recorder counts S3 requests and serves the mount's metrics.
type Recorder struct {
	reg          *prometheus.Registry
	requests     *prometheus.CounterVec
	calls        *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	readBytes    prometheus.Counter
	writtenBytes prometheus.Counter
	now          func() time.Time

	mu     sync.Mutex
	byOp   map[string]*OpTotals
	recent [60]second
}

// OpTotals are the attempts of one S3 operation since the mount began.
type OpTotals struct {
	Op       string
	Requests int64 // attempts, retries included
	Errors   int64 // attempts that failed (isError)
	Retries  int64 // attempts after the first of their request
}

// Window is what happened in the last minute.
type Window struct {
	Requests, Errors, Retries int64
}

type second struct {
	unix                      int64
	requests, errors, retries int64
}

// New returns a Recorder with its own registry, holding the S3 request
// metrics and the Go runtime's and the process's.
func New() *Recorder {
	r := &Recorder{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "s3_requests_total",
			Help: "HTTP attempts made to S3, by operation and status code (\"error\": no response); retries count each.",
		}, []string{"operation", "status"}),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "store_requests_total",
			Help: "S3 requests as the mount made them (each once, however many attempts it took), by operation and result (ok, not_found, access_denied, throttled, server_error, canceled, timeout, ...).",
		}, []string{"operation", "result"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "s3_request_duration_seconds",
			Help:    "Duration of HTTP attempts to S3, by operation.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"operation"}),
		readBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "s3_read_bytes_total",
			Help: "Bytes of object data read from S3 (successful GetObject responses).",
		}),
		writtenBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "s3_written_bytes_total",
			Help: "Bytes of object data written to S3 (successful PutObject and UploadPart requests).",
		}),
		now:  time.Now,
		byOp: make(map[string]*OpTotals),
	}
	r.reg.MustRegister(r.requests, r.calls, r.latency, r.readBytes, r.writtenBytes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return r
}

// Observe counts one HTTP attempt; it is the store's AttemptObserver.
func (r *Recorder) Observe(a s3io.Attempt) {
	status := "error"
	if a.Status != 0 {
		status = strconv.Itoa(a.Status)
	}
	r.requests.WithLabelValues(a.Op, status).Inc()
	r.latency.WithLabelValues(a.Op).Observe(a.Duration.Seconds())
	ok := !a.Err && a.Status >= 200 && a.Status < 300
	if ok && a.Op == "GetObject" {
		r.readBytes.Add(float64(a.BytesReceived))
	}
	if ok && (a.Op == "PutObject" || a.Op == "UploadPart") {
		r.writtenBytes.Add(float64(a.BytesSent))
	}
	retry := a.Attempt > 1
	failed := isError(a)

	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.byOp[a.Op]
	if t == nil {
		t = &OpTotals{Op: a.Op}
		r.byOp[a.Op] = t
	}
	t.Requests++
	s := r.secondLocked(r.now().Unix())
	s.requests++
	if failed {
		t.Errors++
		s.errors++
	}
	if retry {
		t.Retries++
		s.retries++
	}
}

// ObserveRequest counts one request; it is the observer of the mount's
// s3io.Count. Beside Observe's attempts it counts what the file system
// asked for, of any Store, with the result's class instead of a status.
func (r *Recorder) ObserveRequest(q s3io.Request) {
	r.calls.WithLabelValues(q.Op, q.Result).Inc()
}

// isError reports whether an attempt counts as an error for status: no
// answer, a 5xx, or a 4xx other than 404 (a lookup of a missing name is a
// normal answer, made for every new file).
func isError(a s3io.Attempt) bool {
	switch {
	case a.Status == 0:
		return a.Err
	case a.Status == 404:
		return false
	}
	return a.Status >= 400 || a.Err
}

func (r *Recorder) secondLocked(unix int64) *second {
	s := &r.recent[unix%int64(len(r.recent))]
	if s.unix != unix {
		*s = second{unix: unix}
	}
	return s
}

// Totals returns the attempts by operation, sorted by operation.
func (r *Recorder) Totals() []OpTotals {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]OpTotals, 0, len(r.byOp))
	for _, t := range r.byOp {
		out = append(out, *t)
	}
	slices.SortFunc(out, func(a, b OpTotals) int {
		switch {
		case a.Op < b.Op:
			return -1
		case a.Op > b.Op:
			return 1
		}
		return 0
	})
	return out
}

// Recent returns the attempts, errors and retries of the last minute.
func (r *Recorder) Recent() Window {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now().Unix()
	var w Window
	for _, s := range r.recent {
		if s.unix > now-int64(window/time.Second) && s.unix <= now {
			w.Requests += s.requests
			w.Errors += s.errors
			w.Retries += s.retries
		}
	}
	return w
}

// CounterFunc registers a counter whose value f reads at scrape time
// (a count another package keeps).
func (r *Recorder) CounterFunc(name, help string, f func() float64) {
	r.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, f))
}

// GaugeFunc registers a gauge whose value f reads at scrape time.
func (r *Recorder) GaugeFunc(name, help string, f func() float64) {
	r.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: namespace, Name: name, Help: help}, f))
}

// Handler serves the registry in the Prometheus text format.
func (r *Recorder) Handler() http.Handler {
	return promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg})
}

// Registry is the Recorder's registry, for tests.
func (r *Recorder) Registry() *prometheus.Registry { return r.reg }
