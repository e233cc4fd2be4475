package storetest

import (
	"encoding/json"
	"reflect"
	"strings"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/s3xml"
)

// corsDoc uses every element of a CORSRule; it has no namespace, which
// stores must accept.
const corsDoc = `<CORSConfiguration>
  <CORSRule>
    <ID>web</ID>
    <AllowedHeader>*</AllowedHeader>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedOrigin>https://example.com</AllowedOrigin>
    <ExposeHeader>ETag</ExposeHeader>
    <ExposeHeader>x-amz-request-id</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedOrigin>*</AllowedOrigin>
  </CORSRule>
</CORSConfiguration>`

// lifecycleDoc has each kind of filter and expiration, in S3's namespace.
const lifecycleDoc = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ID>tmp</ID><Filter><Prefix>tmp/</Prefix></Filter><Status>Enabled</Status>
    <Expiration><Days>7</Days></Expiration></Rule>
  <Rule><ID>by-date</ID><Filter><Tag><Key>t</Key><Value>v</Value></Tag></Filter><Status>Disabled</Status>
    <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>
  <Rule><ID>and</ID>
    <Filter><And><Prefix>logs/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value>2</Value></Tag></And></Filter>
    <Status>Enabled</Status>
    <NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays></NoncurrentVersionExpiration></Rule>
  <Rule><ID>everything</ID><Filter></Filter><Status>Enabled</Status><Expiration><Days>365</Days></Expiration></Rule>
  <Rule><ID>legacy</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
  <Rule><ID>markers</ID><Filter><Prefix>x/</Prefix></Filter><Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>
  <Rule><ID>big</ID><Filter><ObjectSizeGreaterThan>1048576</ObjectSizeGreaterThan></Filter><Status>Enabled</Status>
    <Expiration><Days>3</Days></Expiration></Rule>
</LifecycleConfiguration>`

// tieringDoc moves objects between storage classes and aborts uploads.
const tieringDoc = `<LifecycleConfiguration>
  <Rule><ID>tiering</ID><Filter><Prefix>cold/</Prefix></Filter><Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Days>90</Days><StorageClass>GLACIER</StorageClass></Transition>
    <NoncurrentVersionTransition><NoncurrentDays>30</NoncurrentDays><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
  </Rule>
  <Rule><ID>uploads</ID><Filter><Prefix></Prefix></Filter><Status>Enabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>7</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
</LifecycleConfiguration>`

// wantS3XML fails unless doc is an XML document in S3's namespace.
func (e *env) wantS3XML(what, doc string) {
	e.t.Helper()
	if !strings.HasPrefix(doc, "<?xml") || !strings.Contains(doc, `xmlns="`+s3xml.Namespace+`"`) {
		e.t.Fatalf("%s = %.200q, want an XML document in S3's namespace", what, doc)
	}
}

func (e *env) wantSameLifecycle(got, want string) {
	e.t.Helper()
	e.wantS3XML("lifecycle", got)
	g, err1 := s3xml.ParseLifecycle(got)
	w, err2 := s3xml.ParseLifecycle(want)
	if err1 != nil || err2 != nil || !reflect.DeepEqual(g, w) {
		if e.mayLack(LifecycleRoundTrip, "the document read back differs: "+got) {
			return
		}
		e.t.Fatalf("lifecycle read back differs (%v, %v):\ngot  %s\nwant %s", err1, err2, got, w.XML())
	}
}

var bucketConfigCases = []testCase{
	{"PolicyIsPutReadAndDeleted", func(e *env) {
		_, err := e.s.GetBucketPolicy(e.ctx, e.bucket)
		e.wantErr("GetBucketPolicy of a new bucket", err, s3io.ErrNoConfiguration)
		arn := "arn:aws:s3:::" + e.bucket + "/public/*"
		policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
			`"Action":["s3:GetObject"],"Resource":["` + arn + `"]}]}`
		e.ok("PutBucketPolicy", e.s.PutBucketPolicy(e.ctx, e.bucket, policy))
		got, err := e.s.GetBucketPolicy(e.ctx, e.bucket)
		e.ok("GetBucketPolicy", err)
		// Servers may reformat the policy, not change it.
		if !json.Valid([]byte(got)) || !strings.Contains(got, `"s3:GetObject"`) || !strings.Contains(got, arn) {
			e.t.Fatalf("policy read back = %s, want %s", got, policy)
		}
		e.ok("DeleteBucketPolicy", e.s.DeleteBucketPolicy(e.ctx, e.bucket))
		_, err = e.s.GetBucketPolicy(e.ctx, e.bucket)
		e.wantErr("GetBucketPolicy after delete", err, s3io.ErrNoConfiguration)
		e.ok("DeleteBucketPolicy of no policy", e.s.DeleteBucketPolicy(e.ctx, e.bucket))
	}},
	{"PolicyThatIsNotJSONOrNamesAnotherBucketIsInvalid", func(e *env) {
		for what, policy := range map[string]string{
			"not JSON": `{"Version":"2012-10-17","Statement":[`,
			"another bucket's resource": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},` +
				`"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::some-other-bucket/*"]}]}`,
		} {
			err := e.s.PutBucketPolicy(e.ctx, e.bucket, policy)
			if err == nil && what == "another bucket's resource" && e.mayLack(PolicyValidation, "a policy for another bucket was stored") {
				e.ok("DeleteBucketPolicy", e.s.DeleteBucketPolicy(e.ctx, e.bucket))
				continue
			}
			e.wantErr("PutBucketPolicy with "+what, err, s3io.ErrInvalidArgument)
		}
		_, err := e.s.GetBucketPolicy(e.ctx, e.bucket)
		e.wantErr("GetBucketPolicy after refused puts", err, s3io.ErrNoConfiguration)
	}},
	{"CORSIsPutReadBackAsS3XMLAndDeleted", func(e *env) {
		_, err := e.s.GetBucketCORS(e.ctx, e.bucket)
		e.wantErr("GetBucketCORS of a new bucket", err, s3io.ErrNoConfiguration)
		err = e.s.PutBucketCORS(e.ctx, e.bucket, corsDoc)
		if e.lacks(CORS, err) {
			return
		}
		e.ok("PutBucketCORS", err)
		got, err := e.s.GetBucketCORS(e.ctx, e.bucket)
		e.ok("GetBucketCORS", err)
		e.wantS3XML("CORS", got)
		g, err1 := s3xml.ParseCORS(got)
		w, err2 := s3xml.ParseCORS(corsDoc)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(g, w) {
			e.t.Fatalf("CORS read back differs (%v, %v):\ngot  %s\nwant %s", err1, err2, got, w.XML())
		}
		e.ok("DeleteBucketCORS", e.s.DeleteBucketCORS(e.ctx, e.bucket))
		_, err = e.s.GetBucketCORS(e.ctx, e.bucket)
		e.wantErr("GetBucketCORS after delete", err, s3io.ErrNoConfiguration)
	}},
	{"MalformedCORSIsInvalid", func(e *env) {
		for what, doc := range map[string]string{
			"text":                 "allow everything",
			"no rule":              `<CORSConfiguration></CORSConfiguration>`,
			"a misspelt element":   `<CORSConfiguration><CORSRule><AllowedMethods>GET</AllowedMethods><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`,
			"an unknown method":    `<CORSConfiguration><CORSRule><AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>`,
			"another root element": `<CorsConfiguration><CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CorsConfiguration>`,
		} {
			err := e.s.PutBucketCORS(e.ctx, e.bucket, doc)
			e.wantErr("PutBucketCORS with "+what, err, s3io.ErrInvalidArgument)
		}
	}},
	{"LifecycleIsPutReadBackAsS3XMLAndDeleted", func(e *env) {
		_, err := e.s.GetBucketLifecycle(e.ctx, e.bucket)
		if e.lacks(Lifecycle, err) {
			e.lacks(Lifecycle, e.s.PutBucketLifecycle(e.ctx, e.bucket, lifecycleDoc))
			return
		}
		e.wantErr("GetBucketLifecycle of a new bucket", err, s3io.ErrNoConfiguration)
		e.ok("PutBucketLifecycle", e.s.PutBucketLifecycle(e.ctx, e.bucket, lifecycleDoc))
		got, err := e.s.GetBucketLifecycle(e.ctx, e.bucket)
		e.ok("GetBucketLifecycle", err)
		e.wantSameLifecycle(got, lifecycleDoc)

		// Put replaces the whole configuration.
		one := `<LifecycleConfiguration><Rule><ID>only</ID><Filter><Prefix>a/</Prefix></Filter>` +
			`<Status>Enabled</Status><Expiration><Days>2</Days></Expiration></Rule></LifecycleConfiguration>`
		e.ok("PutBucketLifecycle again", e.s.PutBucketLifecycle(e.ctx, e.bucket, one))
		got, err = e.s.GetBucketLifecycle(e.ctx, e.bucket)
		e.ok("GetBucketLifecycle", err)
		e.wantSameLifecycle(got, one)

		e.ok("DeleteBucketLifecycle", e.s.DeleteBucketLifecycle(e.ctx, e.bucket))
		_, err = e.s.GetBucketLifecycle(e.ctx, e.bucket)
		e.wantErr("GetBucketLifecycle after delete", err, s3io.ErrNoConfiguration)
	}},
	{"LifecycleKeepsTransitionsAndAbortRules", func(e *env) {
		err := e.s.PutBucketLifecycle(e.ctx, e.bucket, tieringDoc)
		if e.lacks(LifecycleTransitions, err) || e.lacks(Lifecycle, err) {
			return
		}
		e.ok("PutBucketLifecycle", err)
		got, err := e.s.GetBucketLifecycle(e.ctx, e.bucket)
		e.ok("GetBucketLifecycle", err)
		e.wantSameLifecycle(got, tieringDoc)
	}},
	{"MalformedLifecycleIsInvalidAndChangesNothing", func(e *env) {
		err := e.s.PutBucketLifecycle(e.ctx, e.bucket, lifecycleDoc)
		if e.lacks(Lifecycle, err) {
			return
		}
		e.ok("PutBucketLifecycle", err)
		rule := func(body string) string {
			return `<LifecycleConfiguration><Rule><ID>r</ID><Filter><Prefix>p/</Prefix></Filter>` + body +
				`</Rule></LifecycleConfiguration>`
		}
		for what, doc := range map[string]string{
			"truncated XML":      lifecycleDoc[:len(lifecycleDoc)/2],
			"no action":          rule(`<Status>Enabled</Status>`),
			"an unknown status":  rule(`<Status>On</Status><Expiration><Days>1</Days></Expiration>`),
			"days and a date":    rule(`<Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>`),
			"a misspelt element": rule(`<Status>Enabled</Status><Expiry><Days>1</Days></Expiry>`),
			"days not a number":  rule(`<Status>Enabled</Status><Expiration><Days>seven</Days></Expiration>`),
			"another namespace": strings.Replace(rule(`<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`),
				"<LifecycleConfiguration>", `<LifecycleConfiguration xmlns="urn:elsewhere">`, 1),
		} {
			err := e.s.PutBucketLifecycle(e.ctx, e.bucket, doc)
			e.wantErr("PutBucketLifecycle with "+what, err, s3io.ErrInvalidArgument)
		}
		got, err := e.s.GetBucketLifecycle(e.ctx, e.bucket)
		e.ok("GetBucketLifecycle", err)
		e.wantSameLifecycle(got, lifecycleDoc)
	}},
	{"VersioningStatusIsEmptyThenAsSet", func(e *env) {
		status, err := e.s.GetBucketVersioning(e.ctx, e.bucket)
		if err != nil || status != "" {
			e.t.Fatalf("versioning of a new bucket = %q, %v; want \"\"", status, err)
		}
		for _, want := range []string{"Enabled", "Suspended"} {
			err := e.s.PutBucketVersioning(e.ctx, e.bucket, want)
			if e.lacks(Versioning, err) {
				return
			}
			e.ok("PutBucketVersioning "+want, err)
			if status, err := e.s.GetBucketVersioning(e.ctx, e.bucket); err != nil || status != want {
				e.t.Fatalf("versioning = %q, %v; want %q", status, err, want)
			}
		}
		err = e.s.PutBucketVersioning(e.ctx, e.bucket, "Disabled")
		e.wantErr("PutBucketVersioning Disabled", err, s3io.ErrInvalidArgument)
	}},
}
