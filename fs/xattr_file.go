package fs

import (
	"context"
	"encoding/base64"
	"fmt"
	"maps"
	"sort"
	"strconv"
	"strings"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

var (
	_ = (gofs.NodeGetxattrer)((*fileNode)(nil))
	_ = (gofs.NodeSetxattrer)((*fileNode)(nil))
	_ = (gofs.NodeRemovexattrer)((*fileNode)(nil))
	_ = (gofs.NodeListxattrer)((*fileNode)(nil))
)

// readOnlyXattrs describe the object and cannot be set.
var readOnlyXattrs = map[string]bool{xETag: true, xStorageClass: true, xVersionID: true, xSSE: true, xPresignedURL: true, xCached: true}

func (n *fileNode) Getxattr(ctx context.Context, attr string, dest []byte) (uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	if !strings.HasPrefix(attr, xUserPrefix) && !strings.HasPrefix(attr, "s3.") {
		return 0, syscall.ENODATA // ls asks for system.* and security.* on every file: no request
	}
	val, err := n.xattr(ctx, attr)
	if err != nil {
		return 0, n.fs.xattrErrno("getxattr", attr, err)
	}
	return xattrValue(val, dest)
}

// xattr returns the value of attr, or an error (ENODATA when it has none).
func (n *fileNode) xattr(ctx context.Context, attr string) (string, error) {
	bucket, key := n.location()
	if name, ok := userXattr(attr); ok {
		info, err := n.fullInfo(ctx)
		if err != nil {
			return "", err
		}
		if v, ok := info.Metadata[name]; ok && !posixMetadata[name] {
			return v, nil
		}
		return "", syscall.ENODATA
	}
	switch attr {
	case xUploadState:
		return n.uploadState(), nil
	case xETag, xStorageClass, xVersionID, xSSE, xContentType:
		info, err := n.fullInfo(ctx)
		if err != nil {
			return "", err
		}
		return describe(&info, attr)
	case xACL:
		acl, err := n.fs.store.GetObjectACL(ctx, bucket, key)
		if err != nil {
			return "", err
		}
		return formatACL(acl), nil
	case xTags:
		tags, err := n.fs.store.GetObjectTagging(ctx, bucket, key)
		if err != nil {
			return "", err
		}
		if len(tags) == 0 {
			return "", syscall.ENODATA
		}
		return formatTags(tags), nil
	case xCached:
		return n.cached(ctx)
	case xPresignedURL:
		if n.fs.cfg.Unsigned {
			return "", syscall.ENODATA // no keys to sign it with
		}
		return n.fs.presign(ctx, bucket, key, n.readOptions())
	}
	return "", syscall.ENODATA // s3.sse_c_key and s3.restore are write-only
}

// describe returns one of the read-only s3.* attributes from info.
func describe(info *s3io.ObjectInfo, attr string) (string, error) {
	var v string
	switch attr {
	case xETag:
		v = info.ETag
	case xStorageClass:
		v = info.StorageClass
		if v == "" {
			v = "STANDARD"
		}
	case xVersionID:
		if info.VersionID != "null" {
			v = info.VersionID
		}
	case xSSE:
		v = info.SSE
		if v != "" && info.SSEKMSKeyID != "" {
			v += " key=" + info.SSEKMSKeyID
		}
	case xContentType:
		v = info.ContentType
	}
	if v == "" {
		return "", syscall.ENODATA
	}
	return v, nil
}

func (n *fileNode) Listxattr(ctx context.Context, dest []byte) (uint32, syscall.Errno) {
	ctx = uninterruptible(ctx) // see uninterruptible: no EINTR from a signal
	info, err := n.fullInfo(ctx)
	if err != nil {
		return 0, n.fs.xattrErrno("listxattr", "", err)
	}
	var names []string
	for k := range info.Metadata {
		if !posixMetadata[k] {
			names = append(names, xUserPrefix+k)
		}
	}
	sort.Strings(names)
	for _, attr := range []string{xETag, xStorageClass, xVersionID, xSSE, xContentType} {
		if _, err := describe(&info, attr); err == nil {
			names = append(names, attr)
		}
	}
	names = append(names, xACL, xUploadState)
	if n.fs.cache.HasDisk() {
		names = append(names, xCached)
	}
	if !n.fs.cfg.Unsigned {
		names = append(names, xPresignedURL)
	}
	bucket, key := n.location()
	if tags, err := n.fs.store.GetObjectTagging(ctx, bucket, key); err == nil && len(tags) > 0 {
		names = append(names, xTags)
	}
	return xattrList(names, dest)
}

func (n *fileNode) Setxattr(ctx context.Context, attr string, data []byte, flags uint32) syscall.Errno {
	ctx = uninterruptible(ctx)
	if attr == xSSECKey {
		return n.setKey(data)
	}
	if n.fs.readOnly() {
		return syscall.EROFS
	}
	bucket, key := n.location()
	if name, ok := userXattr(attr); ok {
		if posixMetadata[name] {
			return syscall.EINVAL // chmod, chown and touch set these
		}
		return n.changeUserMetadata(ctx, name, string(data), flags)
	}
	var err error
	switch {
	case readOnlyXattrs[attr]:
		return syscall.EPERM
	case attr == xContentType:
		ct := strings.TrimSpace(string(data))
		return n.setattr(ctx, false, 0, func(m *writeback.Meta) { m.ContentType = ct }, true)
	case attr == xACL:
		var canned string
		n.setGuards() // before the request: it may succeed and give an error
		if canned, err = parseCanned(data); err == nil {
			err = n.fs.store.PutObjectACL(ctx, bucket, key, canned)
		}
	case attr == xTags:
		var tags []s3io.Tag
		n.setGuards()
		if tags, err = parseTags(data, s3io.MaxObjectTags); err == nil {
			err = n.fs.store.PutObjectTagging(ctx, bucket, key, tags)
		}
	case attr == xRestore:
		err = n.restore(ctx, bucket, key, data)
	default:
		return syscall.ENOTSUP
	}
	if err != nil {
		return n.fs.xattrErrno("setxattr", attr, err)
	}
	return 0
}

func (n *fileNode) Removexattr(ctx context.Context, attr string) syscall.Errno {
	ctx = uninterruptible(ctx)
	if n.fs.readOnly() {
		return syscall.EROFS
	}
	if name, ok := userXattr(attr); ok {
		if posixMetadata[name] {
			return syscall.EINVAL
		}
		return n.changeUserMetadata(ctx, name, "", xattrRemove)
	}
	switch {
	case attr == xTags:
		bucket, key := n.location()
		n.setGuards()
		if err := n.fs.store.DeleteObjectTagging(ctx, bucket, key); err != nil {
			return n.fs.xattrErrno("removexattr", attr, err)
		}
		return 0
	case readOnlyXattrs[attr], attr == xContentType, attr == xACL:
		return syscall.EPERM
	}
	return syscall.ENODATA
}

// xattrRemove is a flags value of changeUserMetadata: remove the name.
const xattrRemove = 1 << 31

// Linux setxattr flags.
const (
	xattrCreate  = 1
	xattrReplace = 2
)

// changeUserMetadata sets (or removes) one x-amz-meta-* entry, checking
// XATTR_CREATE/XATTR_REPLACE and S3's 2 KiB limit first.
func (n *fileNode) changeUserMetadata(ctx context.Context, name, value string, flags uint32) syscall.Errno {
	info, err := n.fullInfo(ctx)
	if err != nil {
		return n.fs.xattrErrno("setxattr", xUserPrefix+name, err)
	}
	_, exists := info.Metadata[name]
	switch {
	case flags&xattrRemove != 0 && !exists, flags&xattrReplace != 0 && !exists:
		return syscall.ENODATA
	case flags&xattrCreate != 0 && exists:
		return syscall.EEXIST
	}
	meta := maps.Clone(info.Metadata)
	if meta == nil {
		meta = map[string]string{}
	}
	if flags&xattrRemove != 0 {
		delete(meta, name)
	} else {
		meta[name] = value
	}
	size := 0
	for k, v := range meta {
		size += len(k) + len(v)
	}
	if size > maxUserMetadata {
		return syscall.E2BIG
	}
	return n.setattr(ctx, false, 0, func(m *writeback.Meta) {
		if flags&xattrRemove != 0 {
			delete(m.UserMetadata, name)
		} else {
			m.UserMetadata[name] = value
		}
	}, true)
}

// cached says how much of the object's current version (its ETag checked
// as a read checks it, within the TTL) is in the disk cache:
// "KEPT of SIZE bytes (PCT%)", the percentage rounded down, so that 100%
// means every block. A mount without --cache-dir has no such attribute.
func (n *fileNode) cached(ctx context.Context) (string, error) {
	if !n.fs.cache.HasDisk() {
		return "", syscall.ENODATA
	}
	info, err := n.currentInfo(ctx)
	if err != nil {
		return "", err
	}
	bucket, key := n.location()
	obj := n.fs.cacheObject(bucket, key, &info, n.readOptions())
	kept, _ := n.fs.cache.Kept(obj)
	pct := int64(100)
	if info.Size > 0 {
		pct = kept * 100 / info.Size
	}
	v := fmt.Sprintf("%d of %d bytes (%d%%)", kept, info.Size, pct)
	if !obj.OnDisk {
		v += "; read with an SSE-C key, not kept on disk without --cache-sse-c"
	}
	return v, nil
}

// restore asks S3 to restore an archived object: "DAYS" or "DAYS,TIER".
func (n *fileNode) restore(ctx context.Context, bucket, key string, data []byte) error {
	days, tier, err := parseRestore(data)
	if err != nil {
		return err
	}
	return n.fs.store.RestoreObject(ctx, bucket, key, days, tier)
}

// restoreTiers are the retrieval tiers S3 knows.
var restoreTiers = map[string]bool{"": true, "Standard": true, "Bulk": true, "Expedited": true}

// parseRestore reads "DAYS" or "DAYS,TIER".
func parseRestore(data []byte) (days int, tier string, err error) {
	daysStr, tier, _ := strings.Cut(strings.TrimSpace(string(data)), ",")
	tier = strings.TrimSpace(tier)
	days, err = strconv.Atoi(strings.TrimSpace(daysStr))
	if err != nil || days < 1 || days > 30000 || !restoreTiers[tier] {
		return 0, "", &s3io.OpError{Op: "setxattr s3.restore",
			Message: "want DAYS (1 to 30000) or DAYS,TIER (Standard, Bulk or Expedited)", Err: s3io.ErrInvalidArgument}
	}
	return days, tier, nil
}

// setKey records an SSE-C key for this file only: 32 raw bytes or their
// base64. It is kept in memory and never shown.
func (n *fileNode) setKey(data []byte) syscall.Errno {
	key := data
	if len(key) != 32 {
		decoded, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil || len(decoded) != 32 {
			return syscall.EINVAL
		}
		key = decoded
	}
	n.mu.Lock()
	n.laterLocked().ssec = s3io.SSECustomerKey(append([]byte(nil), key...))
	n.checked = longAgo // read the object again with the key
	n.mu.Unlock()
	return 0
}

// ssecOwn returns the file's own SSE-C key, or nil.
func (n *fileNode) ssecOwn() s3io.SSECustomerKey {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.later == nil {
		return nil
	}
	return n.later.ssec
}

// readOptions are the options of reads of this file: the mount's, with
// the file's own SSE-C key when one was set.
func (n *fileNode) readOptions() s3io.ReadOptions {
	opts := n.fs.cfg.ReadOptions
	n.mu.Lock()
	if n.later != nil && n.later.ssec != nil {
		opts.SSEC = n.later.ssec
	}
	n.mu.Unlock()
	return opts
}
