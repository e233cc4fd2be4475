package s3io

import (
	"context"
	"fmt"
	"time"
)

// Credentials are keys that requests are signed with. SecretAccessKey may
// be empty: token schemes (OSiRIS's Ceph gateway) sign with an empty
// secret. String and GoString never show the secret or the token, so that
// a %v or %#v in a log line or an error cannot leak them.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	// Expires is when the keys stop working; zero when nobody said.
	Expires time.Time
}

func (c Credentials) String() string {
	s := "access key " + c.AccessKeyID + ", secret [redacted]"
	if c.SessionToken != "" {
		s += ", session token [redacted]"
	}
	if !c.Expires.IsZero() {
		s += ", expires " + c.Expires.UTC().Format(time.RFC3339)
	}
	return s
}

func (c Credentials) GoString() string { return fmt.Sprintf("s3io.Credentials{%s}", c.String()) }

// CredentialsSource fetches a fresh set of keys, for keys that expire or
// are rotated: a site's credentials command. It is called at the first
// request, again before the keys it gave expire, and again when the server
// rejects them.
type CredentialsSource func(ctx context.Context) (Credentials, error)
