package credcmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// The two outputs, named in errors.
const (
	lineForm = "`ACCESS SECRET [SESSION_TOKEN]` on one line"
	jsonForm = "credential_process JSON"
)

// processJSON is the AWS credential_process output. Pointers tell a
// missing field from an empty one: an empty SecretAccessKey is a token
// scheme's, a missing one is a mistake.
type processJSON struct {
	Version         *int
	AccessKeyID     *string `json:"AccessKeyId"`
	SecretAccessKey *string
	SessionToken    string
	Expiration      string
}

// Parse reads what a credentials command printed. Its errors describe the
// output's shape (lines, words, fields) and never quote it.
func Parse(out []byte) (s3io.Credentials, error) {
	trimmed := bytes.TrimSpace(out)
	switch {
	case len(trimmed) == 0:
		return s3io.Credentials{}, fmt.Errorf("printed nothing; want %s or %s", lineForm, jsonForm)
	case trimmed[0] == '{':
		return parseJSON(trimmed)
	}
	return parseLine(trimmed)
}

func parseLine(out []byte) (s3io.Credentials, error) {
	s := string(out)
	if n := strings.Count(s, "\n") + 1; n > 1 {
		return s3io.Credentials{}, fmt.Errorf("printed %d lines; want %s or %s", n, lineForm, jsonForm)
	}
	f := strings.Fields(s)
	if len(f) != 2 && len(f) != 3 {
		return s3io.Credentials{}, fmt.Errorf("printed a line of %d words; want %s or %s", len(f), lineForm, jsonForm)
	}
	c := s3io.Credentials{AccessKeyID: f[0], SecretAccessKey: f[1]}
	if len(f) == 3 {
		c.SessionToken = f[2]
	}
	return c, nil
}

func parseJSON(out []byte) (s3io.Credentials, error) {
	var p processJSON
	if err := json.Unmarshal(out, &p); err != nil {
		// A syntax error's text quotes a character of the output; say where
		// instead.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return s3io.Credentials{}, fmt.Errorf("printed invalid JSON (at byte %d); want %s", syn.Offset, jsonForm)
		case errors.As(err, &typ):
			return s3io.Credentials{}, fmt.Errorf("printed JSON whose %s is not a %s; want %s", typ.Field, typ.Type, jsonForm)
		}
		return s3io.Credentials{}, fmt.Errorf("printed invalid JSON; want %s", jsonForm)
	}
	switch {
	case p.Version == nil:
		return s3io.Credentials{}, errors.New("printed JSON without Version; want credential_process JSON, Version 1")
	case *p.Version != 1:
		return s3io.Credentials{}, fmt.Errorf("printed credential_process JSON of Version %d; only Version 1 is known", *p.Version)
	case p.AccessKeyID == nil || *p.AccessKeyID == "":
		return s3io.Credentials{}, errors.New("printed credential_process JSON without AccessKeyId")
	case p.SecretAccessKey == nil:
		return s3io.Credentials{}, errors.New(`printed credential_process JSON without SecretAccessKey (use "" for a token scheme's empty secret)`)
	}
	c := s3io.Credentials{AccessKeyID: *p.AccessKeyID, SecretAccessKey: *p.SecretAccessKey, SessionToken: p.SessionToken}
	if p.Expiration != "" {
		t, err := time.Parse(time.RFC3339, p.Expiration)
		if err != nil {
			return s3io.Credentials{}, fmt.Errorf("printed credential_process JSON whose Expiration %q is not an RFC 3339 time", p.Expiration)
		}
		c.Expires = t
	}
	return c, nil
}
