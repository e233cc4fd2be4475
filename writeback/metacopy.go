package writeback

import (
	"context"
	"errors"
	"slices"

	"github.com/s3mount/s3mount/s3io"
)

// objectGuards are what a metadata-replacing copy of an object onto itself
// may lose: S3 resets the ACL of a copy to private, and Ceph RGW drops the
// tags even when asked to copy them. They are read before the copy and put
// back after it.
type objectGuards struct {
	tags   []s3io.Tag
	canned string // the canned ACL equal to the object's grants, "" for private
}

// readGuards reads the object's tags and ACL. A server without tags or
// ACLs (ErrNotImplemented) has nothing to lose; other errors fail the
// change, which must not silently make a public object private.
func (m *Manager) readGuards(ctx context.Context, bucket, key string) (objectGuards, error) {
	var g objectGuards
	tags, err := m.store.GetObjectTagging(ctx, bucket, key)
	switch {
	case err == nil:
		g.tags = tags
	case !errors.Is(err, s3io.ErrNotImplemented):
		return g, err
	}
	acl, err := m.store.GetObjectACL(ctx, bucket, key)
	switch {
	case err == nil:
		g.canned = cannedACL(acl)
	case !errors.Is(err, s3io.ErrNotImplemented):
		return g, err
	}
	return g, nil
}

// restore puts back what the copy lost. Tags are compared first, so a
// server that kept them (S3, MinIO) costs one GET and no PUT.
func (g objectGuards) restore(ctx context.Context, store Store, bucket, key string) error {
	if len(g.tags) > 0 {
		now, err := store.GetObjectTagging(ctx, bucket, key)
		if err != nil || !slices.Equal(now, g.tags) {
			if err := store.PutObjectTagging(ctx, bucket, key, g.tags); err != nil {
				return err
			}
		}
	}
	if g.canned != "" {
		return store.PutObjectACL(ctx, bucket, key, g.canned)
	}
	return nil
}

// cannedACL names the canned ACL whose grants acl holds beyond its owner's,
// or "" for private (or for grants no canned ACL gives, which a copy
// cannot keep: they are logged by the caller's server, not here).
func cannedACL(acl s3io.ACL) string {
	var allRead, allWrite, authRead bool
	for _, g := range acl.Grants {
		switch {
		case g.Grantee.URI == s3io.AllUsersURI && g.Permission == "READ":
			allRead = true
		case g.Grantee.URI == s3io.AllUsersURI && g.Permission == "WRITE":
			allWrite = true
		case g.Grantee.URI == s3io.AuthenticatedUsersURI && g.Permission == "READ":
			authRead = true
		}
	}
	switch {
	case allRead && allWrite:
		return "public-read-write"
	case allRead:
		return "public-read"
	case authRead:
		return "authenticated-read"
	}
	return ""
}
