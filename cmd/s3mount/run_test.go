package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI calls run as main does. Every call that gets past parsing must
// pass -f: without it run would start this test binary as a daemon.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	t.Setenv(daemonEnv, "")
	var out, errb bytes.Buffer
	code = run(context.Background(), "s3mount", args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpShowsDefaultsAndExitCodes(t *testing.T) {
	code, out, errOut := runCLI(t, "--help")
	if code != exitOK || errOut != "" {
		t.Fatalf("--help: exit %d, stderr %q", code, errOut)
	}
	defaults := map[string]string{
		"--file-mode":             `(default "0644")`,
		"--dir-mode":              `(default "0755")`,
		"--metadata-ttl":          `(default "60s")`,
		"--negative-metadata-ttl": `(default "5s")`,
		"--cache-size":            `(default "192MiB")`,
		"--block-size":            `(default "8MiB")`,
		"--max-concurrency":       `(default 16)`,
		"--max-requests":          `(default 64)`,
		"--max-retries":           `(default 5)`,
	}
	lines := strings.Split(out, "\n")
	for flag, want := range defaults {
		found := false
		for _, l := range lines {
			if strings.Contains(l, flag+" ") {
				found = true
				if !strings.Contains(l, want) {
					t.Errorf("help line %q does not show %s", l, want)
				}
			}
		}
		if !found {
			t.Errorf("help does not list %s", flag)
		}
	}
	for _, want := range []string{
		"s3mount [flags] BUCKET[:PREFIX] MOUNTPOINT", "s3mount [flags] MOUNTPOINT",
		"-o, --options", "-f, --foreground", "-h, --help",
		"2  usage error", "3  mount point missing", "4  credentials rejected", "5  bucket not found",
		"6  endpoint unreachable", "7  the FUSE mount itself failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("help does not contain %q", want)
		}
	}
	for _, hidden := range []string{"--mount-n", "--mount-s", "--mount-v"} {
		if strings.Contains(out, hidden) {
			t.Errorf("help shows the hidden %s", hidden)
		}
	}
	if code, short, _ := runCLI(t, "-h"); code != exitOK || short != out {
		t.Errorf("-h differs from --help (exit %d)", code)
	}
}

func TestVersion(t *testing.T) {
	code, out, errOut := runCLI(t, "--version")
	if code != exitOK || out != "s3mount "+version+"\n" || errOut != "" {
		t.Errorf("--version: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "s3mount: missing mount point\nTry 's3mount --help'.\n"},
		{[]string{"--bogus", "b", "/mnt"}, "s3mount: unknown flag: --bogus\nTry 's3mount --help'.\n"},
		{[]string{"-o", "nope", "b", "/mnt"}, "s3mount: -o nope: unknown mount option\nTry 's3mount --help'.\n"},
		{[]string{"bad/bucket", "/mnt"}, "s3mount: bucket name \"bad/bucket\": '/' is not allowed (letters, digits, '.', '-', '_')\nTry 's3mount --help'.\n"},
		{[]string{"--block-size", "1", "b", "/mnt"}, "s3mount: --block-size must be between 64KiB and 1GiB\nTry 's3mount --help'.\n"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, tt.args...)
		if code != exitUsage || out != "" || errOut != tt.want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit 2 and %q", tt.args, code, out, errOut, tt.want)
		}
	}
}

func TestSecretFlagsAreRefusedWithoutEcho(t *testing.T) {
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	for _, args := range [][]string{
		{"--secret-access-key=" + secret, "b", "/mnt"},
		{"--aws-secret-access-key", secret, "b", "/mnt"},
		{"b", "/mnt", "-o", "secret_access_key=" + secret},
		{"b", "/mnt", "-o", "ro,aws_secret_access_key=" + secret},
	} {
		code, out, errOut := runCLI(t, args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2", args[0], code)
		}
		if strings.Contains(out+errOut, secret) {
			t.Errorf("the output shows the secret: %q", errOut)
		}
	}
}

func TestForegroundFailuresBeforeS3HaveTheirExitCodes(t *testing.T) {
	dir := t.TempDir()
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		t.Fatal(err)
	}
	const secret = "wJalrXUtnFEMIK7MDENGbPxRfiCY"
	open := writePasswd(t, "AK:"+secret+"\n", 0o644)
	bad := writePasswd(t, secret+"\n", 0o600)
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing mount point", []string{"-f", "b", filepath.Join(dir, "none")}, exitMountPoint, "does not exist"},
		{"non-empty mount point", []string{"-f", "b", dir}, exitMountPoint, "is not empty"},
		{"log file cannot be created", []string{"-f", "--log-file", filepath.Join(dir, "no", "log"), "b", mnt}, exitUsage, "log file:"},
		{"password file readable by others", []string{"-f", "--passwd-file", open, "b", mnt}, exitCredentials, "readable by group or others"},
		{"malformed password file", []string{"-f", "-o", "passwd_file=" + bad, "b", mnt}, exitCredentials, "line 1: want ACCESS:SECRET"},
		{"missing password file", []string{"-f", "--passwd-file", filepath.Join(dir, "none"), "b", mnt}, exitCredentials, "password file:"},
		{"failing credentials command", []string{"-f", "--credentials-command", "echo AK " + secret + "; echo 'portal: not logged in' >&2; exit 3", "b", mnt},
			exitCredentials, "credentials command: exit status 3 (stderr: portal: not logged in)"},
		{"credentials command printing garbage", []string{"-f", "-o", "credentials_command=echo " + secret, "b", mnt},
			exitCredentials, "credentials command: printed a line of 1 words; want `ACCESS SECRET [SESSION_TOKEN]` on one line or credential_process JSON"},
		{"credentials command printing expired keys", []string{"-f", "--credentials-command",
			`echo '{"Version":1,"AccessKeyId":"AK","SecretAccessKey":"` + secret + `","Expiration":"2001-01-01T00:00:00Z"}'`, "b", mnt},
			exitCredentials, "credentials command: the keys it printed expired at 2001-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) || !strings.HasPrefix(errOut, "s3mount: ") ||
				strings.Count(errOut, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want exit %d and %q", code, errOut, tt.code, tt.want)
			}
			if out != "" || strings.Contains(errOut, secret) {
				t.Errorf("stdout %q, stderr %q", out, errOut)
			}
		})
	}
}

func TestFSNameAndEndpointName(t *testing.T) {
	tests := []struct {
		opts           Options
		fsname, server string
	}{
		{Options{}, "s3mount", "AWS S3"},
		{Options{Bucket: "b"}, "s3mount:b", "AWS S3"},
		{Options{Bucket: "b", FSName: "data", EndpointURL: "http://h:9000"}, "data", "http://h:9000"},
	}
	for _, tt := range tests {
		if got := fsName(&tt.opts); got != tt.fsname {
			t.Errorf("fsName(%+v) = %q, want %q", tt.opts, got, tt.fsname)
		}
		if got := endpointName(&tt.opts); got != tt.server {
			t.Errorf("endpointName(%+v) = %q, want %q", tt.opts, got, tt.server)
		}
	}
}

func TestCodedErrorKeepsItsCause(t *testing.T) {
	cause := errors.New("cause")
	err := fmt.Errorf("outer: %w", fail(exitNoBucket, "bucket %q: %w", "b", cause))
	var ce *codedError
	if !errors.As(err, &ce) || ce.code != exitNoBucket || !errors.Is(err, cause) || err.Error() != `outer: bucket "b": cause` {
		t.Errorf("codedError: %v (%+v)", err, ce)
	}
}

func TestReadinessReportsOneLine(t *testing.T) {
	var nilReady *readiness
	nilReady.ok() // the foreground has no reporter: no panic
	nilReady.failed(exitError, errors.New("x"))

	tests := []struct {
		report func(*readiness)
		want   string
	}{
		{func(r *readiness) { r.ok() }, "ok\n"},
		{func(r *readiness) { r.failed(exitNoBucket, errors.New("bucket \"b\"\ndoes not exist")) }, "fail 5 bucket \"b\" does not exist\n"},
	}
	for _, tt := range tests {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		ready := &readiness{f: w}
		tt.report(ready)
		tt.report(ready) // a second report is dropped
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || string(got) != tt.want {
			t.Errorf("reported %q, %v; want %q", got, err, tt.want)
		}
	}
}

func TestLoggerGoesWhereTheOptionsSay(t *testing.T) {
	var stderr bytes.Buffer
	logger, closeLog, err := newLogger(&Options{Foreground: true}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	logger.Debug("hidden")
	logger.Info("shown", "k", "v")
	closeLog()
	if s := stderr.String(); strings.Contains(s, "hidden") || !strings.Contains(s, "msg=shown k=v") {
		t.Errorf("foreground log %q", s)
	}

	path := filepath.Join(t.TempDir(), "s3mount.log")
	logger, closeLog, err = newLogger(&Options{LogFile: path, Debug: true, Foreground: true}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	stderr.Reset()
	logger.Debug("request", "op", "GetObject")
	closeLog()
	if stderr.Len() != 0 {
		t.Errorf("stderr got %q with --log-file", stderr.String())
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %04o, want 0600", st.Mode().Perm())
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() || !strings.Contains(sc.Text(), "level=DEBUG msg=request op=GetObject") {
		t.Errorf("log file line %q", sc.Text())
	}
	if !logger.Enabled(context.Background(), slog.LevelDebug) {
		t.Error("--debug does not enable debug logging")
	}
}
