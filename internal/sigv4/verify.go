package sigv4

import (
	"crypto/hmac"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// Verify checks the AWS Signature Version 4 of a request a server
// received (header form, not presigned) against secret, which may be
// empty, and returns the access key it names. It recomputes the signature
// from the headers the request says it signed and from the payload hash it
// declares; the caller checks that hash against the body when it wants.
func Verify(req *http.Request, secret string) (accessKey string, err error) {
	auth := req.Header.Get("Authorization")
	rest, ok := strings.CutPrefix(auth, "AWS4-HMAC-SHA256 ")
	if !ok {
		return "", errors.New("no AWS4-HMAC-SHA256 Authorization header")
	}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			cred = v
		case "SignedHeaders":
			signed = v
		case "Signature":
			sig = v
		}
	}
	accessKey, scope, ok := strings.Cut(cred, "/")
	if !ok || signed == "" || sig == "" {
		return "", errors.New("malformed Authorization header")
	}
	amzDate := req.Header.Get("X-Amz-Date")
	if len(amzDate) < 8 || !strings.HasPrefix(scope, amzDate[:8]+"/") {
		return accessKey, fmt.Errorf("X-Amz-Date %q does not match the scope %q", amzDate, scope)
	}
	names := strings.Split(signed, ";")
	values := map[string]string{}
	for _, n := range names {
		switch n {
		case "host":
			values[n] = req.Host
		case "content-length":
			values[n] = fmt.Sprint(req.ContentLength)
		default:
			vs := req.Header.Values(n)
			trimmed := make([]string, len(vs))
			for i, v := range vs {
				trimmed[i] = strings.Join(strings.Fields(v), " ")
			}
			values[n] = strings.Join(trimmed, ",")
		}
	}
	want := signature(secret, amzDate, scope, canonicalRequest(req, names, values, req.Header.Get("X-Amz-Content-Sha256")))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return accessKey, errors.New("signature does not match")
	}
	return accessKey, nil
}
