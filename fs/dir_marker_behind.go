package fs

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/s3mount/s3mount/writeback"
)

// Directory attributes are written behind.
//
// chmod, chown and utimens of a directory each rewrite its marker ("dir/")
// with the new metadata: one PUT each, and tar -x makes three per
// directory (its delayed set-stat), synchronously, one after another. They
// are written behind instead: the change is shown at once (the node holds
// the new attributes, and no listing or lookup replaces them while the
// write waits), and the marker is written markerDelay later with every
// change made meanwhile, one PUT for all three. A failed write is retried
// (doubling from markerRetryDelay to markerRetryMax) and logged; fsync of
// the directory, s3.sync and `s3mount sync` over it, a rename of it (or
// of a directory above it) and the unmount write pending markers first,
// and the first three report a failure. rmdir drops a pending write. A
// crash of the daemon loses at most the attribute changes of the last
// markerDelay (or those still failing). mkdir itself is not delayed,
// except in asynchronous mode (--async-upload), where a new directory's
// marker is written behind the same way (with the directory's first
// attribute changes, one PUT): until then listings show it as they show
// files still to be uploaded, and rmdir of it, or of a directory above it,
// sees it.
const (
	markerDelay      = 100 * time.Millisecond
	markerRetryDelay = time.Second
	markerRetryMax   = time.Minute
)

// markerWrite is a marker rewrite not yet in S3. The directory's
// setattrMu guards it.
type markerWrite struct {
	meta     writeback.Meta
	timer    *time.Timer
	failures int
	err      error // the last failure
}

// markersBehind are the directories with a marker write pending, and
// whether that write makes the directory (an asynchronous mkdir: S3 has
// no key for it yet).
type markersBehind struct {
	mu   sync.Mutex
	dirs map[*dirNode]bool
}

func (m *markersBehind) add(d *dirNode, creating bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.dirs == nil {
		m.dirs = make(map[*dirNode]bool)
	}
	m.dirs[d] = m.dirs[d] || creating
}

// creatingIn returns the directories directly in bucket/prefix that S3
// has no key for yet, by name: a listing cannot show them.
func (m *markersBehind) creatingIn(bucket, prefix string) map[string]*dirNode {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out map[string]*dirNode
	for d, creating := range m.dirs {
		p := d.path()
		if !creating || d.bucket != bucket || !strings.HasPrefix(p, prefix) {
			continue
		}
		name := strings.TrimSuffix(p[len(prefix):], "/")
		if name == "" || strings.Contains(name, "/") {
			continue
		}
		if out == nil {
			out = make(map[string]*dirNode)
		}
		out[name] = d
	}
	return out
}

// anyCreatingUnder reports whether a directory under bucket/prefix (not
// the one of prefix itself) has no key in S3 yet.
func (m *markersBehind) anyCreatingUnder(bucket, prefix string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for d, creating := range m.dirs {
		if p := d.path(); creating && d.bucket == bucket && p != prefix && strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func (m *markersBehind) remove(d *dirNode) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.dirs, d)
}

func (m *markersBehind) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.dirs)
}

// under returns the directories of bucket with a pending write whose
// prefix starts with prefix ("" bucket: all).
func (m *markersBehind) under(bucket, prefix string) []*dirNode {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*dirNode
	for d := range m.dirs {
		if bucket == "" || d.bucket == bucket && strings.HasPrefix(d.path(), prefix) {
			out = append(out, d)
		}
	}
	return out
}

// writeMarkerBehindLocked schedules the marker's rewrite with meta,
// replacing a pending one; creating says that S3 has no key for the
// directory yet. The caller holds setattrMu.
func (d *dirNode) writeMarkerBehindLocked(meta writeback.Meta, creating bool) {
	if d.behind == nil {
		d.behind = &markerWrite{}
		d.behind.timer = time.AfterFunc(markerDelay, d.flushMarkerInBackground)
	}
	d.fs.markers.add(d, creating)
	d.behind.meta = meta
	d.mu.Lock()
	d.writingMarker = true
	d.mu.Unlock()
}

// flushMarkerInBackground is the timer's write.
func (d *dirNode) flushMarkerInBackground() {
	d.setattrMu.Lock()
	defer d.setattrMu.Unlock()
	_ = d.flushMarkerLocked(context.Background()) // a failure is logged and retried
}

// flushMarker writes the pending marker now, if any.
func (d *dirNode) flushMarker(ctx context.Context) error {
	d.setattrMu.Lock()
	defer d.setattrMu.Unlock()
	return d.flushMarkerLocked(ctx)
}

// flushMarkerLocked writes the pending marker, if any; on a failure it
// stays pending, and is tried again later. The caller holds setattrMu.
func (d *dirNode) flushMarkerLocked(ctx context.Context) error {
	w := d.behind
	if w == nil {
		return nil
	}
	w.timer.Stop()
	prefix := d.path()
	info, err := d.fs.wb.PutMarker(ctx, d.bucket, prefix, w.meta)
	if err != nil {
		w.err = err
		w.failures++
		delay := min(markerRetryDelay<<min(w.failures-1, 10), markerRetryMax)
		d.fs.log.Warn("directory attributes not written to S3; retrying", "bucket", d.bucket,
			"key", printableKey(prefix), "attempt", w.failures, "retry_in", delay, "err", err)
		w.timer = time.AfterFunc(delay, d.flushMarkerInBackground)
		return err
	}
	if w.failures > 0 {
		d.fs.log.Info("directory attributes written to S3 after retries", "bucket", d.bucket, "key", printableKey(prefix))
	}
	d.behind = nil
	d.fs.markers.remove(d)
	info.Key, info.Metadata, info.ContentType, info.HasMetadata = prefix, w.meta.UserMetadata, w.meta.ContentType, true
	if info.ModTime.IsZero() {
		info.ModTime = time.Now().Truncate(time.Second)
	}
	d.mu.Lock()
	d.marker, d.markerAt, d.writingMarker = &markerState{found: true, info: info}, time.Now(), false
	d.mu.Unlock()
	return nil
}

// dropMarkerLocked forgets a pending write (the directory was removed).
func (d *dirNode) dropMarkerLocked() {
	if d.behind != nil {
		d.behind.timer.Stop()
		d.behind = nil
		d.fs.markers.remove(d)
		d.mu.Lock()
		d.writingMarker = false
		d.mu.Unlock()
	}
}

// markerPending reports whether a write of the marker waits.
func (d *dirNode) markerPending() bool {
	d.setattrMu.Lock()
	defer d.setattrMu.Unlock()
	return d.behind != nil
}

// flushMarkers writes the pending markers of directories under
// bucket/prefix ("" bucket: all) and returns the first failure.
func (f *FS) flushMarkers(ctx context.Context, bucket, prefix string) error {
	var errs []error
	for _, d := range f.markers.under(bucket, prefix) {
		if err := d.flushMarker(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// PendingMarkers is how many directories have attribute changes waiting
// to be written.
func (f *FS) PendingMarkers() int { return f.markers.count() }

// FlushMarkers writes every pending directory marker: at unmount.
func (f *FS) FlushMarkers(ctx context.Context) error { return f.flushMarkers(ctx, "", "") }
