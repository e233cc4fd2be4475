package fs

import "sync"

// maxLoggedOnce bounds the memory spent remembering what was logged: a
// bucket full of hostile keys, or of objects needing SSE-C keys, would
// otherwise grow it for the mount's whole life.
const maxLoggedOnce = 10000

// logOnce remembers which things were logged, up to maxLoggedOnce; when
// full it forgets them all, so each may be logged once more.
type logOnce struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// first reports whether id is seen for the first time (since the last
// reset), and records it.
func (l *logOnce) first(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.seen[id]; ok {
		return false
	}
	if l.seen == nil || len(l.seen) >= maxLoggedOnce {
		l.seen = make(map[string]struct{})
	}
	l.seen[id] = struct{}{}
	return true
}
