package sigv4

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestCanonicalQuerySortsAndEncodesAsSigV4Wants(t *testing.T) {
	for raw, want := range map[string]string{
		"":                            "",
		"uploads":                     "uploads=",
		"uploadId=a%2Fb&partNumber=2": "partNumber=2&uploadId=a%2Fb",
		"prefix=a b&a-b=1&a=2":        "a=2&a-b=1&prefix=a%20b",
		"k=~x":                        "k=~x",
	} {
		if got := canonicalQuery(raw); got != want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestVerifyAcceptsWhatSignSignsAndRefusesAnotherSecret(t *testing.T) {
	for _, secret := range []string{"", "s3cr3t"} {
		k := Keys{AccessKey: "AK", SecretKey: secret, Region: "us-east-1"}
		req := httptest.NewRequest(http.MethodPut, "http://127.0.0.1:9/b/a%20key?uploads", nil)
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-Amz-Meta-A", "  x   y ")
		k.Sign(req, []byte("body"), time.Now())
		req.Host = req.URL.Host // as a server sees it
		if ak, err := Verify(req, secret); err != nil || ak != "AK" {
			t.Fatalf("secret %q: Verify = %q, %v", secret, ak, err)
		}
		if _, err := Verify(req, secret+"x"); err == nil {
			t.Fatalf("secret %q: Verify accepted another secret", secret)
		}
	}
}
