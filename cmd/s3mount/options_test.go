package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parse is parseArgs as the command line calls it, failing the test on error.
func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	o, err := parseArgs("s3mount", args, func(string) string { return "" })
	if err != nil {
		t.Fatalf("parseArgs(%q): %v", args, err)
	}
	return o
}

// withoutWrite drops the write-path settings, which options_write.go's
// own tests cover, so that these tests compare the rest exactly.
func withoutWrite(o *Options) Options {
	c := *o
	c.Write = WriteOptions{}
	return c
}

// parseErr is parseArgs expected to fail; it returns the error text.
func parseErr(t *testing.T, args ...string) string {
	t.Helper()
	o, err := parseArgs("s3mount", args, func(string) string { return "" })
	if err == nil {
		t.Fatalf("parseArgs(%q) = %+v, want an error", args, o)
	}
	return err.Error()
}

func TestPositionalFormsSetBucketPrefixAndMountPoint(t *testing.T) {
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		bucket     string
		prefix     string
		mountPoint string
	}{
		{"bucket and mount point", []string{"mybucket", "/mnt/data"}, "mybucket", "", "/mnt/data"},
		{"bucket with prefix", []string{"mybucket:photos/2024", "/mnt/data"}, "mybucket", "photos/2024/", "/mnt/data"},
		{"prefix already ending in slash", []string{"mybucket:photos/", "/mnt/data"}, "mybucket", "photos/", "/mnt/data"},
		{"leading slashes of prefix dropped", []string{"mybucket://photos", "/mnt/data"}, "mybucket", "photos/", "/mnt/data"},
		{"empty prefix after colon", []string{"mybucket:", "/mnt/data"}, "mybucket", "", "/mnt/data"},
		{"prefix holding a colon", []string{"mybucket:a:b", "/mnt/data"}, "mybucket", "a:b/", "/mnt/data"},
		{"mount point alone mounts every bucket", []string{"/mnt/all"}, "", "", "/mnt/all"},
		{"relative mount point made absolute", []string{"mybucket", "mnt"}, "mybucket", "", filepath.Join(cwd, "mnt")},
		{"mount point cleaned", []string{"mybucket", "/mnt//data/../x/"}, "mybucket", "", "/mnt/x"},
		{"old fuse fstab source", []string{"s3mount#mybucket:logs", "/mnt/data"}, "mybucket", "logs/", "/mnt/data"},
		{"legacy Ceph bucket name", []string{"Old_Bucket.v1-x", "/mnt/data"}, "Old_Bucket.v1-x", "", "/mnt/data"},
		{"flags after positionals", []string{"mybucket", "/mnt/data", "--read-only"}, "mybucket", "", "/mnt/data"},
		{"--prefix flag", []string{"--prefix", "logs", "mybucket", "/mnt/data"}, "mybucket", "logs/", "/mnt/data"},
		{"--prefix agreeing with source", []string{"--prefix", "/logs/", "mybucket:logs", "/mnt/data"}, "mybucket", "logs/", "/mnt/data"},
		{"--prefix of only slashes", []string{"--prefix", "//", "mybucket", "/mnt/data"}, "mybucket", "", "/mnt/data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := parse(t, tt.args...)
			if o.Bucket != tt.bucket || o.Prefix != tt.prefix || o.MountPoint != tt.mountPoint {
				t.Errorf("bucket, prefix, mount point = %q, %q, %q; want %q, %q, %q",
					o.Bucket, o.Prefix, o.MountPoint, tt.bucket, tt.prefix, tt.mountPoint)
			}
		})
	}
}

func TestBadArgumentsGiveAClearError(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // a piece of the message
	}{
		{"nothing", nil, "missing mount point"},
		{"only flags", []string{"--read-only"}, "missing mount point"},
		{"three positionals", []string{"b", "/mnt", "extra"}, `too many arguments: ["extra"]`},
		{"empty mount point", []string{"mybucket", ""}, "mount point"},
		{"empty source", []string{"", "/mnt"}, "bucket"},
		{"empty bucket before prefix", []string{":photos", "/mnt"}, `bucket name "": must be 1 to 255 characters`},
		{"slash in bucket", []string{"my/bucket", "/mnt"}, `bucket name "my/bucket": '/' is not allowed`},
		{"space in bucket", []string{"my bucket", "/mnt"}, `' ' is not allowed`},
		{"non-ASCII bucket", []string{"bücket", "/mnt"}, `'ü' is not allowed`},
		{"bucket too long", []string{strings.Repeat("b", 256), "/mnt"}, "must be 1 to 255 characters"},
		{"--prefix without bucket", []string{"--prefix", "logs", "/mnt"}, "--prefix needs a bucket"},
		{"--prefix disagreeing with source", []string{"--prefix", "a", "mybucket:b", "/mnt"}, `--prefix "a" disagrees with "mybucket:b"`},
		{"unknown flag", []string{"--bogus", "b", "/mnt"}, "unknown flag: --bogus"},
		{"flag missing its value", []string{"b", "/mnt", "--region"}, "flag needs an argument: --region"},
		{"uid not a number", []string{"--uid", "alice", "b", "/mnt"}, `invalid argument "alice" for "--uid" flag`},
		{"negative uid", []string{"--uid", "-1", "b", "/mnt"}, `"--uid"`},
		{"file mode not octal", []string{"--file-mode", "0689", "b", "/mnt"}, `--file-mode "0689": want octal permission bits`},
		{"file mode too large", []string{"--file-mode", "17777", "b", "/mnt"}, `--file-mode "17777"`},
		{"dir mode empty", []string{"--dir-mode", "", "b", "/mnt"}, `--dir-mode ""`},
		{"ttl garbage", []string{"--metadata-ttl", "soon", "b", "/mnt"}, `--metadata-ttl "soon": want a duration`},
		{"ttl negative", []string{"--negative-metadata-ttl", "-5s", "b", "/mnt"}, `--negative-metadata-ttl "-5s"`},
		{"ttl negative seconds", []string{"--metadata-ttl", "-1", "b", "/mnt"}, `--metadata-ttl "-1"`},
		{"ttl infinite", []string{"--metadata-ttl", "inf", "b", "/mnt"}, `--metadata-ttl "inf"`},
		{"ttl overflowing", []string{"--metadata-ttl", "1e300", "b", "/mnt"}, `--metadata-ttl "1e300"`},
		{"cache size garbage", []string{"--cache-size", "lots", "b", "/mnt"}, `--cache-size: size "lots"`},
		{"block size garbage", []string{"--block-size", "1X", "b", "/mnt"}, `--block-size: size "1X"`},
		{"block size too small", []string{"--block-size", "32KiB", "b", "/mnt"}, "--block-size must be between 64KiB and 1GiB"},
		{"block size too large", []string{"--block-size", "2GiB", "--cache-size", "8GiB", "b", "/mnt"}, "--block-size must be between 64KiB and 1GiB"},
		{"cache smaller than two blocks", []string{"--cache-size", "8MiB", "b", "/mnt"}, "--cache-size must hold at least two blocks (2 x 8388608 bytes)"},
		{"zero concurrency", []string{"--max-concurrency", "0", "b", "/mnt"}, "--max-concurrency must be between 1 and 1024"},
		{"too much concurrency", []string{"--max-concurrency", "1025", "b", "/mnt"}, "--max-concurrency must be between 1 and 1024"},
		{"zero requests", []string{"--max-requests", "0", "b", "/mnt"}, "--max-requests must be between 1 and 4096"},
		{"zero retries", []string{"--max-retries", "0", "b", "/mnt"}, "--max-retries must be between 1 and 100"},
		{"too many retries", []string{"--max-retries", "101", "b", "/mnt"}, "--max-retries must be between 1 and 100"},
		{"command and password file", []string{"--credentials-command", "s3info keys", "--passwd-file", "/p", "b", "/mnt"}, "give one source of keys"},
		{"command and no signing", []string{"-o", "credentials_command=x,no_sign_request", "b", "/mnt"}, "anonymous requests need no keys"},
		{"blank command", []string{"--credentials-command", "  ", "b", "/mnt"}, "--credentials-command is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := parseErr(t, tt.args...); !strings.Contains(got, tt.want) {
				t.Errorf("error %q does not contain %q", got, tt.want)
			}
		})
	}
}

func TestDefaultsWithoutFlags(t *testing.T) {
	o := parse(t, "mybucket", "/mnt/data")
	want := Options{
		Bucket:              "mybucket",
		MountPoint:          "/mnt/data",
		UID:                 uint32(os.Getuid()),
		GID:                 uint32(os.Getgid()),
		FileMode:            0o644,
		DirMode:             0o755,
		MetadataTTL:         60 * time.Second,
		NegativeMetadataTTL: 5 * time.Second, ListMetadata: "head", MaxRenameKeys: 100000,
		CacheSize:      192 << 20,
		BlockSize:      8 << 20,
		MaxConcurrency: 16,
		MaxRequests:    64,
		MaxRetries:     5,
		RequestTimeout: 2 * time.Minute,
	}
	if got := withoutWrite(o); got != want {
		t.Errorf("defaults:\n got %+v\nwant %+v", got, want)
	}
}

func TestFlagsSetTheirOptions(t *testing.T) {
	o := parse(t,
		"--endpoint-url", "http://127.0.0.1:9000", "--region", "eu-west-1", "--profile", "work",
		"--force-path-style", "--no-sign-request", "--passwd-file", "/etc/passwd-s3fs", "--ca-bundle", "/etc/ca.pem",
		"--read-only", "-f", "--uid", "1000", "--gid", "100", "--file-mode", "600", "--dir-mode", "0700",
		"--allow-other", "--allow-root", "--allow-non-empty", "--metadata-ttl", "1.5", "--negative-metadata-ttl", "minimal",
		"--cache-size", "256MiB", "--block-size", "1M", "--max-concurrency", "4", "--max-requests", "8", "--max-retries", "1",
		"--debug", "--log-file", "/var/log/s3mount.log", "--fsname", "s3:data",
		"mybucket", "/mnt/data")
	want := Options{
		Bucket: "mybucket", MountPoint: "/mnt/data",
		EndpointURL: "http://127.0.0.1:9000", Region: "eu-west-1", Profile: "work",
		ForcePathStyle: true, NoSignRequest: true, PasswdFile: "/etc/passwd-s3fs", CABundle: "/etc/ca.pem",
		ReadOnly: true, AllowOther: true, AllowRoot: true, AllowNonEmpty: true, Foreground: true, Debug: true,
		UID: 1000, GID: 100, FileMode: 0o600, DirMode: 0o700,
		MetadataTTL: 1500 * time.Millisecond, NegativeMetadataTTL: time.Second, ListMetadata: "head", MaxRenameKeys: 100000,
		CacheSize: 256 << 20, BlockSize: 1 << 20, MaxConcurrency: 4, MaxRequests: 8, MaxRetries: 1, RequestTimeout: 2 * time.Minute,
		LogFile: "/var/log/s3mount.log", FSName: "s3:data",
	}
	if got := withoutWrite(o); got != want {
		t.Errorf("options:\n got %+v\nwant %+v", got, want)
	}
}

func TestParseTTL(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"60s", time.Minute},
		{"1h30m", 90 * time.Minute},
		{"0", 0},
		{"30", 30 * time.Second},
		{"0.25", 250 * time.Millisecond},
		{"minimal", time.Second},
		{"indefinite", 100 * 365 * 24 * time.Hour},
	}
	for _, tt := range tests {
		got, err := parseTTL("--metadata-ttl", tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseTTL(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{"", "soon", "-1", "-1s", "inf", "+Inf", "NaN", "1e300", "9.3e9", "1d"} {
		if got, err := parseTTL("--metadata-ttl", in); err == nil {
			t.Errorf("parseTTL(%q) = %v, want an error", in, got)
		}
	}
}

// The mount(8) calling convention: mount.fuse.s3mount SOURCE MOUNTPOINT
// [-s] [-n] [-v] -o OPTIONS, with options after the positionals.
func TestMountHelperCallingConvention(t *testing.T) {
	o, err := parseArgs("mount.fuse.s3mount", []string{
		"mybucket:backups", "/mnt/backups", "-n", "-s", "-v",
		"-o", "rw,nosuid,nodev,_netdev,user=alice,allow_other,uid=1000,gid=1000,umask=027,url=https://s3.example.org,use_path_request_style,endpoint=eu-central-1",
	}, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		Bucket: "mybucket", Prefix: "backups/", MountPoint: "/mnt/backups",
		EndpointURL: "https://s3.example.org", Region: "eu-central-1", ForcePathStyle: true,
		AllowOther: true, UID: 1000, GID: 1000, FileMode: 0o640, DirMode: 0o750,
		MetadataTTL: 60 * time.Second, NegativeMetadataTTL: 5 * time.Second, ListMetadata: "head", MaxRenameKeys: 100000,
		CacheSize: 192 << 20, BlockSize: 8 << 20, MaxConcurrency: 16, MaxRequests: 64, MaxRetries: 5, RequestTimeout: 2 * time.Minute,
	}
	if got := withoutWrite(o); got != want {
		t.Errorf("options:\n got %+v\nwant %+v", got, want)
	}
}

// The /etc/fstab line that --help shows must work as mount(8) would pass it.
func TestHelpFstabExampleParses(t *testing.T) {
	var line string
	for _, l := range strings.Split(usageTail, "\n") {
		if strings.Contains(l, "fuse.s3mount") {
			line = l
		}
	}
	f := strings.Fields(line)
	if len(f) != 6 || f[2] != "fuse.s3mount" {
		t.Fatalf("no fstab line in the help (found %q)", line)
	}
	o := parse(t, f[0], f[1], "-o", f[3])
	if o.Bucket != "mybucket" || o.MountPoint != "/mnt/data" || !o.AllowOther || !o.ForcePathStyle ||
		o.EndpointURL != "https://s3.example.org" {
		t.Errorf("fstab example parsed as %+v", *o)
	}
}

func TestHelpAndVersionStopParsing(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"-h", "too", "many", "args"}, {"b", "/mnt", "--block-size", "1", "--help"}} {
		o, err := parseArgs("s3mount", args, func(string) string { return "" })
		if err != nil || !o.ShowHelp {
			t.Errorf("parseArgs(%q) = %+v, %v; want ShowHelp", args, o, err)
		}
	}
	o := parse(t, "--version", "--block-size", "1")
	if !o.ShowVersion {
		t.Errorf("--version not set: %+v", *o)
	}
}

// FuzzSource checks BUCKET[:PREFIX] parsing, with and without --prefix.
func FuzzSource(f *testing.F) {
	f.Add("mybucket", "")
	f.Add("mybucket:photos/2024", "")
	f.Add("mybucket:", "photos")
	f.Add("mybucket:/a//b", "a//b/")
	f.Add("s3mount#b:x", "")
	f.Add(":x", "")
	f.Add("", "p")
	f.Add("Old_Bucket.v1-x:a:b:c", "")
	f.Add("b\x00:x", "")
	cwd, err := os.Getwd()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, source, prefix string) {
		o := &Options{Prefix: prefix}
		if err := parsePositional(o, []string{source, "mnt"}); err != nil {
			return
		}
		if o.MountPoint != filepath.Join(cwd, "mnt") {
			t.Errorf("mount point %q", o.MountPoint)
		}
		if err := checkBucketName(o.Bucket); err != nil {
			t.Fatalf("accepted bucket: %v", err)
		}
		if o.Prefix != "" && (!strings.HasSuffix(o.Prefix, "/") || strings.HasPrefix(o.Prefix, "/")) {
			t.Errorf("prefix %q must be empty or end, and not start, with /", o.Prefix)
		}
		src := strings.TrimPrefix(source, "s3mount#")
		bucket, p, hasPrefix := strings.Cut(src, ":")
		if o.Bucket != bucket {
			t.Errorf("bucket %q, want %q", o.Bucket, bucket)
		}
		if hasPrefix && o.Prefix != normalizePrefix(p) {
			t.Errorf("prefix %q, want %q", o.Prefix, normalizePrefix(p))
		}
		if !hasPrefix && o.Prefix != normalizePrefix(prefix) {
			t.Errorf("prefix %q, want --prefix %q normalized", o.Prefix, prefix)
		}
		// The result, written back as a source, parses to itself.
		again := &Options{}
		if err := parsePositional(again, []string{o.Bucket + ":" + o.Prefix, "mnt"}); err != nil {
			t.Fatalf("%q does not parse again: %v", o.Bucket+":"+o.Prefix, err)
		}
		if again.Bucket != o.Bucket || again.Prefix != o.Prefix {
			t.Errorf("round trip: %q %q became %q %q", o.Bucket, o.Prefix, again.Bucket, again.Prefix)
		}
	})
}

// FuzzParseTTL checks that an accepted TTL is never negative and that a
// duration written by Go reads back unchanged.
func FuzzParseTTL(f *testing.F) {
	for _, s := range []string{"60s", "0", "1.5", "minimal", "indefinite", "-1", "inf", "1e300", "NaN", "0x1p4", "1h2m3.5s", "9223372036"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseTTL("--metadata-ttl", s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--metadata-ttl ") {
				t.Errorf("error %q does not name the flag", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("parseTTL(%q) = %v, negative", s, d)
		}
		if back, err := parseTTL("--metadata-ttl", d.String()); err != nil || back != d {
			t.Errorf("parseTTL(%q) = %v, %v; want %v", d.String(), back, err, d)
		}
	})
}

// TestMetricsAddrNeedsHostAndPort: --metrics-addr (and -o metrics_addr=)
// takes HOST:PORT; no metrics are served by default.
func TestMetricsAddrNeedsHostAndPort(t *testing.T) {
	env := func(string) string { return "" }
	o, err := parseArgs("s3mount", []string{"b", "/mnt"}, env)
	if err != nil || o.MetricsAddr != "" {
		t.Fatalf("default: %q, %v", o.MetricsAddr, err)
	}
	for _, args := range [][]string{
		{"--metrics-addr", "127.0.0.1:9101", "b", "/mnt"},
		{"-o", "metrics_addr=127.0.0.1:9101", "b", "/mnt"},
	} {
		o, err := parseArgs("s3mount", args, env)
		if err != nil || o.MetricsAddr != "127.0.0.1:9101" {
			t.Errorf("%q: %+v, %v", args, o, err)
		}
	}
	for _, bad := range []string{"9101", "127.0.0.1", "127.0.0.1:"} {
		if _, err := parseArgs("s3mount", []string{"--metrics-addr", bad, "b", "/mnt"}, env); err == nil {
			t.Errorf("--metrics-addr %q accepted", bad)
		}
	}
}
