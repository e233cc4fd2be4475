package memstore

import (
	"context"
	"fmt"

	"github.com/s3mount/s3mount/s3io"
)

// The one account that owns every bucket and object of a Store.
const (
	OwnerID   = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
	OwnerName = "memstore"
)

var owner = s3io.Grantee{ID: OwnerID, DisplayName: OwnerName}

func ownerGets(perm string) s3io.Grant {
	g := owner
	g.Type = "CanonicalUser"
	return s3io.Grant{Grantee: g, Permission: perm}
}

func groupGets(uri, perm string) s3io.Grant {
	return s3io.Grant{Grantee: s3io.Grantee{Type: "Group", URI: uri}, Permission: perm}
}

// The grants of each canned ACL, as S3 documents them, after the owner's
// FULL_CONTROL. Object and bucket owner are the same account here, so
// bucket-owner-full-control adds nothing and bucket-owner-read adds READ.
// The EC2 grantee of aws-exec-read is not modelled.
var (
	objectACLs = map[string][]s3io.Grant{
		"private":                   {},
		"public-read":               {groupGets(s3io.AllUsersURI, "READ")},
		"public-read-write":         {groupGets(s3io.AllUsersURI, "READ"), groupGets(s3io.AllUsersURI, "WRITE")},
		"authenticated-read":        {groupGets(s3io.AuthenticatedUsersURI, "READ")},
		"aws-exec-read":             {},
		"bucket-owner-read":         {ownerGets("READ")},
		"bucket-owner-full-control": {},
	}
	// S3 accepts bucket-owner-read and bucket-owner-full-control for a
	// bucket and ignores them.
	bucketACLs = map[string][]s3io.Grant{
		"private":                   {},
		"public-read":               objectACLs["public-read"],
		"public-read-write":         objectACLs["public-read-write"],
		"authenticated-read":        objectACLs["authenticated-read"],
		"aws-exec-read":             {},
		"log-delivery-write":        {groupGets(s3io.LogDeliveryURI, "WRITE"), groupGets(s3io.LogDeliveryURI, "READ_ACP")},
		"bucket-owner-read":         {},
		"bucket-owner-full-control": {},
	}
)

// cannedACL expands a canned ACL known to be in table.
func cannedACL(table map[string][]s3io.Grant, canned string) s3io.ACL {
	grants := append([]s3io.Grant{ownerGets("FULL_CONTROL")}, table[canned]...)
	return s3io.ACL{Owner: owner, Grants: grants}
}

func checkCanned(op, bucketName, key string, table map[string][]s3io.Grant, canned string) error {
	if _, ok := table[canned]; !ok {
		return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidArgument",
			Message: fmt.Sprintf("unknown canned ACL %q", canned), Err: s3io.ErrInvalidArgument}
	}
	return nil
}

// GetObjectACL returns the object's ACL.
func (s *Store) GetObjectACL(ctx context.Context, bucketName, key string) (s3io.ACL, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "acl", "GetObjectAcl", bucketName, key)
	if err != nil {
		return s3io.ACL{}, err
	}
	return cannedACL(objectACLs, o.acl), nil
}

// PutObjectACL gives the object a canned ACL.
func (s *Store) PutObjectACL(ctx context.Context, bucketName, key, canned string) error {
	const op = "PutObjectAcl"
	if err := checkCanned(op, bucketName, key, objectACLs, canned); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "acl", op, bucketName, key)
	if err != nil {
		return err
	}
	o.acl = canned
	return nil
}

// GetBucketACL returns the bucket's ACL.
func (s *Store) GetBucketACL(ctx context.Context, bucketName string) (s3io.ACL, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "acl", "GetBucketAcl", bucketName, "")
	if err != nil {
		return s3io.ACL{}, err
	}
	return cannedACL(bucketACLs, b.acl), nil
}

// PutBucketACL gives the bucket a canned ACL.
func (s *Store) PutBucketACL(ctx context.Context, bucketName, canned string) error {
	const op = "PutBucketAcl"
	if err := checkCanned(op, bucketName, "", bucketACLs, canned); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, err := s.featureBucketLocked(ctx, "acl", op, bucketName, "")
	if err != nil {
		return err
	}
	b.acl = canned
	return nil
}
