package integration

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3mount/s3mount/s3io/storetest"
)

// s3ErrorCode is the S3 error code of an SDK error, or "".
func s3ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (s *session) bucketTags() (map[string]string, error) {
	out, err := s.client.GetBucketTagging(context.Background(), &s3.GetBucketTaggingInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		return nil, err
	}
	return tagMap(out.TagSet), nil
}

func TestBucketTagsXattrReadsWritesAndRemovesTags(t *testing.T) {
	s := newSession(t, nil)
	_, err := getXattr(s.mnt, "s3.tags")
	wantXattrErr(t, "s3.tags of a bucket without tags", err, msgENODATA)

	mustSetXattr(t, s.mnt, "s3.tags", "owner=team+a&env=test")
	got, err := s.bucketTags()
	if err != nil || !sameMap(got, map[string]string{"owner": "team a", "env": "test"}) {
		t.Errorf("after setfattr s3.tags on the bucket, S3 has %v, %v", got, err)
	}
	if v, want := mustGetXattr(t, s.mnt, "s3.tags"), "env=test&owner=team+a"; v != want {
		t.Errorf("s3.tags of the bucket = %q, want %q", v, want)
	}

	if err := removeXattr(s.mnt, "s3.tags"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.bucketTags(); err == nil && len(got) > 0 {
		t.Errorf("after setfattr -x s3.tags the bucket still has tags %v", got)
	}
	_, err = getXattr(s.mnt, "s3.tags")
	wantXattrErr(t, "s3.tags of the bucket after removing them", err, msgENODATA)
}

// anonymousGet fetches an object without credentials and returns the
// HTTP status.
func anonymousGet(t *testing.T, bucket, key string) int {
	t.Helper()
	resp, err := http.Get(env.srv.Endpoint + "/" + bucket + "/" + key)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestBucketPolicyXattrSetsReadsAndDeletesThePolicy(t *testing.T) {
	s := newSession(t, map[string]string{"public.txt": "hello"})
	_, err := getXattr(s.mnt, "s3.policy")
	wantXattrErr(t, "s3.policy of a bucket without a policy", err, msgENODATA)
	if code := anonymousGet(t, s.bucket, "public.txt"); code != http.StatusForbidden {
		t.Fatalf("anonymous GET before any policy: HTTP %d", code)
	}

	policy := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::%s/*"]}]}`, s.bucket)
	mustSetXattr(t, s.mnt, "s3.policy", policy)
	out, err := s.client.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("after setfattr s3.policy, S3 has no policy: %v", err)
	}
	if got, want := mustGetXattr(t, s.mnt, "s3.policy"), aws.ToString(out.Policy); got != want {
		t.Errorf("s3.policy = %q\nS3 returns %q", got, want)
	}
	if code := anonymousGet(t, s.bucket, "public.txt"); code != http.StatusOK {
		t.Errorf("anonymous GET under the policy set by setfattr: HTTP %d", code)
	}

	if err := removeXattr(s.mnt, "s3.policy"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(s.bucket)}); s3ErrorCode(err) != "NoSuchBucketPolicy" {
		t.Errorf("after setfattr -x s3.policy, GetBucketPolicy: %v", err)
	}
	_, err = getXattr(s.mnt, "s3.policy")
	wantXattrErr(t, "s3.policy after removing it", err, msgENODATA)
	if code := anonymousGet(t, s.bucket, "public.txt"); code != http.StatusForbidden {
		t.Errorf("anonymous GET after the policy was removed: HTTP %d", code)
	}
}

// lifecycleDoc is enough of a LifecycleConfiguration to check one rule.
type lifecycleDoc struct {
	XMLName xml.Name `xml:"LifecycleConfiguration"`
	Rules   []struct {
		ID         string `xml:"ID"`
		Status     string `xml:"Status"`
		Prefix     string `xml:"Filter>Prefix"`
		Expiration struct {
			Days int `xml:"Days"`
		} `xml:"Expiration"`
	} `xml:"Rule"`
}

func TestBucketLifecycleXattrSetsReadsAndDeletesTheRules(t *testing.T) {
	s := newSession(t, nil)
	_, err := getXattr(s.mnt, "s3.lifecycle")
	doc := `<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Rule><ID>expire-tmp</ID>` +
		`<Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule></LifecycleConfiguration>`
	if lacks(t, storetest.Lifecycle) {
		wantXattrErr(t, "s3.lifecycle on a server without lifecycles", err, msgENOTSUP)
		wantXattrErr(t, "setfattr s3.lifecycle on a server without lifecycles", setXattr(s.mnt, "s3.lifecycle", doc), msgENOTSUP)
		return
	}
	wantXattrErr(t, "s3.lifecycle of a bucket without one", err, msgENODATA)
	mustSetXattr(t, s.mnt, "s3.lifecycle", doc)
	out, err := s.client.GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatalf("after setfattr s3.lifecycle: %v", err)
	}
	if len(out.Rules) != 1 || aws.ToString(out.Rules[0].ID) != "expire-tmp" || out.Rules[0].Expiration == nil || aws.ToInt32(out.Rules[0].Expiration.Days) != 30 {
		t.Errorf("S3's lifecycle rules after setfattr: %+v", out.Rules)
	}

	var got lifecycleDoc
	text := mustGetXattr(t, s.mnt, "s3.lifecycle")
	if err := xml.Unmarshal([]byte(text), &got); err != nil {
		t.Fatalf("s3.lifecycle is not a LifecycleConfiguration document: %v\n%s", err, text)
	}
	if len(got.Rules) != 1 || got.Rules[0].ID != "expire-tmp" || got.Rules[0].Status != "Enabled" || got.Rules[0].Prefix != "tmp/" || got.Rules[0].Expiration.Days != 30 {
		t.Errorf("s3.lifecycle reads %+v from:\n%s", got.Rules, text)
	}
	wantXattrErr(t, "setfattr s3.lifecycle with a document that is not XML", setXattr(s.mnt, "s3.lifecycle", "expire after 30 days"), msgEINVAL)

	if err := removeXattr(s.mnt, "s3.lifecycle"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.client.GetBucketLifecycleConfiguration(context.Background(), &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(s.bucket)}); s3ErrorCode(err) != "NoSuchLifecycleConfiguration" {
		t.Errorf("after setfattr -x s3.lifecycle, GetBucketLifecycleConfiguration: %v", err)
	}
	_, err = getXattr(s.mnt, "s3.lifecycle")
	wantXattrErr(t, "s3.lifecycle after removing it", err, msgENODATA)
}

func TestBucketCORSXattrIsSetOrENOTSUP(t *testing.T) {
	s := newSession(t, map[string]string{"f": "x"})
	_, err := getXattr(s.mnt, "s3.cors")
	wantXattrErr(t, "s3.cors of a bucket without CORS", err, msgENODATA)
	doc := `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><CORSRule>` +
		`<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`
	if lacks(t, storetest.CORS) {
		wantXattrErr(t, "setfattr s3.cors on a server without CORS", setXattr(s.mnt, "s3.cors", doc), msgENOTSUP)
	} else {
		mustSetXattr(t, s.mnt, "s3.cors", doc)
		if got := mustGetXattr(t, s.mnt, "s3.cors"); !strings.Contains(got, "<AllowedMethod>GET</AllowedMethod>") {
			t.Errorf("s3.cors after setting it = %s", got)
		}
	}
	if got := run(t, "cat", s.path("f")); got != "x" {
		t.Errorf("cat after the refused CORS = %q", got)
	}
}

func TestBucketVersioningXattrEnablesAndSuspendsVersioning(t *testing.T) {
	s := newSession(t, nil)
	_, err := getXattr(s.mnt, "s3.versioning")
	wantXattrErr(t, "s3.versioning of a bucket never versioned", err, msgENODATA)
	if lacks(t, storetest.Versioning) {
		wantXattrErr(t, "setfattr s3.versioning on a server without versioning", setXattr(s.mnt, "s3.versioning", "Enabled"), msgENOTSUP)
		return
	}
	status := func() types.BucketVersioningStatus {
		out, err := s.client.GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String(s.bucket)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	for _, want := range []string{"Enabled", "Suspended"} {
		mustSetXattr(t, s.mnt, "s3.versioning", want)
		if got := status(); string(got) != want {
			t.Errorf("after setfattr s3.versioning %s, S3 says %q", want, got)
		}
		if got := mustGetXattr(t, s.mnt, "s3.versioning"); got != want {
			t.Errorf("s3.versioning = %q, want %q", got, want)
		}
	}
}

func TestBucketACLXattrShowsGrantsAndAppliesCannedACLs(t *testing.T) {
	s := newSession(t, map[string]string{"f": "x"})
	acl, err := s.client.GetBucketAcl(context.Background(), &s3.GetBucketAclInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	checkACLText(t, mustGetXattr(t, s.mnt, "s3.acl"), acl.Owner, acl.Grants)
	wantXattrErr(t, "setfattr s3.acl no-such-acl on the bucket", setXattr(s.mnt, "s3.acl", "no-such-acl"), msgEINVAL)
	switch {
	case lacks(t, storetest.ObjectACLs):
		wantXattrErr(t, "setfattr s3.acl private on a server without ACL changes", setXattr(s.mnt, "s3.acl", "private"), msgENOTSUP)
	case lacks(t, storetest.CannedACLs):
		mustSetXattr(t, s.mnt, "s3.acl", "private")
		wantXattrErr(t, "setfattr s3.acl public-read on a server with private ACLs only", setXattr(s.mnt, "s3.acl", "public-read"), msgENOTSUP)
	default:
		mustSetXattr(t, s.mnt, "s3.acl", "public-read")
		mustSetXattr(t, s.mnt, "s3.acl", "private")
	}
	if got := run(t, "cat", s.path("f")); got != "x" {
		t.Errorf("cat after the refused bucket ACL = %q", got)
	}
}

// bucketExists asks the SDK whether a bucket exists.
func bucketExists(t *testing.T, name string) bool {
	t.Helper()
	_, err := sdkClient().HeadBucket(context.Background(), &s3.HeadBucketInput{Bucket: aws.String(name)})
	if err == nil {
		return true
	}
	var nf *types.NotFound
	if errors.As(err, &nf) || s3ErrorCode(err) == "NotFound" || s3ErrorCode(err) == "NoSuchBucket" {
		return false
	}
	t.Fatalf("head bucket %s: %v", name, err)
	return false
}

// removeBucket deletes a bucket and its objects if it still exists.
func removeBucket(name string) {
	c := sdkClient()
	ctx := context.Background()
	if out, err := c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(name)}); err == nil {
		for _, o := range out.Contents {
			c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key})
		}
	}
	c.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
}

func lsNames(t *testing.T, dir string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	for _, n := range strings.Fields(run(t, "ls", dir)) {
		names[n] = true
	}
	return names
}

func TestMkdirAndRmdirCreateAndDeleteBucketsInAnAllBucketsMount(t *testing.T) {
	s := newBucketSession(t)
	root := s.mount("")
	name := fmt.Sprintf("mk-%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))
	t.Cleanup(func() { removeBucket(name) })
	dir := filepath.Join(root, name)

	if !lsNames(t, root)[s.bucket] {
		t.Fatalf("ls of the root does not list the bucket %s", s.bucket)
	}
	run(t, "mkdir", dir)
	if !bucketExists(t, name) {
		t.Fatalf("mkdir %s did not create the bucket", name)
	}
	if !lsNames(t, root)[name] {
		t.Errorf("ls of the root does not list the new bucket %s", name)
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), []byte("in the new bucket"), 0o644); err != nil {
		t.Fatalf("writing into the new bucket: %v", err)
	}
	out, err := exec.Command("rmdir", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Directory not empty") {
		t.Errorf("rmdir of a bucket holding an object: %v: %q, want %q", err, out, "Directory not empty")
	}
	if !bucketExists(t, name) {
		t.Fatal("the refused rmdir deleted the bucket")
	}
	run(t, "rm", filepath.Join(dir, "f"))
	run(t, "rmdir", dir)
	if bucketExists(t, name) {
		t.Error("rmdir of the empty bucket did not delete it")
	}
	if lsNames(t, root)[name] {
		t.Errorf("ls of the root still lists the deleted bucket %s", name)
	}
}

func TestMkdirOfAnInvalidBucketNameIsEINVAL(t *testing.T) {
	s := newBucketSession(t)
	root := s.mount("")
	for _, name := range []string{"Bad_Name", "ab", "-leading-dash", strings.Repeat("x", 64), "two..dots", "192.168.1.1"} {
		out, err := exec.Command("mkdir", filepath.Join(root, name)).CombinedOutput()
		if err == nil || !strings.Contains(string(out), msgEINVAL) {
			t.Errorf("mkdir %q at the root: %v: %q, want %q", name, err, out, msgEINVAL)
			removeBucket(name)
		}
	}
}

func TestBucketDirectoriesOfAnAllBucketsMountHaveBucketXattrs(t *testing.T) {
	s := newBucketSession(t)
	if _, err := s.client.PutBucketTagging(context.Background(), &s3.PutBucketTaggingInput{Bucket: aws.String(s.bucket),
		Tagging: &types.Tagging{TagSet: []types.Tag{{Key: aws.String("cost center"), Value: aws.String("42")}}}}); err != nil {
		t.Fatal(err)
	}
	root := s.mount("")
	dir := filepath.Join(root, s.bucket)
	if got, want := mustGetXattr(t, dir, "s3.tags"), "cost+center=42"; got != want {
		t.Errorf("s3.tags of the bucket directory = %q, want %q", got, want)
	}
	if lacks(t, storetest.Versioning) {
		wantXattrErr(t, "setfattr s3.versioning of a bucket directory", setXattr(dir, "s3.versioning", "Enabled"), msgENOTSUP)
		return
	}
	mustSetXattr(t, dir, "s3.versioning", "Enabled")
	out, err := s.client.GetBucketVersioning(context.Background(), &s3.GetBucketVersioningInput{Bucket: aws.String(s.bucket)})
	if err != nil || out.Status != types.BucketVersioningStatusEnabled {
		t.Errorf("after setfattr s3.versioning Enabled on the bucket directory: %v, %v", out.Status, err)
	}
	if _, err := getXattr(dir, "s3.acl"); err != nil {
		t.Errorf("s3.acl of the bucket directory: %v", err)
	}
}
