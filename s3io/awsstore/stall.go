package awsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// stallTransport fails an attempt whose request body the server stops
// reading for longer than timeout. ResponseHeaderTimeout only starts once
// the whole body is sent, so without this a server that stops reading (a
// full Ceph OSD does) blocks an upload, and the close(2) waiting for it,
// for as long as TCP keeps the connection: minutes, unkillably. The
// failure is a timeout the retryer retries, like a lost answer.
type stallTransport struct {
	next    http.RoundTripper
	timeout time.Duration
}

// errStalled is the cause of an attempt cancelled for a stalled body.
var errStalled = errors.New("the server stopped reading the request body")

// stallError is what the retryer sees: a network timeout, so it retries.
type stallError struct{ timeout time.Duration }

func (e *stallError) Error() string {
	return fmt.Sprintf("%v for %v (--request-timeout)", errStalled, e.timeout)
}
func (e *stallError) Timeout() bool   { return true }
func (e *stallError) Temporary() bool { return true }
func (e *stallError) Unwrap() error   { return errStalled }

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || t.timeout <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	body := &progressBody{ReadCloser: req.Body}
	body.touch()
	out := req.Clone(ctx)
	out.Body = body
	stopWatch := t.watch(body, cancel)
	resp, err := t.next.RoundTrip(out)
	stopWatch()
	if err != nil {
		stalled := errors.Is(context.Cause(ctx), errStalled)
		cancel(nil)
		if stalled {
			return nil, &stallError{timeout: t.timeout}
		}
		return nil, err
	}
	// The response body still needs the context: cancel when it is closed.
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: func() { cancel(nil) }}
	return resp, nil
}

// watch cancels the attempt when body makes no progress for t.timeout,
// until the body is fully read or the returned stop is called.
func (t *stallTransport) watch(body *progressBody, cancel context.CancelCauseFunc) (stop func()) {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		tick := time.NewTicker(max(t.timeout/8, 10*time.Millisecond))
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if body.finished.Load() {
					return
				}
				if time.Since(time.Unix(0, body.last.Load())) > t.timeout {
					cancel(errStalled)
					return
				}
			}
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// progressBody records when the transport last took bytes from the body.
type progressBody struct {
	io.ReadCloser
	last     atomic.Int64 // UnixNano of the last progress
	finished atomic.Bool
}

func (b *progressBody) touch() { b.last.Store(time.Now().UnixNano()) }

func (b *progressBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.touch()
	if err == io.EOF {
		b.finished.Store(true)
	}
	return n, err
}

type cancelOnClose struct {
	io.ReadCloser
	cancel func()
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}
