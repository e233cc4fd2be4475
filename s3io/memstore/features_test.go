package memstore

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

func TestRefusedFeaturesAnswerNotImplementedLikeAGateway(t *testing.T) {
	s, ctx := newBucket(t)
	s.PutBytes("b", "k", []byte("x"), nil)
	s.Refuse("acl", "tagging")
	for what, err := range map[string]error{
		"GetObjectACL":     func() error { _, err := s.GetObjectACL(ctx, "b", "k"); return err }(),
		"PutBucketACL":     s.PutBucketACL(ctx, "b", "private"),
		"PutObjectTagging": s.PutObjectTagging(ctx, "b", "k", nil),
		"GetBucketTagging": func() error { _, err := s.GetBucketTagging(ctx, "b"); return err }(),
	} {
		var oe *s3io.OpError
		if !errors.Is(err, s3io.ErrNotImplemented) || !errors.As(err, &oe) || oe.Code != "NotImplemented" {
			t.Errorf("%s on a store refusing it: err = %v, want NotImplemented", what, err)
		}
	}
	if _, err := s.GetBucketPolicy(ctx, "b"); !errors.Is(err, s3io.ErrNoConfiguration) {
		t.Errorf("GetBucketPolicy, not refused: err = %v, want ErrNoConfiguration", err)
	}
	// Such gateways ignore x-amz-acl on writes.
	if _, err := s.PutObject(ctx, "b", "k2", bytes.NewReader(nil), 0, s3io.WriteOptions{ACL: "public-read"}); err != nil {
		t.Errorf("PutObject with a canned ACL on a store refusing ACLs: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("Refuse of an unknown feature did not panic")
		}
	}()
	s.Refuse("acls")
}

func TestCannedACLsExpandAsS3DocumentsThem(t *testing.T) {
	s, ctx := newBucket(t)
	s.PutBytes("b", "k", []byte("x"), nil)
	full := ownerGets("FULL_CONTROL")
	allRead, allWrite := groupGets(s3io.AllUsersURI, "READ"), groupGets(s3io.AllUsersURI, "WRITE")
	for canned, want := range map[string][]s3io.Grant{
		"private":                   {full},
		"public-read":               {full, allRead},
		"public-read-write":         {full, allRead, allWrite},
		"authenticated-read":        {full, groupGets(s3io.AuthenticatedUsersURI, "READ")},
		"bucket-owner-read":         {full, ownerGets("READ")},
		"bucket-owner-full-control": {full},
	} {
		if err := s.PutObjectACL(ctx, "b", "k", canned); err != nil {
			t.Fatal(err)
		}
		acl, err := s.GetObjectACL(ctx, "b", "k")
		if err != nil || acl.Owner.ID != OwnerID || !reflect.DeepEqual(acl.Grants, want) {
			t.Errorf("object ACL after %s = %+v, %v; want %+v", canned, acl, err, want)
		}
	}
	for canned, want := range map[string][]s3io.Grant{
		"log-delivery-write": {full, groupGets(s3io.LogDeliveryURI, "WRITE"), groupGets(s3io.LogDeliveryURI, "READ_ACP")},
		"bucket-owner-read":  {full}, // ignored on buckets
	} {
		if err := s.PutBucketACL(ctx, "b", canned); err != nil {
			t.Fatal(err)
		}
		acl, err := s.GetBucketACL(ctx, "b")
		if err != nil || !reflect.DeepEqual(acl.Grants, want) {
			t.Errorf("bucket ACL after %s = %+v, %v; want %+v", canned, acl, err, want)
		}
	}
	if err := s.PutObjectACL(ctx, "b", "k", "log-delivery-write"); !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Errorf("object ACL log-delivery-write (a bucket-only ACL): err = %v, want ErrInvalidArgument", err)
	}
}

func TestWritesKeepTheirCannedACL(t *testing.T) {
	s, ctx := newBucket(t)
	if _, err := s.PutObject(ctx, "b", "pub", bytes.NewReader(nil), 0, s3io.WriteOptions{ACL: "public-read"}); err != nil {
		t.Fatal(err)
	}
	acl, _ := s.GetObjectACL(ctx, "b", "pub")
	if len(acl.Grants) != 2 || acl.Grants[1].Grantee.URI != s3io.AllUsersURI {
		t.Fatalf("ACL of an object put public-read = %+v", acl)
	}
	_, err := s.CreateMultipartUpload(ctx, "b", "k", s3io.WriteOptions{ACL: "world-readable"})
	if !errors.Is(err, s3io.ErrInvalidArgument) {
		t.Fatalf("upload with an unknown canned ACL: err = %v, want ErrInvalidArgument", err)
	}
}

func TestRestoreIsRecordedForArchivedObjects(t *testing.T) {
	s, ctx := newBucket(t)
	if _, err := s.PutObject(ctx, "b", "cold", bytes.NewReader(nil), 0, s3io.WriteOptions{StorageClass: "DEEP_ARCHIVE"}); err != nil {
		t.Fatal(err)
	}
	if err := s.RestoreObject(ctx, "b", "cold", 3, ""); err != nil {
		t.Fatal(err)
	}
	if days := s.buckets["b"].objects["cold"].restoreDays; days != 3 {
		t.Fatalf("restore recorded for %d days, want 3", days)
	}
}

func TestPolicyProblemsAreThoseS3Reports(t *testing.T) {
	for policy, ok := range map[string]bool{
		`{"Statement":[{"Effect":"Allow","Resource":"arn:aws:s3:::bkt/*"}]}`:                     true,
		`{"Statement":{"Effect":"Deny","Resource":["arn:aws:s3:::bkt","arn:aws:s3:::bkt/a/*"]}}`: true,
		`{"Statement":[{"Effect":"Allow","Resource":"arn:aws:s3:::bkt2/*"}]}`:                    false,
		`{"Statement":[{"Effect":"Maybe","Resource":"arn:aws:s3:::bkt/*"}]}`:                     false,
		`{"Statement":[{"Effect":"Allow"}]}`:                                                     false,
		`{"Statement":[]}`:                                                                       false,
		`{"Version":"2012-10-17"}`:                                                               false,
		`["Statement"]`:                                                                          false,
		`{"Statement":[{"Effect":"Allow","Resource":"arn:aws:s3:::bkt/*"}]`:                      false,
	} {
		if got := policyProblem("bkt", policy); (got == "") != ok {
			t.Errorf("policyProblem(%s) = %q, want ok %v", policy, got, ok)
		}
	}
}

func TestBucketNamesFollowS3Rules(t *testing.T) {
	for name, ok := range map[string]bool{
		"abc": true, "my.bucket-1": true, "a23456789012345678901234567890123456789012345678901234567890123": true,
		"ab": false, "a234567890123456789012345678901234567890123456789012345678901234": false,
		"Abc": false, "a_b": false, ".abc": false, "abc-": false, "a..b": false, "10.0.0.1": false,
		"xn--abc": false, "abc-s3alias": false,
	} {
		if got := bucketNameProblem(name); (got == "") != ok {
			t.Errorf("bucketNameProblem(%q) = %q, want ok %v", name, got, ok)
		}
	}
}

func TestCreateBucketRecordsTheRegion(t *testing.T) {
	s := New()
	ctx := context.Background()
	for name, region := range map[string]string{"east": "", "west": "eu-west-1"} {
		if err := s.CreateBucket(ctx, name, region); err != nil {
			t.Fatal(err)
		}
	}
	if s.buckets["east"].region != "us-east-1" || s.buckets["west"].region != "eu-west-1" {
		t.Fatalf("regions %q and %q, want us-east-1 and eu-west-1", s.buckets["east"].region, s.buckets["west"].region)
	}
}
