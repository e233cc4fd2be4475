package faultproxy

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"
)

// Proxy is a running fault-injecting proxy. Its methods are safe for
// concurrent use.
type Proxy struct {
	url       string
	srv       *http.Server
	forward   *httputil.ReverseProxy
	transport *http.Transport
	closed    chan struct{} // closed by Close: ends Delay and Hang

	mu       sync.Mutex
	rules    []*ruleState
	records  []*RequestRecord
	stopping bool           // set by Close; no handler starts after it
	active   sync.WaitGroup // handlers running; Add only under mu, !stopping

	closeOnce sync.Once
}

// RequestRecord is what the proxy saw of one request and what it did.
type RequestRecord struct {
	Method   string
	Path     string // unescaped, as received: "/bucket/key"
	RawQuery string // as received: "partNumber=1&uploadId=…"
	// Status is the HTTP status sent to the client: the server's, or the
	// one a Status action injected. 0 means none was sent (a reset, a
	// hang, a client that gave up) or the request is still in flight.
	Status int
	// Fault describes the injected action, as Action.String does; empty
	// when the request was forwarded untouched.
	Fault string
}

// quiet drops the log lines net/http writes about connections that this
// package breaks on purpose.
var quiet = log.New(io.Discard, "", 0)

// Start starts a proxy to target, the base URL of a plain-HTTP S3 server
// such as "http://127.0.0.1:9000", on a free port of 127.0.0.1. The
// caller must Close it.
func Start(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("faultproxy: target %q: %w", target, err)
	}
	if u.Scheme != "http" || u.Host == "" || u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("faultproxy: target %q: want a plain-HTTP base URL such as http://127.0.0.1:9000", target)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("faultproxy: listen: %w", err)
	}
	p := &Proxy{
		url:    "http://" + ln.Addr().String(),
		closed: make(chan struct{}),
		transport: &http.Transport{
			Proxy:                 nil, // never route through $HTTP_PROXY
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       30 * time.Second,
			ExpectContinueTimeout: time.Second,
			// Leave Accept-Encoding and the body as the client sent them.
			DisableCompression: true,
		},
	}
	p.forward = &httputil.ReverseProxy{
		// Only the destination changes. out.Host keeps the Host header as
		// received, which is what the client signed (SigV4 signs "host").
		Director: func(out *http.Request) {
			out.URL.Scheme = u.Scheme
			out.URL.Host = u.Host
			out.Header["X-Forwarded-For"] = nil // nil: add nothing
		},
		Transport:    p.transport,
		ErrorHandler: upstreamError,
		ErrorLog:     quiet,
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(p.serve),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          quiet,
	}
	go p.srv.Serve(ln) //nolint:errcheck // returns ErrServerClosed after Close
	return p, nil
}

// URL returns the proxy's base URL, "http://127.0.0.1:PORT", for the
// client's endpoint.
func (p *Proxy) URL() string { return p.url }

// Close stops the proxy: it stops listening, ends every request in flight
// (a Delay or Hang included) and waits for them. Rules and records stay
// readable. Calling it more than once is harmless.
func (p *Proxy) Close() {
	p.closeOnce.Do(func() {
		p.mu.Lock()
		p.stopping = true
		p.mu.Unlock()
		close(p.closed)
		p.srv.Close() // closes the listener and every connection not hijacked
		p.active.Wait()
		p.transport.CloseIdleConnections()
	})
}

// Requests returns a copy of the records of the requests received since
// Start or the last Reset, in the order they arrived.
func (p *Proxy) Requests() []RequestRecord {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]RequestRecord, len(p.records))
	for i, rec := range p.records {
		out[i] = *rec
	}
	return out
}

// enter registers a handler with Close, or reports that the proxy is
// closing and the request must not start.
func (p *Proxy) enter() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopping {
		return false
	}
	p.active.Add(1)
	return true
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		abort(w)
		return
	}
	defer p.active.Done()

	action := p.claim(r)
	rec := &RequestRecord{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery}
	if action.kind != kindForward {
		rec.Fault = action.String()
	}
	p.mu.Lock()
	p.records = append(p.records, rec)
	p.mu.Unlock()

	rw := &responseWriter{ResponseWriter: w, cutAfter: -1}
	// Deferred, because the reverse proxy ends a broken response body
	// with panic(http.ErrAbortHandler), which net/http recovers.
	defer func() {
		p.mu.Lock()
		rec.Status = rw.status
		p.mu.Unlock()
	}()

	switch action.kind {
	case kindForward:
		p.forward.ServeHTTP(rw, r)
	case kindStatus:
		answerStatus(rw, r, action.code, action.s3Code)
	case kindReset:
		resetMidBody(rw, r)
	case kindCut:
		rw.cutAfter = action.after
		p.forward.ServeHTTP(rw, r)
		if !rw.broken { // the body was shorter than the cut
			rw.breakConn()
		}
	case kindDelay:
		t := time.NewTimer(action.delay)
		defer t.Stop()
		select {
		case <-t.C:
			p.forward.ServeHTTP(rw, r)
		case <-r.Context().Done():
			abort(rw)
		case <-p.closed:
			abort(rw)
		}
	case kindHang:
		// Reading the whole body lets net/http watch the connection, so
		// the request context ends when the client hangs up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-p.closed:
		}
		abort(rw)
	}
}

// upstreamError answers a request the server could not be asked, unless
// the client is gone anyway.
func upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		abort(w)
		return
	}
	writeS3Error(w, r, http.StatusBadGateway, "BadGateway", "faultproxy: "+err.Error())
}

// responseWriter records the status sent and, when cutAfter >= 0, breaks
// the connection once cutAfter body bytes have gone out.
type responseWriter struct {
	http.ResponseWriter
	status   int
	cutAfter int64 // -1: never cut
	written  int64
	broken   bool
}

// errCut tells the reverse proxy that the client's connection is gone.
var errCut = errors.New("faultproxy: response body cut")

func (w *responseWriter) WriteHeader(code int) {
	if w.status == 0 && code >= 200 { // 1xx are interim
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *responseWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if w.cutAfter < 0 {
		return w.ResponseWriter.Write(b)
	}
	if w.broken {
		return 0, errCut
	}
	left := w.cutAfter - w.written
	if int64(len(b)) < left {
		n, err := w.ResponseWriter.Write(b)
		w.written += int64(n)
		return n, err
	}
	n, _ := w.ResponseWriter.Write(b[:left])
	w.written += int64(n)
	w.breakConn()
	return n, errCut
}

// breakConn sends what has been written so far, then resets the
// connection.
func (w *responseWriter) breakConn() {
	w.broken = true
	_ = http.NewResponseController(w.ResponseWriter).Flush()
	abort(w.ResponseWriter)
}

// Unwrap lets http.ResponseController reach Flush and Hijack.
func (w *responseWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
