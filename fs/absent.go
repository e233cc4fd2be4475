package fs

import (
	"sync"
	"time"
)

// maxAbsentNames bounds the names remembered as missing.
const maxAbsentNames = 4096

// absentNames are names a lookup found missing in S3, trusted for
// --negative-metadata-ttl as the kernel trusts its negative entries. The
// kernel asks again anyway before an exclusive create (`open(O_CREAT |
// O_EXCL)` right after a `stat`: cp, rsync, editors), which then sends
// nothing. Any name made here since is forgotten; gen orders a lookup
// that began before a make against that make.
type absentNames struct {
	mu    sync.Mutex
	until map[string]time.Time // by bucket "\x00" key
	gen   uint64               // makes so far
}

// generation is what a lookup notes before it asks S3.
func (a *absentNames) generation() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gen
}

// add remembers id as missing until until, unless something was made
// since the lookup that found it missing began (at gen).
func (a *absentNames) add(id string, gen uint64, until time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if gen != a.gen {
		return
	}
	if a.until == nil {
		a.until = make(map[string]time.Time)
	}
	if len(a.until) >= maxAbsentNames {
		now := time.Now()
		for k, t := range a.until {
			if !now.Before(t) {
				delete(a.until, k)
			}
		}
		if len(a.until) >= maxAbsentNames {
			clear(a.until) // all recent: start again rather than grow
		}
	}
	a.until[id] = until
}

// has reports whether id is known to be missing.
func (a *absentNames) has(id string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	t, ok := a.until[id]
	if ok && !time.Now().Before(t) {
		delete(a.until, id)
		return false
	}
	return ok
}

// made forgets that id was missing.
func (a *absentNames) made(id string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.gen++
	delete(a.until, id)
}
