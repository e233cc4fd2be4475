package fs

import (
	"context"
	"errors"
	"net/url"
	"sort"
	"strings"
	"syscall"

	"github.com/s3mount/s3mount/s3io"
)

// The xattr namespace (README, "Extended attributes"): user.NAME is the
// object's x-amz-meta-NAME; s3.* names expose S3's own features.
const (
	xUserPrefix   = "user."
	xACL          = "s3.acl"
	xTags         = "s3.tags"
	xETag         = "s3.etag"
	xStorageClass = "s3.storage_class"
	xVersionID    = "s3.version_id"
	xSSE          = "s3.sse"
	xContentType  = "s3.content_type"
	xPresignedURL = "s3.presigned_url"
	xRestore      = "s3.restore"
	xSSECKey      = "s3.sse_c_key"
	xCached       = "s3.cached"
	xPolicy       = "s3.policy"
	xCORS         = "s3.cors"
	xLifecycle    = "s3.lifecycle"
	xVersioning   = "s3.versioning"
)

// maxUserMetadata is S3's limit on user metadata: 2 KiB of names and values.
const maxUserMetadata = 2 << 10

// posixMetadata are s3fs's POSIX headers: shown as mode, owner and mtime,
// not as user xattrs.
var posixMetadata = map[string]bool{metaMode: true, metaUID: true, metaGID: true, metaMtime: true, metaRdev: true}

// cannedACLs are the names s3.acl accepts.
var cannedACLs = map[string]bool{
	"private": true, "public-read": true, "public-read-write": true, "authenticated-read": true,
	"bucket-owner-read": true, "bucket-owner-full-control": true,
}

// xattrValue answers a getxattr: the size when dest is too small, the
// bytes otherwise.
func xattrValue(val string, dest []byte) (uint32, syscall.Errno) {
	if len(dest) < len(val) {
		return uint32(len(val)), syscall.ERANGE
	}
	return uint32(copy(dest, val)), 0
}

// xattrList answers a listxattr with NUL-terminated names.
func xattrList(names []string, dest []byte) (uint32, syscall.Errno) {
	var b strings.Builder
	for _, n := range names {
		b.WriteString(n)
		b.WriteByte(0)
	}
	return xattrValue(b.String(), dest)
}

// userXattr returns the metadata name of a user.* xattr, or "" when the
// name is not one (or is an s3fs POSIX header).
func userXattr(attr string) (string, bool) {
	name, ok := strings.CutPrefix(attr, xUserPrefix)
	if !ok || name == "" {
		return "", false
	}
	return strings.ToLower(name), true
}

// formatACL is the text form of s3.acl: "owner ID", then one line per
// grant, "PERMISSION TYPE GRANTEE".
func formatACL(acl s3io.ACL) string {
	var b strings.Builder
	b.WriteString("owner " + acl.Owner.ID + "\n")
	for _, g := range acl.Grants {
		who := g.Grantee.ID
		switch {
		case g.Grantee.URI != "":
			who = g.Grantee.URI
		case g.Grantee.Email != "":
			who = g.Grantee.Email
		}
		typ := g.Grantee.Type
		if typ == "" {
			typ = "CanonicalUser"
		}
		b.WriteString(g.Permission + " " + typ + " " + who + "\n")
	}
	return b.String()
}

// parseCanned checks a canned ACL name written to s3.acl.
func parseCanned(value []byte) (string, error) {
	name := strings.TrimSpace(string(value))
	if !cannedACLs[name] {
		return "", &s3io.OpError{Op: "setxattr s3.acl", Message: "not a canned ACL name: " + name, Err: s3io.ErrInvalidArgument}
	}
	return name, nil
}

// formatTags is the URL-encoded form of s3.tags, sorted by key.
func formatTags(tags []s3io.Tag) string {
	v := url.Values{}
	for _, t := range tags {
		v.Set(t.Key, t.Value)
	}
	return v.Encode()
}

// parseTags reads k1=v1&k2=v2 and checks S3's limits.
func parseTags(value []byte, limit int) ([]s3io.Tag, error) {
	v, err := url.ParseQuery(strings.TrimSpace(string(value)))
	if err != nil {
		return nil, &s3io.OpError{Op: "setxattr s3.tags", Message: err.Error(), Err: s3io.ErrInvalidArgument}
	}
	var tags []s3io.Tag
	for k, vals := range v {
		if len(vals) != 1 {
			return nil, &s3io.OpError{Op: "setxattr s3.tags", Message: "tag " + k + " given twice", Err: s3io.ErrInvalidArgument}
		}
		tags = append(tags, s3io.Tag{Key: k, Value: vals[0]})
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i].Key < tags[j].Key })
	if err := s3io.CheckTags(tags, limit); err != nil {
		return nil, err
	}
	return tags, nil
}

// xattrErrno maps an error of an xattr call. A server without the feature
// gives ENOTSUP, logged once per call kind.
func (f *FS) xattrErrno(op, name string, err error) syscall.Errno {
	errno := toErrno(err)
	if errors.Is(err, s3io.ErrNotImplemented) {
		if _, seen := f.notImplemented.LoadOrStore(op+" "+name, true); !seen {
			f.log.Warn("the server does not implement this; giving ENOTSUP", "call", op, "xattr", name, "err", err)
		}
		return syscall.ENOTSUP
	}
	if errno == syscall.EIO {
		f.log.Warn(op+" failed", "xattr", name, "err", err)
	}
	return errno
}

// presign returns a GET URL for an object.
func (f *FS) presign(ctx context.Context, bucket, key string, opts s3io.ReadOptions) (string, error) {
	expiry := f.cfg.PresignExpiry
	if expiry <= 0 {
		expiry = 60 * 60 * 1e9
	}
	return f.store.PresignGetObject(ctx, bucket, key, expiry, opts)
}
