package fs

import (
	"sync"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// nodeInfo is what a file node keeps of its object: an s3io.ObjectInfo
// without the key (the node has it), in 48 bytes where the ObjectInfo
// takes 176 and, from a listing or a HEAD, a few strings and a map of its
// own besides. A node lives as long as the kernel holds its inode, and
// `find` over a million keys makes the kernel hold a million (issue 13).
// The fields most objects share (storage class, content type, no
// metadata) are one shared, immutable rareInfo; the others (metadata,
// version, SSE, an ETag that packedETag cannot hold) get a rareInfo of
// their own only when present.
type nodeInfo struct {
	size     int64
	mtimeSec int64     // ModTime as Unix seconds and nanoseconds: the zero
	rare     *rareInfo // nil: none of them
	mtimeNs  int32     // time round-trips, which UnixNano's would not
	etag     packedETag
	hasMeta  bool
}

// rareInfo holds the ObjectInfo fields most nodes share or lack. It is
// never changed once made: nodes and the intern table share it.
type rareInfo struct {
	storageClass, contentType   string
	versionID, sse, sseKMSKeyID string
	etag                        string            // one packedETag cannot hold
	metadata                    map[string]string // nil when empty
}

// packInfo returns what a node keeps of info.
func packInfo(info *s3io.ObjectInfo) nodeInfo {
	p := nodeInfo{size: info.Size, mtimeSec: info.ModTime.Unix(), mtimeNs: int32(info.ModTime.Nanosecond()),
		hasMeta: info.HasMetadata}
	r := rareInfo{storageClass: info.StorageClass, contentType: info.ContentType, versionID: info.VersionID,
		sse: info.SSE, sseKMSKeyID: info.SSEKMSKeyID}
	if packed, ok := packETag(info.ETag); ok {
		p.etag = packed
	} else {
		r.etag = info.ETag // "" too
	}
	if len(info.Metadata) > 0 {
		r.metadata = info.Metadata
	}
	p.rare = internRare(r)
	return p
}

// unpack returns the node's info as an s3io.ObjectInfo for key.
func (p *nodeInfo) unpack(key string) s3io.ObjectInfo {
	info := s3io.ObjectInfo{Key: key, Size: p.size, ETag: p.etag.String(), HasMetadata: p.hasMeta,
		ModTime: time.Unix(p.mtimeSec, int64(p.mtimeNs)).UTC()}
	if r := p.rare; r != nil {
		info.StorageClass, info.ContentType, info.VersionID = r.storageClass, r.contentType, r.versionID
		info.SSE, info.SSEKMSKeyID, info.Metadata = r.sse, r.sseKMSKeyID, r.metadata
		if r.etag != "" {
			info.ETag = r.etag
		}
	}
	return info
}

// version is versionOf the node's info.
func (p *nodeInfo) version() string {
	info := p.unpack("")
	return versionOf(&info)
}

// common is the key of a rareInfo that only has fields many objects share.
type common struct{ storageClass, contentType string }

// maxInterned bounds the table of shared rareInfos: a bucket whose objects
// have thousands of content types shares the first ones only.
const maxInterned = 256

var interned = struct {
	sync.RWMutex
	m map[common]*rareInfo
}{m: make(map[common]*rareInfo)}

// internRare returns r, shared with other nodes when it holds only common
// fields, or nil when it holds nothing.
func internRare(r rareInfo) *rareInfo {
	if r.versionID != "" || r.sse != "" || r.sseKMSKeyID != "" || r.etag != "" || r.metadata != nil {
		return r.own()
	}
	if r.storageClass == "" && r.contentType == "" {
		return nil
	}
	c := common{r.storageClass, r.contentType}
	interned.RLock()
	shared := interned.m[c]
	interned.RUnlock()
	if shared != nil {
		return shared
	}
	interned.Lock()
	defer interned.Unlock()
	if shared = interned.m[c]; shared != nil {
		return shared
	}
	if len(interned.m) >= maxInterned {
		return r.own()
	}
	shared = r.own()
	interned.m[c] = shared
	return shared
}

// own is a copy of r of the node's own: made only on the paths that keep
// one, so that packing a common object allocates nothing.
func (r rareInfo) own() *rareInfo { return &r }

// started anchors the times nodes keep as nanoseconds since it: 8 bytes
// where a time.Time takes 24, and still read off the monotonic clock, so
// a TTL does not jump with the wall clock.
var started = time.Now()

// monoNow is the time since started, in nanoseconds.
func monoNow() int64 { return int64(time.Since(started)) }

// longAgo is a monoNow value older than any TTL (and far enough from the
// smallest int64 that subtracting it from monoNow does not overflow).
const longAgo = -(int64(1) << 62)

// freshMono is fresh for a time kept as a monoNow value.
func (f *FS) freshMono(t int64) bool {
	return time.Duration(monoNow()-t) < f.cfg.MetadataTTL
}
