package storetest

import "github.com/s3mount/s3mount/s3io"

// wantPrivate fails unless acl gives the owner FULL_CONTROL and nothing to
// a group. Servers may leave owner ids out (MinIO does); when present,
// the FULL_CONTROL grant must be the owner's.
func (e *env) wantPrivate(what string, acl s3io.ACL) {
	e.t.Helper()
	full := false
	for _, g := range acl.Grants {
		if g.Grantee.Type == "Group" {
			e.t.Fatalf("%s: grant %+v to a group in a private ACL %+v", what, g, acl)
		}
		if g.Permission == "FULL_CONTROL" && g.Grantee.Type == "CanonicalUser" && g.Grantee.ID == acl.Owner.ID {
			full = true
		}
	}
	if !full {
		e.t.Fatalf("%s: ACL %+v gives its owner no FULL_CONTROL", what, acl)
	}
}

// hasGrant reports whether acl grants perm to the group uri.
func hasGrant(acl s3io.ACL, uri, perm string) bool {
	for _, g := range acl.Grants {
		if g.Grantee.Type == "Group" && g.Grantee.URI == uri && g.Permission == perm {
			return true
		}
	}
	return false
}

var aclCases = []testCase{
	{"NewObjectsAndBucketsArePrivate", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		acl, err := e.s.GetObjectACL(e.ctx, e.bucket, "obj")
		objectACLs := !e.lacks(ObjectACLs, err)
		if objectACLs {
			e.ok("GetObjectACL", err)
			e.wantPrivate("object ACL", acl)
		}
		acl, err = e.s.GetBucketACL(e.ctx, e.bucket)
		e.ok("GetBucketACL", err)
		e.wantPrivate("bucket ACL", acl)
		if objectACLs {
			e.ok("PutObjectACL private", e.s.PutObjectACL(e.ctx, e.bucket, "obj", "private"))
		}
		if err := e.s.PutBucketACL(e.ctx, e.bucket, "private"); !e.lacks(ObjectACLs, err) {
			e.ok("PutBucketACL private", err)
		}
	}},
	{"ACLOfAMissingObjectIsNotFound", func(e *env) {
		_, err := e.s.GetObjectACL(e.ctx, e.bucket, "missing")
		if e.lacks(ObjectACLs, err) {
			return
		}
		e.wantErr("GetObjectACL of a missing key", err, s3io.ErrNotFound)
	}},
	{"PublicReadGrantsAllUsersReadUntilMadePrivate", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		err := e.s.PutObjectACL(e.ctx, e.bucket, "obj", "public-read")
		if e.lacks(CannedACLs, err) || e.lacks(ObjectACLs, err) {
			return
		}
		e.ok("PutObjectACL public-read", err)
		acl, err := e.s.GetObjectACL(e.ctx, e.bucket, "obj")
		e.ok("GetObjectACL", err)
		if !hasGrant(acl, s3io.AllUsersURI, "READ") || hasGrant(acl, s3io.AllUsersURI, "WRITE") {
			e.t.Fatalf("public-read object ACL = %+v, want AllUsers READ only", acl)
		}
		e.ok("PutObjectACL private", e.s.PutObjectACL(e.ctx, e.bucket, "obj", "private"))
		acl, err = e.s.GetObjectACL(e.ctx, e.bucket, "obj")
		e.ok("GetObjectACL", err)
		e.wantPrivate("object ACL made private again", acl)

		err = e.s.PutBucketACL(e.ctx, e.bucket, "public-read-write")
		e.ok("PutBucketACL public-read-write", err)
		acl, err = e.s.GetBucketACL(e.ctx, e.bucket)
		e.ok("GetBucketACL", err)
		if !hasGrant(acl, s3io.AllUsersURI, "READ") || !hasGrant(acl, s3io.AllUsersURI, "WRITE") {
			e.t.Fatalf("public-read-write bucket ACL = %+v, want AllUsers READ and WRITE", acl)
		}
		e.ok("PutBucketACL private", e.s.PutBucketACL(e.ctx, e.bucket, "private"))
	}},
	{"UnknownCannedACLIsInvalid", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		err := e.s.PutBucketACL(e.ctx, e.bucket, "")
		e.wantErr("PutBucketACL without a canned ACL", err, s3io.ErrInvalidArgument)
		err = e.s.PutObjectACL(e.ctx, e.bucket, "obj", "everyone-welcome")
		if e.lacks(CannedACLs, err) || e.lacks(ObjectACLs, err) {
			return
		}
		e.wantErr("PutObjectACL with an unknown canned ACL", err, s3io.ErrInvalidArgument)
	}},
}
