package fs

import (
	"strings"
	"sync"

	"github.com/s3mount/s3mount/writeback"
)

// openWriters is the set of the mount's staged writers (open, or retained
// after a failed close), so that a directory finds its files not yet in S3
// without visiting every child node.
type openWriters struct {
	mu sync.Mutex
	ws map[*writeback.File]struct{}
}

func (o *openWriters) add(w *writeback.File) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ws == nil {
		o.ws = make(map[*writeback.File]struct{})
	}
	o.ws[w] = struct{}{}
}

// all returns the staged writers.
func (o *openWriters) all() []*writeback.File {
	o.mu.Lock()
	defer o.mu.Unlock()
	ws := make([]*writeback.File, 0, len(o.ws))
	for w := range o.ws {
		ws = append(ws, w)
	}
	return ws
}

func (o *openWriters) remove(w *writeback.File) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.ws, w)
}

// pendingIn returns the names of new files directly in bucket/prefix that
// S3 has no object for yet: a listing cannot show them. The cost follows
// the number of files open for writing, not the directory's size.
func (o *openWriters) pendingIn(bucket, prefix string) []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var names []string
	for w := range o.ws {
		b, k := w.Location()
		if b != bucket || !strings.HasPrefix(k, prefix) || strings.Contains(k[len(prefix):], "/") || !w.Pending() {
			continue
		}
		names = append(names, k[len(prefix):])
	}
	return names
}

// anyPendingUnder reports whether a file anywhere under bucket/prefix is
// one S3 has no object for yet.
func (o *openWriters) anyPendingUnder(bucket, prefix string) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	for w := range o.ws {
		if b, k := w.Location(); b == bucket && strings.HasPrefix(k, prefix) && w.Pending() {
			return true
		}
	}
	return false
}
