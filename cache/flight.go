package cache

import (
	"context"
	"sync"
)

// flights shares one fetch of a block among every caller that wants it,
// and cancels the fetch when the last of them gives up: a reader killed
// during an outage must not keep its fetch, and a fetch slot, for a whole
// retry cycle that nobody waits for any more.
type flights struct {
	mu sync.Mutex
	m  map[string]*flight
}

type flight struct {
	done    chan struct{}
	val     []byte
	err     error
	waiters int
	cancel  context.CancelFunc
}

// do returns the result of fetch for key, shared with concurrent callers.
// fetch runs with a context that keeps ctx's values and is cancelled once
// no caller waits.
func (fs *flights) do(ctx context.Context, key string, fetch func(context.Context) ([]byte, error)) ([]byte, error) {
	fs.mu.Lock()
	if fs.m == nil {
		fs.m = make(map[string]*flight)
	}
	f, ok := fs.m[key]
	if !ok {
		fctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		f = &flight{done: make(chan struct{}), cancel: cancel}
		fs.m[key] = f
		go func() {
			f.val, f.err = fetch(fctx)
			fs.mu.Lock()
			if fs.m[key] == f {
				delete(fs.m, key)
			}
			fs.mu.Unlock()
			cancel()
			close(f.done)
		}()
	}
	f.waiters++
	fs.mu.Unlock()
	select {
	case <-f.done:
		return f.val, f.err
	case <-ctx.Done():
		fs.mu.Lock()
		f.waiters--
		if f.waiters == 0 {
			// Nobody wants it: stop it, and let the next caller start afresh.
			f.cancel()
			if fs.m[key] == f {
				delete(fs.m, key)
			}
		}
		fs.mu.Unlock()
		return nil, ctx.Err()
	}
}

// waiting counts the callers waiting for key's fetch (for tests).
func (fs *flights) waiting(key string) int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f, ok := fs.m[key]; ok {
		return f.waiters
	}
	return 0
}

// inFlight counts the fetches running (for tests).
func (fs *flights) inFlight() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.m)
}
