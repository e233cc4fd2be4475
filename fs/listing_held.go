package fs

import (
	"container/heap"
	"context"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// maxHeld bounds the objects a listing holds back. A directory can shadow
// an object "log" only until the listing passes "log/", but every key
// between them ("log.1" ... "log.999999") is itself held, so a chain of
// such names would be held whole. Past the bound, the held object whose
// turn comes first is decided at once with a one-key listing of its
// would-be directory.
const maxHeld = 1000

// heldObjects are the objects a listing holds back, ordered by the key at
// which the listing passes their would-be directory (Key + "/"), so that
// each is released in O(log n) and a chain costs O(n log n), not O(n^2).
type heldObjects struct {
	items  heldHeap
	byName map[string]*heldItem // by object key, to drop a shadowed one
}

type heldItem struct {
	obj      s3io.ObjectInfo
	shadowed bool
}

type heldHeap []*heldItem

func (h heldHeap) Len() int           { return len(h) }
func (h heldHeap) Less(i, j int) bool { return h[i].obj.Key+"/" < h[j].obj.Key+"/" }
func (h heldHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *heldHeap) Push(x any)        { *h = append(*h, x.(*heldItem)) }
func (h *heldHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

func (h *heldObjects) push(obj s3io.ObjectInfo) {
	if h.byName == nil {
		h.byName = make(map[string]*heldItem)
	}
	it := &heldItem{obj: obj}
	h.byName[obj.Key] = it
	heap.Push(&h.items, it)
}

// shadow drops the held object that directory prefix p (ending in "/")
// hides, and reports whether there was one.
func (h *heldObjects) shadow(p string) bool {
	it, ok := h.byName[strings.TrimSuffix(p, "/")]
	if !ok {
		return false
	}
	it.shadowed = true
	delete(h.byName, it.obj.Key)
	return true
}

// popBefore returns the next held object that no directory can shadow
// once the listing has reached key ("" means the listing ended).
func (h *heldObjects) popBefore(key string) (s3io.ObjectInfo, bool) {
	for h.items.Len() > 0 {
		top := h.items[0]
		if key != "" && top.obj.Key+"/" >= key {
			return s3io.ObjectInfo{}, false
		}
		heap.Pop(&h.items)
		if top.shadowed {
			continue
		}
		delete(h.byName, top.obj.Key)
		return top.obj, true
	}
	return s3io.ObjectInfo{}, false
}

// popFirst removes and returns the held object whose turn comes first.
func (h *heldObjects) popFirst() (s3io.ObjectInfo, bool) {
	for h.items.Len() > 0 {
		top := heap.Pop(&h.items).(*heldItem)
		if !top.shadowed {
			delete(h.byName, top.obj.Key)
			return top.obj, true
		}
	}
	return s3io.ObjectInfo{}, false
}

func (h *heldObjects) len() int { return len(h.byName) }

// releaseHeld emits the held objects that no directory can shadow any more
// because the listing has reached key (which sorts after "held/"); ""
// means the listing ended.
func (l *lister) releaseHeld(key string) {
	for {
		obj, ok := l.held.popBefore(key)
		if !ok {
			return
		}
		l.ready = append(l.ready, dirEntry{name: strings.TrimPrefix(obj.Key, l.prefix), info: obj})
	}
}

// boundHeld keeps the held objects within maxHeld: the first in turn is
// decided now by asking whether its directory exists.
func (l *lister) boundHeld(ctx context.Context) error {
	for l.held.len() > maxHeld {
		obj, ok := l.held.popFirst()
		if !ok {
			return nil
		}
		page, err := l.fs.store.List(ctx, s3io.ListRequest{Bucket: l.bucket, Prefix: obj.Key + "/", MaxKeys: 1})
		if err != nil {
			return err
		}
		if len(page.Objects) > 0 || len(page.CommonPrefixes) > 0 {
			l.fs.logHidden(l.bucket, obj.Key, "shadowed by the directory of the same name")
			continue
		}
		l.ready = append(l.ready, dirEntry{name: strings.TrimPrefix(obj.Key, l.prefix), info: obj})
	}
	return nil
}
