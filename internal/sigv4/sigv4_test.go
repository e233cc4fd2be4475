package sigv4

import "testing"

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
