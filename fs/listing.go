package fs

import (
	"context"
	"fmt"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// listPageSize is the keys asked for per ListObjectsV2 request: S3's
// maximum, so a 10,000-key directory costs about ten requests.
const listPageSize = 1000

// dirEntry is one name of a directory listing.
type dirEntry struct {
	name    string
	isDir   bool
	info    s3io.ObjectInfo // objects only; from the listing
	pending bool            // a file being written, not in S3 yet
	marker  *markerState    // directories only: their marker, when asked
}

// lister streams the entries of one directory, a page at a time, so that a
// huge directory is never held in memory whole. It merges objects and
// common prefixes in S3's key order, hides keys that cannot be file names,
// and drops an object whose name a directory also has (the directory
// wins). Such an object is held back until the listing passes the place
// where its directory would sort; objects are therefore emitted at most a
// few entries late, in a deterministic order.
type lister struct {
	fs     *FS
	bucket string
	prefix string

	page    s3io.ListPage
	markers map[string]*markerState // of page's common prefixes that were asked
	oi, pi  int                     // next object and common prefix of page
	started bool                    // the first page was requested
	held    heldObjects
	ready   []dirEntry

	// next is the page after this one, requested as soon as this one came
	// in, so that S3's answer overlaps the kernel's work on this page.
	nextPage   chan pageResult
	bg         context.Context // of page requests made ahead
	stopPrefix context.CancelFunc

	// known returns what the directory already knows of a listed file
	// (metadata within the TTL, same version), which then costs no HEAD.
	known func(name string, listed *s3io.ObjectInfo) (s3io.ObjectInfo, bool)
	// knownDir reports whether the directory's child directory knows its
	// marker within the TTL, which then costs no HEAD.
	knownDir func(name string) bool
}

type pageResult struct {
	page    s3io.ListPage
	markers map[string]*markerState
	err     error
}

// close stops a page request still running.
func (l *lister) close() {
	if l.stopPrefix != nil {
		l.stopPrefix()
	}
}

func newLister(f *FS, bucket, prefix string) *lister {
	return &lister{fs: f, bucket: bucket, prefix: prefix}
}

// next returns the next entry, or ok=false at the end of the directory.
func (l *lister) next(ctx context.Context) (e dirEntry, ok bool, err error) {
	for len(l.ready) == 0 {
		more, err := l.step(ctx)
		if err != nil {
			return dirEntry{}, false, err
		}
		if !more {
			l.releaseHeld("")
			if len(l.ready) == 0 {
				return dirEntry{}, false, nil
			}
		}
	}
	e = l.ready[0]
	l.ready = l.ready[1:]
	return e, true, nil
}

// step consumes one raw listing item (fetching a page when needed) and
// reports false when the listing is exhausted.
func (l *lister) step(ctx context.Context) (bool, error) {
	if l.oi == len(l.page.Objects) && l.pi == len(l.page.CommonPrefixes) {
		if l.started && !l.page.IsTruncated {
			return false, nil
		}
		if err := l.fetch(ctx); err != nil {
			return false, err
		}
		return true, nil
	}
	takeObject := l.pi == len(l.page.CommonPrefixes) ||
		(l.oi < len(l.page.Objects) && l.page.Objects[l.oi].Key < l.page.CommonPrefixes[l.pi])
	if takeObject {
		obj := l.page.Objects[l.oi]
		l.oi++
		l.releaseHeld(obj.Key)
		l.addObject(obj)
		if err := l.boundHeld(ctx); err != nil {
			return false, err
		}
	} else {
		p := l.page.CommonPrefixes[l.pi]
		l.pi++
		l.releaseHeld(p)
		l.addPrefix(p)
	}
	return true, nil
}

func (l *lister) fetch(ctx context.Context) error {
	token := l.page.NextContinuationToken
	if l.started && token == "" {
		return fmt.Errorf("list %s/%s: truncated page without continuation token", l.bucket, l.prefix)
	}
	var r pageResult
	if l.nextPage != nil {
		select {
		case r = <-l.nextPage:
		case <-ctx.Done():
			return ctx.Err()
		}
		l.nextPage = nil
	} else {
		r = l.list(ctx, token)
	}
	if r.err != nil {
		return r.err
	}
	l.started = true
	l.page, l.markers, l.oi, l.pi = r.page, r.markers, 0, 0
	if r.page.IsTruncated && r.page.NextContinuationToken != "" {
		l.prefetch(ctx, r.page.NextContinuationToken)
	}
	return nil
}

// prefetch requests the page at token in the background. It outlives the
// readdir request that started it and ends with the directory handle.
func (l *lister) prefetch(ctx context.Context, token string) {
	if l.stopPrefix == nil {
		l.bg, l.stopPrefix = context.WithCancel(context.WithoutCancel(ctx))
	}
	ctx = l.bg
	next := make(chan pageResult, 1)
	l.nextPage = next
	go func() { next <- l.list(ctx, token) }()
}

func (l *lister) list(ctx context.Context, token string) pageResult {
	page, err := l.fs.store.List(ctx, s3io.ListRequest{
		Bucket:            l.bucket,
		Prefix:            l.prefix,
		Delimiter:         "/",
		ContinuationToken: token,
		MaxKeys:           listPageSize,
		WithMetadata:      !l.fs.cfg.NoListMetadata,
	})
	if err != nil {
		return pageResult{err: err}
	}
	if l.known != nil {
		for i := range page.Objects {
			o := &page.Objects[i]
			if k, ok := l.known(strings.TrimPrefix(o.Key, l.prefix), o); ok && !o.HasMetadata {
				*o = k
			}
		}
	}
	markers := l.fs.fillMetadata(ctx, l.bucket, page.Objects, l.unknownDirs(page.CommonPrefixes))
	return pageResult{page: page, markers: markers}
}

// unknownDirs are the listed directories whose marker no node knows
// within the TTL (names that cannot be shown aside).
func (l *lister) unknownDirs(prefixes []string) []string {
	var unknown []string
	for _, p := range prefixes {
		name := strings.TrimSuffix(strings.TrimPrefix(p, l.prefix), "/")
		if nameProblem(name) != "" || (l.knownDir != nil && l.knownDir(name)) {
			continue
		}
		unknown = append(unknown, p)
	}
	return unknown
}

func (l *lister) addObject(obj s3io.ObjectInfo) {
	if obj.Key == l.prefix {
		return // the directory's own marker object
	}
	name := strings.TrimPrefix(obj.Key, l.prefix)
	if problem := nameProblem(name); problem != "" || strings.Contains(name, "/") {
		if problem == "" {
			problem = "unexpected \"/\" in listed name"
		}
		l.fs.logHidden(l.bucket, obj.Key, problem)
		return
	}
	l.held.push(obj)
}

func (l *lister) addPrefix(p string) {
	name := strings.TrimSuffix(strings.TrimPrefix(p, l.prefix), "/")
	if problem := nameProblem(name); problem != "" {
		l.fs.logHidden(l.bucket, p, problem)
		return
	}
	if p == l.fs.parkPrefix() {
		return
	}
	// A held object with the same name is shadowed by this directory.
	if l.held.shadow(p) {
		l.fs.logHidden(l.bucket, strings.TrimSuffix(p, "/"), "shadowed by the directory of the same name")
	}
	l.ready = append(l.ready, dirEntry{name: name, isDir: true, marker: l.markers[p]})
}
