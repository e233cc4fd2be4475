package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
)

// Credentials are static keys. String never shows the secret.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

func (c Credentials) String() string { return "access key " + c.AccessKeyID + ", secret [redacted]" }

// loadPasswdFile reads an s3fs-style password file: ACCESS:SECRET lines,
// or BUCKET:ACCESS:SECRET lines that win for their bucket. The secret may
// be empty (ACCESS:), for token schemes whose gateway ignores it. Like
// s3fs, it refuses a file that others can read. Errors never quote a line.
func loadPasswdFile(path, bucket string) (Credentials, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("password file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return Credentials{}, fmt.Errorf("password file %s is readable by group or others (mode %04o): chmod 600 it", path, st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		return Credentials{}, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	return parsePasswd(f, path, bucket)
}

// parsePasswd reads the lines of a password file (path is for errors).
func parsePasswd(r io.Reader, path, bucket string) (Credentials, error) {
	var def, forBucket *Credentials
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		switch {
		case len(fields) == 2 && fields[0] != "":
			if def == nil {
				def = &Credentials{AccessKeyID: fields[0], SecretAccessKey: fields[1]}
			}
		case len(fields) == 3 && fields[0] != "" && fields[1] != "":
			if fields[0] == bucket && forBucket == nil {
				forBucket = &Credentials{AccessKeyID: fields[1], SecretAccessKey: fields[2]}
			}
		default:
			return Credentials{}, fmt.Errorf("password file %s, line %d: want ACCESS:SECRET or BUCKET:ACCESS:SECRET (SECRET may be empty)", path, n)
		}
	}
	if err := sc.Err(); err != nil {
		return Credentials{}, fmt.Errorf("password file: %w", err)
	}
	switch {
	case forBucket != nil:
		return *forBucket, nil
	case def != nil:
		return *def, nil
	}
	return Credentials{}, fmt.Errorf("password file %s has no keys for bucket %q", path, bucket)
}
