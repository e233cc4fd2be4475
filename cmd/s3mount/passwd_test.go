package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// writePasswd writes content to a fresh file with the given mode (chmod,
// so that the umask does not interfere).
func writePasswd(t testing.TB, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "passwd-s3fs")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestPasswdFileChoosesTheBucketsLine(t *testing.T) {
	tests := []struct {
		name, content, bucket string
		access, secret        string
	}{
		{"one default line", "AKDEFAULT:secretdefault\n", "b", "AKDEFAULT", "secretdefault"},
		{"no final newline", "AK:SK", "b", "AK", "SK"},
		{"CRLF line ends", "AK:SK\r\n", "b", "AK", "SK"},
		{"surrounding spaces", "  \tAK:SK  \n", "b", "AK", "SK"},
		{"comments and blank lines", "# keys\n\n   \n#AKX:SKX\nAK:SK\n", "b", "AK", "SK"},
		{"bucket line wins over default", "AK:SK\nmine:AKMINE:SKMINE\n", "mine", "AKMINE", "SKMINE"},
		{"bucket line wins even first", "mine:AKMINE:SKMINE\nAK:SK\n", "mine", "AKMINE", "SKMINE"},
		{"other bucket's line ignored", "other:AKO:SKO\nAK:SK\n", "mine", "AK", "SK"},
		{"first default wins", "AK1:SK1\nAK2:SK2\n", "b", "AK1", "SK1"},
		{"first bucket line wins", "b:AK1:SK1\nb:AK2:SK2\n", "b", "AK1", "SK1"},
		{"all-buckets mount uses default", "b:AKB:SKB\nAK:SK\n", "", "AK", "SK"},
		{"secret with symbols", "AK:wJalr/XUtn+FEMI=\n", "b", "AK", "wJalr/XUtn+FEMI="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			creds, err := loadPasswdFile(writePasswd(t, tt.content, 0o600), tt.bucket)
			if err != nil {
				t.Fatal(err)
			}
			if creds.AccessKeyID != tt.access || creds.SecretAccessKey != tt.secret || creds.SessionToken != "" {
				t.Errorf("got %q %q %q, want %q %q", creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken, tt.access, tt.secret)
			}
		})
	}
}

func TestPasswdFileModes(t *testing.T) {
	const secret = "SECRETxyzzy"
	for _, mode := range []os.FileMode{0o600, 0o400, 0o700, 0o200} {
		if _, err := loadPasswdFile(writePasswd(t, "AK:"+secret+"\n", mode), "b"); err != nil {
			t.Errorf("mode %04o: %v", mode, err)
		}
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o644, 0o660, 0o606, 0o610, 0o601, 0o777} {
		path := writePasswd(t, "AK:"+secret+"\n", mode)
		_, err := loadPasswdFile(path, "b")
		if err == nil {
			t.Errorf("mode %04o accepted", mode)
			continue
		}
		want := fmt.Sprintf("password file %s is readable by group or others (mode %04o): chmod 600 it", path, mode)
		if err.Error() != want {
			t.Errorf("mode %04o: error %q, want %q", mode, err, want)
		}
	}
}

func TestPasswdFileErrorsNeverShowTheSecret(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	tests := []struct {
		name, content, bucket, want string
	}{
		{"one field", secret + "\n", "b", "line 1: want ACCESS:SECRET or BUCKET:ACCESS:SECRET"},
		{"four fields", "b:AK:" + secret + ":extra\n", "b", "line 1: want"},
		{"empty access key", ":" + secret + "\n", "b", "line 1: want"},
		{"empty access key after good lines", "# c\nAK:" + secret + "\n:\n", "b", "line 3: want"},
		{"empty access key for a bucket", "b::" + secret + "\n", "b", "line 1: want"},
		{"empty bucket field", ":AK:" + secret + "\n", "b", "line 1: want"},
		{"space inside is not a separator", "AK " + secret + "\n", "b", "line 1: want"},
		{"only other buckets", "other:AK:" + secret + "\n", "b", `has no keys for bucket "b"`},
		{"empty file", "", "b", `has no keys for bucket "b"`},
		{"only comments", "# AK:" + secret + "\n", "b", "has no keys"},
		{"line too long", "AK:" + secret + strings.Repeat("x", 70000) + "\n", "b", "password file: bufio.Scanner: token too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writePasswd(t, tt.content, 0o600)
			creds, err := loadPasswdFile(path, tt.bucket)
			if err == nil {
				t.Fatalf("accepted: %v", creds)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf("error shows the secret: %q", err)
			}
		})
	}
}

func TestPasswdFileTakesAnEmptySecret(t *testing.T) {
	for content, want := range map[string]Credentials{
		"TOKENKEY:\n":               {AccessKeyID: "TOKENKEY"},
		"b:TOKENB:\nTOKEN:\n":       {AccessKeyID: "TOKENB"},
		"other:AK:SK\n  TOKEN:  \n": {AccessKeyID: "TOKEN"},
		"TOKEN:\nb:AK:secret\n":     {AccessKeyID: "AK", SecretAccessKey: "secret"},
	} {
		got, err := loadPasswdFile(writePasswd(t, content, 0o600), "b")
		if err != nil || got != want {
			t.Errorf("%q: got %q %q, %v; want %q with secret %q", content, got.AccessKeyID, got.SecretAccessKey, err, want.AccessKeyID, want.SecretAccessKey)
		}
	}
}

func TestPasswdFileMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none")
	_, err := loadPasswdFile(path, "b")
	if err == nil || !os.IsNotExist(err) && !strings.Contains(err.Error(), "no such file") {
		t.Errorf("missing file: %v", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "password file: ") {
		t.Errorf("error %q does not say which file", err)
	}
}

func TestCredentialsStringHidesTheSecret(t *testing.T) {
	c := Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI", SessionToken: "tokenTOKEN"}
	for _, s := range []string{c.String(), fmt.Sprint(c), fmt.Sprintf("%v", c), fmt.Sprintf("%s", c)} {
		if s != "access key AKIDEXAMPLE, secret [redacted]" {
			t.Errorf("Credentials print as %q", s)
		}
	}
}

// passwdModel is what loadPasswdFile should return for content small
// enough to hold no over-long line: the bucket's first line, else the first
// ACCESS:SECRET line, else an error; any malformed line is an error.
func passwdModel(content, bucket string) (c Credentials, badLine int, ok bool) {
	var def, forBucket *Credentials
	lines := strings.Split(content, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	for i, line := range lines {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ":")
		switch {
		case len(f) == 2 && f[0] != "":
			if def == nil {
				def = &Credentials{AccessKeyID: f[0], SecretAccessKey: f[1]}
			}
		case len(f) == 3 && f[0] != "" && f[1] != "":
			if f[0] == bucket && forBucket == nil {
				forBucket = &Credentials{AccessKeyID: f[1], SecretAccessKey: f[2]}
			}
		default:
			return Credentials{}, i + 1, false
		}
	}
	switch {
	case forBucket != nil:
		return *forBucket, 0, true
	case def != nil:
		return *def, 0, true
	}
	return Credentials{}, 0, false
}

// FuzzPasswdFile: no panic; the result agrees with passwdModel; an error is
// one of the fixed messages, so it can quote no line and hence no secret.
func FuzzPasswdFile(f *testing.F) {
	f.Add("AK:SK\n", "b")
	f.Add("# comment\n\nb:AKB:SKB\nAK:SK\n", "b")
	f.Add("other:AKO:SKO\n", "b")
	f.Add("AK:SK:x:y\n", "")
	f.Add(":SK\r\n", "b")
	f.Add("\t AK:SK \r\nAK2:SK2", "b")
	f.Add("b:AK:SK\nb::\n", "b")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, content, bucket string) {
		if len(content) > 60000 {
			return // a line may pass bufio.Scanner's limit, which the model ignores
		}
		path := writePasswd(t, content, 0o600)
		got, err := loadPasswdFile(path, bucket)
		want, badLine, ok := passwdModel(content, bucket)
		if err == nil {
			if !ok || got != want {
				t.Fatalf("got %q %q, want %q %q (ok %v)", got.AccessKeyID, got.SecretAccessKey, want.AccessKeyID, want.SecretAccessKey, ok)
			}
			if got.AccessKeyID == "" || strings.Contains(got.AccessKeyID+got.SecretAccessKey, ":") {
				t.Errorf("bad keys %q %q", got.AccessKeyID, got.SecretAccessKey)
			}
			return
		}
		if ok {
			t.Fatalf("error %v, want %q %q", err, want.AccessKeyID, want.SecretAccessKey)
		}
		msg := err.Error()
		var allowed string
		if badLine > 0 {
			allowed = "password file " + path + ", line " + strconv.Itoa(badLine) + ": want ACCESS:SECRET or BUCKET:ACCESS:SECRET (SECRET may be empty)"
		} else {
			allowed = fmt.Sprintf("password file %s has no keys for bucket %q", path, bucket)
		}
		if msg != allowed {
			t.Errorf("error %q, want %q", msg, allowed)
		}
	})
}
