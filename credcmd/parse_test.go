package credcmd

import (
	"strings"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

func TestParseReadsBothOutputs(t *testing.T) {
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, c := range []struct {
		name, out string
		want      s3io.Credentials
	}{
		{"MSI machine output", "AKMSI SECRETMSI\n", s3io.Credentials{AccessKeyID: "AKMSI", SecretAccessKey: "SECRETMSI"}},
		{"with a session token", "  AK\tSK  TOKEN \n\n", s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "TOKEN"}},
		{"credential_process", `{"Version": 1, "AccessKeyId": "AK", "SecretAccessKey": "SK", "SessionToken": "T", "Expiration": "2030-01-02T03:04:05Z"}`,
			s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", SessionToken: "T", Expires: exp}},
		{"credential_process, fractional expiry in a zone", `{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","Expiration":"2030-01-02T04:04:05.000+01:00"}`,
			s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK", Expires: exp}},
		{"credential_process without expiry, extra fields", `{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","AccountId":"123"}`,
			s3io.Credentials{AccessKeyID: "AK", SecretAccessKey: "SK"}},
		{"token scheme's empty secret", `{"Version":1,"AccessKeyId":"TOKEN","SecretAccessKey":""}`,
			s3io.Credentials{AccessKeyID: "TOKEN"}},
	} {
		got, err := Parse([]byte(c.out))
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if got.AccessKeyID != c.want.AccessKeyID || got.SecretAccessKey != c.want.SecretAccessKey ||
			got.SessionToken != c.want.SessionToken || !got.Expires.Equal(c.want.Expires) {
			t.Errorf("%s: got %#v, want %#v", c.name, got, c.want)
		}
	}
}

func TestParseErrorsDescribeTheOutputWithoutQuotingIt(t *testing.T) {
	const secret = "TOPSECRETvalue"
	for _, c := range []struct{ out, says string }{
		{"", "printed nothing"},
		{"AK " + secret + "\nmore " + secret, "2 lines"},
		{secret, "1 words"},
		{"AK " + secret + " tok extra", "4 words"},
		{`{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"` + secret, "invalid JSON"},
		{`{"Version":1,"AccessKeyId":"AK","SecretAccessKey":7}`, "SecretAccessKey is not a string"},
		{`{"Version":2,"AccessKeyId":"AK","SecretAccessKey":"` + secret + `"}`, "Version 2"},
		{`{"AccessKeyId":"AK","SecretAccessKey":"` + secret + `"}`, "without Version"},
		{`{"Version":1,"SecretAccessKey":"` + secret + `"}`, "without AccessKeyId"},
		{`{"Version":1,"AccessKeyId":"AK"}`, "without SecretAccessKey"},
		{`{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"` + secret + `","Expiration":"tomorrow"}`, "RFC 3339"},
	} {
		_, err := Parse([]byte(c.out))
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Parse(%q) = %v, want an error saying %q", c.out, err, c.says)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), secret[:4]) {
			t.Errorf("Parse(%q): the error quotes the output: %v", c.out, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"AK SK\n", "AK SK TOKEN", "", "\n\n", "one", "a b c d",
		`{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"SK","SessionToken":"T","Expiration":"2030-01-02T03:04:05Z"}`,
		`{"Version":1,"AccessKeyId":"AK","SecretAccessKey":""}`, `{"Version":`, `{}`, `{"Version":1.5}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, out []byte) {
		c, err := Parse(out)
		if err != nil {
			// Errors never quote more than an Expiration value.
			if msg := err.Error(); len(msg) > 300 {
				t.Fatalf("error of %d bytes", len(msg))
			}
			return
		}
		if c.AccessKeyID == "" {
			t.Fatalf("keys without an access key from %q", out)
		}
		if strings.ContainsAny(c.AccessKeyID, " \t\n") {
			t.Fatalf("access key with white space from %q", out)
		}
	})
}
