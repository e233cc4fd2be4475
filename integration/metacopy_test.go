package integration

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/s3io/storetest"
)

// chmod, chown, touch and user.* changes are server-side copies of the
// object onto itself with new metadata. Such a copy resets the ACL to
// private on every server, and Ceph RGW drops the tags even when asked to
// copy them: s3mount puts both back.
func TestMetadataChangesKeepTagsAndACL(t *testing.T) {
	s := newBucketSession(t)
	s.putWith("f", []byte("data"), func(in *s3.PutObjectInput) { in.Tagging = aws.String("project=genome&tier=hot") })
	public := !lacks(t, storetest.CannedACLs) && !lacks(t, storetest.ObjectACLs)
	if public {
		if _, err := s.client.PutObjectAcl(context.Background(), &s3.PutObjectAclInput{Bucket: aws.String(s.bucket),
			Key: aws.String("f"), ACL: types.ObjectCannedACLPublicRead}); err != nil {
			t.Fatal(err)
		}
	}
	s.mnt = s.mount(s.bucket)
	p := s.path("f")
	changes := map[string]func() error{
		"chmod": func() error { return os.Chmod(p, 0o600) },
		"chown": func() error { return os.Chown(p, 1234, 5678) },
		"touch": func() error { return os.Chtimes(p, time.Unix(1700000000, 0), time.Unix(1700000000, 0)) },
		"user.*": func() error {
			return setXattr(p, "user.color", "blue")
		},
	}
	for name, change := range changes {
		if err := change(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := s.objectTags("f"); got["project"] != "genome" || got["tier"] != "hot" || len(got) != 2 {
			t.Errorf("tags after %s: %v, want project=genome and tier=hot", name, got)
		}
		if public {
			acl, err := s.client.GetObjectAcl(context.Background(), &s3.GetObjectAclInput{Bucket: aws.String(s.bucket), Key: aws.String("f")})
			if err != nil {
				t.Fatal(err)
			}
			if !grantsAllUsersRead(acl.Grants) {
				t.Errorf("after %s the object is no longer public-read: %+v", name, acl.Grants)
			}
		}
	}
	if got := run(t, "cat", p); got != "data" {
		t.Errorf("cat after the changes = %q", got)
	}
}

func grantsAllUsersRead(grants []types.Grant) bool {
	for _, g := range grants {
		if g.Grantee != nil && aws.ToString(g.Grantee.URI) == "http://acs.amazonaws.com/groups/global/AllUsers" && g.Permission == types.PermissionRead {
			return true
		}
	}
	return false
}
