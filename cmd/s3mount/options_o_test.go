package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// withO parses "-o opts" for a fixed bucket and mount point.
func withO(opts string) (*Options, error) {
	return parseArgs("s3mount", []string{"-o", opts, "mybucket", "/mnt/data"}, func(string) string { return "" })
}

func TestMountOptionsSetTheirFields(t *testing.T) {
	tests := []struct {
		opts  string
		check func(*Options) bool
	}{
		{"ro", func(o *Options) bool { return o.ReadOnly }},
		{"read_only", func(o *Options) bool { return o.ReadOnly }},
		{"read-only=true", func(o *Options) bool { return o.ReadOnly }},
		{"ro,read_only=false", func(o *Options) bool { return !o.ReadOnly }},
		{"rw", func(o *Options) bool { return !o.ReadOnly }},
		{"allow_other", func(o *Options) bool { return o.AllowOther && !o.AllowRoot }},
		{"allow_root", func(o *Options) bool { return o.AllowRoot && !o.AllowOther }},
		{"nonempty", func(o *Options) bool { return o.AllowNonEmpty }},
		{"uid=1000,gid=2000", func(o *Options) bool { return o.UID == 1000 && o.GID == 2000 }},
		{"uid=0", func(o *Options) bool { return o.UID == 0 }},
		{"umask=022", func(o *Options) bool { return o.FileMode == 0o644 && o.DirMode == 0o755 }},
		{"umask=0077", func(o *Options) bool { return o.FileMode == 0o600 && o.DirMode == 0o700 }},
		{"umask=0", func(o *Options) bool { return o.FileMode == 0o666 && o.DirMode == 0o777 }},
		{"umask=777", func(o *Options) bool { return o.FileMode == 0 && o.DirMode == 0 }},
		{"file_mode=0400,dir_mode=0500", func(o *Options) bool { return o.FileMode == 0o400 && o.DirMode == 0o500 }},
		{"url=https://s3.example.org:8443/api", func(o *Options) bool { return o.EndpointURL == "https://s3.example.org:8443/api" }},
		{"endpoint_url=http://[::1]:9000", func(o *Options) bool { return o.EndpointURL == "http://[::1]:9000" }},
		{"url=http://h/?a=b=c", func(o *Options) bool { return o.EndpointURL == "http://h/?a=b=c" }},
		{"endpoint=eu-west-3", func(o *Options) bool { return o.Region == "eu-west-3" }},
		{"region=us-east-2", func(o *Options) bool { return o.Region == "us-east-2" }},
		{"use_path_request_style", func(o *Options) bool { return o.ForcePathStyle }},
		{"force_path_style", func(o *Options) bool { return o.ForcePathStyle }},
		{"passwd_file=/etc/passwd-s3fs", func(o *Options) bool { return o.PasswdFile == "/etc/passwd-s3fs" }},
		{"credentials_command=s3info keys --machine-output", func(o *Options) bool {
			return o.CredentialsCommand == "s3info keys --machine-output"
		}},
		{"no_sign_request,profile=work,ca_bundle=/ca.pem", func(o *Options) bool {
			return o.NoSignRequest && o.Profile == "work" && o.CABundle == "/ca.pem"
		}},
		{"cache_size=2GiB,block_size=16MiB", func(o *Options) bool { return o.CacheSize == 2<<30 && o.BlockSize == 16<<20 }},
		{"metadata_ttl=indefinite,negative_metadata_ttl=0", func(o *Options) bool {
			return o.MetadataTTL == 100*365*24*time.Hour && o.NegativeMetadataTTL == 0
		}},
		{"max_concurrency=64,max_retries=3", func(o *Options) bool { return o.MaxConcurrency == 64 && o.MaxRetries == 3 }},
		{"prefix=logs", func(o *Options) bool { return o.Prefix == "logs/" }},
		{"fsname=s3:x,log_file=/tmp/l,debug,foreground", func(o *Options) bool {
			return o.FSName == "s3:x" && o.LogFile == "/tmp/l" && o.Debug && o.Foreground
		}},
		{",,ro,,", func(o *Options) bool { return o.ReadOnly }},
		{"", func(o *Options) bool { return !o.ReadOnly && o.UID == uint32(os.Getuid()) }},
	}
	for _, tt := range tests {
		t.Run(tt.opts, func(t *testing.T) {
			o, err := withO(tt.opts)
			if err != nil {
				t.Fatalf("-o %q: %v", tt.opts, err)
			}
			if !tt.check(o) {
				t.Errorf("-o %q gave %+v", tt.opts, *o)
			}
		})
	}
}

func TestMountOptionsMayRepeatAndComeLast(t *testing.T) {
	o := parse(t, "mybucket", "/mnt/data", "-o", "ro", "-o", "uid=7", "--options", "gid=8", "-oallow_other")
	if !o.ReadOnly || o.UID != 7 || o.GID != 8 || !o.AllowOther {
		t.Errorf("options: %+v", *o)
	}
	// -o comes after the flags, whatever the order on the command line.
	o = parse(t, "-o", "uid=7", "--uid", "9", "mybucket", "/mnt/data")
	if o.UID != 7 {
		t.Errorf("uid %d, want the -o value 7", o.UID)
	}
}

func TestGenericFstabOptionsAreIgnored(t *testing.T) {
	base := parse(t, "mybucket", "/mnt/data")
	for _, opt := range []string{
		"defaults", "auto", "noauto", "user", "users", "nouser", "user=alice", "_netdev", "nofail",
		"dev", "nodev", "suid", "nosuid", "exec", "noexec", "atime", "noatime", "relatime", "strictatime",
		"nodiratime", "sync", "async", "rw", "default_permissions", "ssl_verify_hostname",
		"x-systemd.automount", "x-systemd.requires=network-online.target", "x-systemd.idle-timeout=60",
		"comment=systemd.automount", "comment",
	} {
		o, err := withO(opt)
		if err != nil {
			t.Errorf("-o %s: %v", opt, err)
			continue
		}
		if *o != *base {
			t.Errorf("-o %s changed the options:\n got %+v\nwant %+v", opt, *o, *base)
		}
	}
}

// Every -o name that --help lists must be accepted.
func TestMountOptionsListedInHelpAreAccepted(t *testing.T) {
	for _, opt := range []string{"ro", "rw", "allow_other", "allow_root", "nonempty", "uid=1", "gid=1",
		"umask=022", "url=http://x", "endpoint=r", "use_path_request_style", "passwd_file=/p",
		"defaults", "_netdev", "nofail", "noauto", "x-systemd.foo"} {
		name, _, _ := strings.Cut(opt, "=")
		if !strings.Contains(usageTail, strings.TrimSuffix(name, "foo")) {
			t.Errorf("--help does not mention %s", name)
		}
		if _, err := withO(opt); err != nil {
			t.Errorf("-o %s: %v", opt, err)
		}
	}
}

func TestS3fsAliasesNameVisibleFlags(t *testing.T) {
	fs := newFlagSet(&Options{}, &flagValues{})
	for alias, name := range s3fsAliases {
		f := fs.Lookup(name)
		if f == nil || f.Hidden {
			t.Errorf("-o %s maps to --%s, which is not a flag", alias, name)
		}
	}
	for name := range ignoredMountOptions {
		if fs.Lookup(strings.ReplaceAll(name, "_", "-")) != nil {
			t.Errorf("ignored mount option %s hides the flag of the same name", name)
		}
	}
}

func TestBadMountOptionsAreRefused(t *testing.T) {
	tests := []struct {
		opts, want string
	}{
		{"bogus", "-o bogus: unknown mount option"},
		{"ro,bogus=1", "-o bogus: unknown mount option"},
		{"help", "-o help: unknown mount option"},
		{"version", "-o version: unknown mount option"},
		{"options=ro", "-o options: unknown mount option"},
		{"mount_n", "-o mount_n: unknown mount option"},
		{"f", "-o f: unknown mount option"},
		{"mp_umask=022", "-o mp_umask: unknown mount option"},
		{"uid", "-o uid: needs a value (uid=...)"},
		{"url", "-o url: needs a value (url=...)"},
		{"uid=alice", "-o uid=alice:"},
		{"uid=-1", "-o uid=-1:"},
		{"gid=4294967296", "-o gid=4294967296:"},
		{"ro=maybe", "-o ro=maybe:"},
		{"umask", "-o umask=: want octal bits such as 022"},
		{"umask=", "-o umask=: want octal bits such as 022"},
		{"umask=1000", "-o umask=1000: want octal bits"},
		{"umask=08", "-o umask=08: want octal bits"},
		{"file_mode=rw", `--file-mode "rw"`},
		{"block_size=1k", "--block-size must be between 64KiB and 1GiB"},
		{"cache_size=nope", `--cache-size: size "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.opts, func(t *testing.T) {
			o, err := withO(tt.opts)
			if err == nil {
				t.Fatalf("-o %q = %+v, want an error", tt.opts, *o)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("-o %q: error %q does not contain %q", tt.opts, err, tt.want)
			}
		})
	}
}

func TestSecretsAsMountOptionsAreRefusedWithoutEcho(t *testing.T) {
	const secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	for name := range secretOptions {
		for _, opts := range []string{name + "=" + secret, "ro," + name + "=" + secret + ",allow_other", name} {
			_, err := withO(opts)
			if err == nil {
				t.Fatalf("-o %s accepted", opts)
			}
			msg := err.Error()
			if strings.Contains(msg, secret) || strings.Contains(msg, "EXAMPLEKEY") {
				t.Errorf("-o %s: the error shows the secret: %q", name, msg)
			}
			if !strings.Contains(msg, "-o "+name+": secrets are not accepted") {
				t.Errorf("-o %s: error %q does not say why", name, msg)
			}
		}
	}
}

// mountOptsFor writes every field that -o can set, except the write-path
// settings, as one -o argument.
func mountOptsFor(o *Options) string {
	b := strconv.FormatBool
	return strings.Join([]string{
		"endpoint_url=" + o.EndpointURL, "region=" + o.Region, "profile=" + o.Profile,
		"force_path_style=" + b(o.ForcePathStyle), "no_sign_request=" + b(o.NoSignRequest),
		"passwd_file=" + o.PasswdFile, "ca_bundle=" + o.CABundle, "prefix=" + o.Prefix,
		"read_only=" + b(o.ReadOnly), "foreground=" + b(o.Foreground), "debug=" + b(o.Debug),
		"allow_other=" + b(o.AllowOther), "allow_root=" + b(o.AllowRoot), "allow_non_empty=" + b(o.AllowNonEmpty),
		fmt.Sprintf("uid=%d", o.UID), fmt.Sprintf("gid=%d", o.GID),
		fmt.Sprintf("file_mode=%o", o.FileMode), fmt.Sprintf("dir_mode=%o", o.DirMode),
		"metadata_ttl=" + o.MetadataTTL.String(), "negative_metadata_ttl=" + o.NegativeMetadataTTL.String(),
		fmt.Sprintf("cache_size=%d", o.CacheSize), fmt.Sprintf("block_size=%d", o.BlockSize),
		fmt.Sprintf("max_concurrency=%d", o.MaxConcurrency), fmt.Sprintf("max_requests=%d", o.MaxRequests),
		fmt.Sprintf("max_retries=%d", o.MaxRetries),
		"log_file=" + o.LogFile, "fsname=" + o.FSName,
	}, ",")
}

func TestMountOptionsRoundTrip(t *testing.T) {
	o := parse(t, "--region", "r", "--uid", "5", "--file-mode", "0600", "--metadata-ttl", "1.5",
		"--cache-size", "3GiB", "--read-only", "--log-file", "/l", "mybucket:p", "/mnt/data")
	again, err := withO(mountOptsFor(o))
	if err != nil {
		t.Fatal(err)
	}
	if *again != *o {
		t.Errorf("round trip:\n got %+v\nwant %+v", *again, *o)
	}
}

// FuzzMountOptions parses arbitrary -o strings. Invariants: no panic; a
// secret option is always refused and its value never shown; every error
// names -o or the flag at fault; an accepted result, written back as -o,
// parses to itself.
func FuzzMountOptions(f *testing.F) {
	for _, s := range []string{
		"ro", "rw,allow_other,uid=1000,gid=1000,umask=022", "url=http://127.0.0.1:9000,use_path_request_style",
		"endpoint=eu-west-1,passwd_file=/etc/passwd-s3fs", "defaults,_netdev,noauto,user,x-systemd.automount",
		"secret_access_key=abc", "ro,aws_access_key_id=AKIA,nonempty", "bogus", "uid", "umask=999",
		"cache_size=64MiB,block_size=64KiB", "metadata_ttl=inf", ",,=,", "=x", "prefix=/a//b",
		"file_mode=7777,dir_mode=0", "read_only=0,allow_root=t",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := withO(s)
		// The same input with every secret value replaced: an error must
		// read the same, or it depends on (shows) the secret.
		segs := strings.Split(s, ",")
		hasSecret := false
		for i, seg := range segs {
			if name, _, ok := strings.Cut(seg, "="); ok && secretOptions[name] {
				segs[i] = name + "=REDACTED"
			}
			name, _, _ := strings.Cut(seg, "=")
			hasSecret = hasSecret || secretOptions[name]
		}
		if err != nil {
			msg := err.Error()
			if !strings.HasPrefix(msg, "-o ") && !strings.HasPrefix(msg, "--") {
				t.Errorf("error %q names neither -o nor a flag", msg)
			}
			_, err2 := withO(strings.Join(segs, ","))
			if err2 == nil || err2.Error() != msg {
				t.Errorf("the error depends on a secret value: %q, but %v with the secrets replaced", msg, err2)
			}
			return
		}
		if hasSecret {
			t.Fatalf("-o %q with a secret was accepted", s)
		}
		if o.Bucket != "mybucket" || o.MountPoint != "/mnt/data" {
			t.Errorf("-o changed the positionals: %+v", *o)
		}
		if o.FileMode > 0o7777 || o.DirMode > 0o7777 {
			t.Errorf("modes %o %o out of range", o.FileMode, o.DirMode)
		}
		if strings.ContainsRune(o.EndpointURL+o.Region+o.Profile+o.PasswdFile+o.CABundle+o.LogFile+o.FSName, ',') {
			t.Errorf("a value holds the separator: %+v", *o)
		}
		// Every flag's resulting value, written as -o, gives the same options.
		flagOpts := mountOptsFromFlags(t, s)
		again, err := withO(flagOpts)
		if err != nil {
			t.Fatalf("-o %q (from %q) does not parse again: %v", flagOpts, s, err)
		}
		if *again != *o {
			t.Errorf("round trip of %q through %q:\n got %+v\nwant %+v", s, flagOpts, *again, *o)
		}
		// So do the parsed values, written under their documented names.
		again, err = withO(mountOptsFor(o))
		if err != nil {
			t.Fatalf("-o %q (from %q) does not parse again: %v", mountOptsFor(o), s, err)
		}
		if withoutWrite(again) != withoutWrite(o) {
			t.Errorf("round trip of %q:\n got %+v\nwant %+v", s, *again, *o)
		}
	})
}

// mountOptsFromFlags applies s to a fresh flag set and writes the value of
// every flag that -o may set back as one -o argument.
func mountOptsFromFlags(t *testing.T, s string) string {
	t.Helper()
	var o Options
	var v flagValues
	fs := newFlagSet(&o, &v)
	if err := applyMountOptions(fs, &o, &v, s); err != nil {
		t.Fatalf("-o %q: %v", s, err)
	}
	var opts []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "help" || f.Name == "version" || f.Name == "options" {
			return
		}
		opts = append(opts, strings.ReplaceAll(f.Name, "-", "_")+"="+f.Value.String())
	})
	return strings.Join(opts, ",")
}
