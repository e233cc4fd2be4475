package awsstore

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/s3xml"
)

func TestCreateBucketSendsALocationConstraintOutsideUSEast1(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	s := newFakeStore(t, f.URL, nil)
	for _, region := range []string{"", "us-east-1", "eu-west-1"} {
		if err := s.CreateBucket(ctxT(t), "bkt", region); err != nil {
			t.Fatalf("CreateBucket in %q: %v", region, err)
		}
	}
	reqs := f.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3", len(reqs))
	}
	for i, want := range []string{"", "", "<LocationConstraint>eu-west-1</LocationConstraint>"} {
		body := string(reqs[i].Body)
		if reqs[i].Method != http.MethodPut || reqs[i].Path != "/bkt" || (want == "") != (body == "") || !strings.Contains(body, want) {
			t.Fatalf("request %d: %s %s with body %q, want PUT /bkt with %q", i, reqs[i].Method, reqs[i].Path, body, want)
		}
	}
}

func TestMissingTagSetIsNoTagsAndARestoreInProgressIsNoError(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Has("tagging"):
			writeS3Error(w, r, http.StatusNotFound, "NoSuchTagSet")
		case r.URL.Query().Has("restore"):
			writeS3Error(w, r, http.StatusConflict, "RestoreAlreadyInProgress")
		default:
			writeS3Error(w, r, http.StatusNotFound, "NoSuchBucketPolicy")
		}
	})
	s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 1 })
	ctx := ctxT(t)
	tags, err := s.GetBucketTagging(ctx, "bkt")
	if err != nil || tags == nil || len(tags) != 0 {
		t.Fatalf("GetBucketTagging answered NoSuchTagSet = %#v, %v; want an empty set", tags, err)
	}
	if err := s.RestoreObject(ctx, "bkt", "cold", 1, "Bulk"); err != nil {
		t.Fatalf("RestoreObject answered RestoreAlreadyInProgress: %v, want nil", err)
	}
	_, err = s.GetBucketPolicy(ctx, "bkt")
	var oe *s3io.OpError
	if !errors.Is(err, s3io.ErrNoConfiguration) || !errors.As(err, &oe) || oe.Op != "GetBucketPolicy" || oe.Bucket != "bkt" {
		t.Fatalf("GetBucketPolicy answered NoSuchBucketPolicy: %#v, want an OpError wrapping ErrNoConfiguration", err)
	}
}

func TestRequestsS3WouldRefuseAreNeverSent(t *testing.T) {
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	s := newFakeStore(t, f.URL, nil)
	ctx := ctxT(t)
	eleven := make([]s3io.Tag, 11)
	for i := range eleven {
		eleven[i] = s3io.Tag{Key: string(rune('a' + i))}
	}
	_, presignErr := s.PresignGetObject(ctx, "bkt", "k", 8*24*time.Hour, s3io.ReadOptions{})
	for what, err := range map[string]error{
		"11 object tags":            s.PutObjectTagging(ctx, "bkt", "k", eleven),
		"a bucket tag without key":  s.PutBucketTagging(ctx, "bkt", []s3io.Tag{{Value: "v"}}),
		"no canned ACL":             s.PutObjectACL(ctx, "bkt", "k", ""),
		"a policy that is not JSON": s.PutBucketPolicy(ctx, "bkt", "Allow: everyone"),
		"CORS without a method": s.PutBucketCORS(ctx, "bkt",
			`<CORSConfiguration><CORSRule><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`),
		"lifecycle without rules":    s.PutBucketLifecycle(ctx, "bkt", `<LifecycleConfiguration/>`),
		"versioning Disabled":        s.PutBucketVersioning(ctx, "bkt", "Disabled"),
		"a restore for 0 days":       s.RestoreObject(ctx, "bkt", "k", 0, ""),
		"a presigned URL for 8 days": presignErr,
	} {
		var oe *s3io.OpError
		if !errors.Is(err, s3io.ErrInvalidArgument) || !errors.As(err, &oe) || oe.Message == "" ||
			!strings.Contains(err.Error(), oe.Message) {
			t.Errorf("%s: err = %v, want an OpError wrapping ErrInvalidArgument that says why", what, err)
		}
	}
	if n := len(f.requests()); n != 0 {
		t.Fatalf("%d requests sent, want none", n)
	}
}

func TestCORSAndLifecycleSurviveTheSDKTypes(t *testing.T) {
	cors := `<CORSConfiguration><CORSRule><ID>r</ID><AllowedHeader>*</AllowedHeader><AllowedMethod>GET</AllowedMethod>` +
		`<AllowedOrigin>https://a.example</AllowedOrigin><ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds>` +
		`</CORSRule><CORSRule><AllowedMethod>PUT</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`
	c, err := s3xml.ParseCORS(cors)
	if err != nil {
		t.Fatal(err)
	}
	if back := fromSDKCORS(toSDKCORS(c)); !reflect.DeepEqual(back, c) {
		t.Fatalf("CORS through the SDK types:\n%s\nwant\n%s", back.XML(), c.XML())
	}

	lifecycle := `<LifecycleConfiguration>
	  <Rule><ID>all</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>
	    <ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>99</ObjectSizeLessThan></And></Filter>
	    <Status>Enabled</Status>
	    <Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>
	    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
	    <Transition><Date>2031-01-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>
	    <NoncurrentVersionTransition><NoncurrentDays>5</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions>
	      <StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
	    <NoncurrentVersionExpiration><NoncurrentDays>9</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>
	  </Rule>
	  <Rule><Filter><Tag><Key>t</Key><Value></Value></Tag></Filter><Status>Disabled</Status>
	    <Expiration><Days>1</Days></Expiration></Rule>
	  <Rule><ID>legacy</ID><Prefix></Prefix><Status>Enabled</Status>
	    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
	    <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
	  <Rule><ID>sizes</ID><Filter><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter><Status>Enabled</Status>
	    <Expiration><Days>2</Days></Expiration></Rule>
	</LifecycleConfiguration>`
	l, err := s3xml.ParseLifecycle(lifecycle)
	if err != nil {
		t.Fatal(err)
	}
	if back := fromSDKLifecycle(toSDKLifecycle(l)); !reflect.DeepEqual(back, l) {
		t.Fatalf("lifecycle through the SDK types:\n%s\nwant\n%s", back.XML(), l.XML())
	}
}

func TestPresignedURLsAreNeverLogged(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newFakeStore(t, "http://127.0.0.1:1", func(c *Config) { c.Logger = log })
	url, err := s.PresignGetObject(context.Background(), "bkt", "dir/key", time.Hour,
		s3io.ReadOptions{SSEC: bytes.Repeat([]byte{1}, 32)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(url, "X-Amz-Signature=") || !strings.Contains(url, "/bkt/dir/key?") {
		t.Fatalf("URL %q is not a presigned path-style GET of bkt/dir/key", url)
	}
	if strings.Contains(url, "x-amz-server-side-encryption-customer-key=") {
		t.Fatalf("URL %q carries the SSE-C key in its query", url)
	}
	if strings.Contains(logs.String(), "Signature") || strings.Contains(logs.String(), fakeAccessKey) {
		t.Fatalf("the log shows the signature or the access key:\n%s", logs.String())
	}
}
