package s3xml

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// lifecycleDoc has every element of a LifecycleConfiguration.
const lifecycleDoc = `<?xml version="1.0" encoding="UTF-8"?>
<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule>
    <ID>expire-tmp</ID>
    <Filter><Prefix>tmp/</Prefix></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>7</Days></Expiration>
  </Rule>
  <Rule>
    <ID>by-date</ID>
    <Filter><Tag><Key>t</Key><Value>v</Value></Tag></Filter>
    <Status>Disabled</Status>
    <Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>
  </Rule>
  <Rule>
    <ID>and</ID>
    <Filter><And><Prefix>logs/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag><Tag><Key>b</Key><Value></Value></Tag>
      <ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>
    <Status>Enabled</Status>
    <Transition><Days>30</Days><StorageClass>STANDARD_IA</StorageClass></Transition>
    <Transition><Date>2031-06-01T00:00:00Z</Date><StorageClass>GLACIER</StorageClass></Transition>
    <NoncurrentVersionTransition><NoncurrentDays>10</NoncurrentDays><NewerNoncurrentVersions>1</NewerNoncurrentVersions><StorageClass>GLACIER</StorageClass></NoncurrentVersionTransition>
    <NoncurrentVersionExpiration><NoncurrentDays>30</NoncurrentDays><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>
  </Rule>
  <Rule>
    <ID>everything</ID>
    <Filter></Filter>
    <Status>Enabled</Status>
    <AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>
  </Rule>
  <Rule>
    <ID>legacy</ID>
    <Prefix>old/</Prefix>
    <Status>Enabled</Status>
    <Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>
  </Rule>
  <Rule>
    <Filter><ObjectSizeLessThan>1048576</ObjectSizeLessThan></Filter>
    <Status>Enabled</Status>
    <Expiration><Days>1</Days></Expiration>
  </Rule>
</LifecycleConfiguration>`

const corsDoc = `<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <CORSRule>
    <ID>web</ID>
    <AllowedHeader>*</AllowedHeader>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedOrigin>https://*.example.com</AllowedOrigin>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
  <CORSRule><AllowedMethod>HEAD</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule>
</CORSConfiguration>`

func withoutNamespace(doc string) string {
	return strings.Replace(doc, ` xmlns="`+Namespace+`"`, "", 1)
}

// wantS3Output fails unless out is one line with a declaration and S3's
// namespace on the root.
func wantS3Output(t *testing.T, out, root string) {
	t.Helper()
	if !strings.HasPrefix(out, `<?xml version="1.0" encoding="UTF-8"?><`+root+` xmlns="`+Namespace+`">`) ||
		strings.Contains(out, "\n") {
		t.Fatalf("output %.120q… is not one line of S3 XML", out)
	}
}

func TestLifecycleSurvivesXMLWithOrWithoutNamespace(t *testing.T) {
	c, err := ParseLifecycle(lifecycleDoc)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 6 || *c.Rules[2].Filter.And.ObjectSizeLessThan != 1000 || c.Rules[1].Expiration.Date.Year() != 2030 {
		t.Fatalf("parsed %+v", c)
	}
	out := c.XML()
	wantS3Output(t, out, "LifecycleConfiguration")
	for what, doc := range map[string]string{"output": out, "input without namespace": withoutNamespace(lifecycleDoc)} {
		again, err := ParseLifecycle(doc)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%s parses to %+v, %v; want %+v", what, again, err, c)
		}
	}
}

func TestCORSSurvivesXMLWithOrWithoutNamespace(t *testing.T) {
	c, err := ParseCORS(corsDoc)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Rules) != 2 || c.Rules[0].ID != "web" || *c.Rules[0].MaxAgeSeconds != 3000 || c.Rules[1].AllowedHeaders != nil {
		t.Fatalf("parsed %+v", c)
	}
	out := c.XML()
	wantS3Output(t, out, "CORSConfiguration")
	for what, doc := range map[string]string{"output": out, "input without namespace": withoutNamespace(corsDoc)} {
		again, err := ParseCORS(doc)
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("%s parses to %+v, %v; want %+v", what, again, err, c)
		}
	}
}

func TestEmptyElementsStayDistinctFromMissingOnes(t *testing.T) {
	rule := func(filter string) string {
		return `<LifecycleConfiguration><Rule>` + filter + `<Status>Enabled</Status>` +
			`<Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`
	}
	docs := []string{rule(`<Filter></Filter>`), rule(`<Filter><Prefix></Prefix></Filter>`), rule(`<Prefix></Prefix>`)}
	var outs []string
	for _, doc := range docs {
		c, err := ParseLifecycle(doc)
		if err != nil {
			t.Fatal(err)
		}
		outs = append(outs, c.XML())
	}
	for i, want := range []string{"<Filter></Filter>", "<Filter><Prefix></Prefix></Filter>", "<Prefix></Prefix><Status>"} {
		if !strings.Contains(outs[i], want) {
			t.Errorf("%s became %s", docs[i], outs[i])
		}
	}
}

func TestDocumentsS3WouldRefuseAreInvalidAndSayWhy(t *testing.T) {
	lc := func(body string) string { return `<LifecycleConfiguration>` + body + `</LifecycleConfiguration>` }
	rule := func(body string) string { return lc(`<Rule><ID>r</ID>` + body + `</Rule>`) }
	const expire = `<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>`
	cors := func(body string) string {
		return `<CORSConfiguration><CORSRule>` + body + `</CORSRule></CORSConfiguration>`
	}
	for _, tc := range []struct {
		doc, want string
		cors      bool
	}{
		{"", "no <LifecycleConfiguration> element", false},
		{"<LifecycleConfiguration>", "not well-formed", false},
		{`<Lifecycle/>`, "root element <Lifecycle>", false},
		{lc(``), "0 Rule elements", false},
		{lc(``) + lc(``), "want one <LifecycleConfiguration>", false},
		{rule(`<Filter/>` + expire + `<Oops/>`), "unknown element <Oops> in <Rule>", false},
		{rule(`<Filter/><Filter/>` + expire), "<Filter> given twice in <Rule>", false},
		{rule(`<Filter/>` + expire + `stray`), `text "stray" in <Rule>`, false},
		{rule(`<Filter><Prefix><b/></Prefix></Filter>` + expire), "<Prefix> holds text only", false},
		{rule(`<Filter/><Status>Enabled</Status><Expiration><Days>x</Days></Expiration>`), `<Days> holds "x"`, false},
		{rule(`<Filter/><Status>Enabled</Status><Expiration><Days>0</Days></Expiration>`), "Days 0", false},
		{rule(`<Filter/><Status>enabled</Status><Expiration><Days>1</Days></Expiration>`), `Status "enabled"`, false},
		{rule(`<Filter/><Status>Enabled</Status>`), "no action", false},
		{rule(expire), "no Filter", false},
		{rule(`<Prefix>a</Prefix><Filter/>` + expire), "both Prefix and Filter", false},
		{rule(`<Filter><Prefix>a</Prefix><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>` + expire), "join them with <And>", false},
		{rule(`<Filter/><Status>Enabled</Status><Expiration><Date>2030-01-01T12:00:00Z</Date></Expiration>`), "not midnight UTC", false},
		{rule(`<Filter/><Status>Enabled</Status><Transition><StorageClass>GLACIER</StorageClass></Transition>`), "exactly one of Days and Date", false},
		{rule(`<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>` +
			`<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>`), "cannot go with a tag filter", false},
		{lc(`<Rule><ID>r</ID><Filter/>` + expire + `</Rule><Rule><ID>r</ID><Filter/>` + expire + `</Rule>`), `ID "r" used twice`, false},
		{`<LifecycleConfiguration xmlns="urn:other"/>`, `namespace "urn:other"`, false},
		{`<!DOCTYPE x [<!ENTITY a "b">]>` + rule(`<Filter/>`+expire), "directive", false},
		{`<CORSConfiguration/>`, "0 CORSRule elements", true},
		{cors(`<AllowedOrigin>*</AllowedOrigin>`), "no AllowedMethod", true},
		{cors(`<AllowedMethod>GET</AllowedMethod>`), "no AllowedOrigin", true},
		{cors(`<AllowedMethod>get</AllowedMethod><AllowedOrigin>*</AllowedOrigin>`), `AllowedMethod "get"`, true},
		{cors(`<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*.*</AllowedOrigin>`), "at most one *", true},
		{cors(`<AllowedMethods>GET</AllowedMethods>`), "unknown element <AllowedMethods> in <CORSRule>", true},
		{cors(`<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin><MaxAgeSeconds>-1</MaxAgeSeconds>`), "negative MaxAgeSeconds", true},
	} {
		var err error
		if tc.cors {
			_, err = ParseCORS(tc.doc)
		} else {
			_, err = ParseLifecycle(tc.doc)
		}
		if !errors.Is(err, s3io.ErrInvalidArgument) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.80s: err = %v, want ErrInvalidArgument saying %q", tc.doc, err, tc.want)
		}
	}
}

func FuzzParseLifecycle(f *testing.F) {
	f.Add(lifecycleDoc)
	f.Add(withoutNamespace(lifecycleDoc))
	f.Add(`<LifecycleConfiguration><Rule><Filter></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule></LifecycleConfiguration>`)
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := ParseLifecycle(doc)
		if err != nil {
			if !errors.Is(err, s3io.ErrInvalidArgument) {
				t.Fatalf("error %v does not wrap ErrInvalidArgument", err)
			}
			return
		}
		again, err := ParseLifecycle(c.XML())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("output %s parses to %+v, %v; want %+v", c.XML(), again, err, c)
		}
	})
}

func FuzzParseCORS(f *testing.F) {
	f.Add(corsDoc)
	f.Add(withoutNamespace(corsDoc))
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := ParseCORS(doc)
		if err != nil {
			if !errors.Is(err, s3io.ErrInvalidArgument) {
				t.Fatalf("error %v does not wrap ErrInvalidArgument", err)
			}
			return
		}
		again, err := ParseCORS(c.XML())
		if err != nil || !reflect.DeepEqual(again, c) {
			t.Fatalf("output %s parses to %+v, %v; want %+v", c.XML(), again, err, c)
		}
	})
}
