package main

import (
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// Exit codes: a documented contract (see --help).
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitMountPoint  = 3
	exitCredentials = 4
	exitNoBucket    = 5
	exitUnreachable = 6
	exitFUSE        = 7
)

// Options is everything the command line says.
type Options struct {
	Bucket     string // "" mounts every bucket
	Prefix     string // "" or ends with "/"
	MountPoint string

	EndpointURL, Region, Profile  string
	ForcePathStyle, NoSignRequest bool
	PasswdFile, CABundle          string
	// CredentialsCommand is run with sh -c for keys (credcmd).
	CredentialsCommand string

	ReadOnly, AllowOther, AllowRoot, AllowNonEmpty, Foreground, Debug bool
	// PerUser: MOUNTPOINT/USER for each user, with their own keys.
	PerUser bool

	UID, GID          uint32
	FileMode, DirMode uint32

	MetadataTTL, NegativeMetadataTTL time.Duration
	// ListMetadata is "head" (a HEAD per listed object gives listings their
	// type, mode and mtime) or "none".
	ListMetadata               string
	MaxRenameKeys              int
	CacheSize, BlockSize       int64
	MaxConcurrency, MaxRetries int
	// MaxRequests is the ceiling of S3 requests in flight at once, of
	// every kind together.
	MaxRequests int
	// CacheDir holds the disk cache ("" for none); CacheDirSize bounds it
	// (0: only the 5 % free-space floor).
	CacheDir       string
	CacheDirSize   int64
	CacheSSEC      bool
	RequestTimeout time.Duration

	Write WriteOptions

	// MetricsAddr is where /metrics is served ("": nowhere).
	MetricsAddr string

	LogFile, FSName       string
	ShowVersion, ShowHelp bool
}

// flagValues are the raw flag strings that need parsing after pflag.
type flagValues struct {
	fileMode, dirMode, metadataTTL, negativeTTL, cacheSize, blockSize string
	cacheDirSize                                                      string
	mountOpts                                                         []string
	write                                                             writeFlagValues
}

func newFlagSet(o *Options, v *flagValues) *pflag.FlagSet {
	fs := pflag.NewFlagSet("s3mount", pflag.ContinueOnError)
	fs.SetInterspersed(true)
	fs.Usage = func() {}
	fs.StringVar(&o.EndpointURL, "endpoint-url", "", "S3 endpoint URL, e.g. http://127.0.0.1:9000 or https://rgw.example.org/api/v1/s3 (default: AWS)")
	fs.StringVar(&o.Region, "region", "", "region (default: from the AWS configuration, else us-east-1)")
	fs.StringVar(&o.Profile, "profile", "", "profile of ~/.aws/credentials and ~/.aws/config")
	fs.BoolVar(&o.ForcePathStyle, "force-path-style", false, "path-style URLs (http://host/bucket/key); most non-AWS servers need it")
	fs.BoolVar(&o.NoSignRequest, "no-sign-request", false, "send anonymous requests (public buckets)")
	fs.StringVar(&o.PasswdFile, "passwd-file", "", "s3fs-style credentials file: ACCESS:SECRET or BUCKET:ACCESS:SECRET lines (SECRET may be empty), mode 0600")
	fs.StringVar(&o.CredentialsCommand, "credentials-command", "", "run this (with sh -c) for keys, at mount, before they expire and when S3 rejects them; it prints ACCESS SECRET [SESSION_TOKEN] on one line or credential_process JSON")
	fs.StringVar(&o.CABundle, "ca-bundle", "", "PEM file of extra trusted CAs (AWS_CA_BUNDLE works too)")
	fs.StringVar(&o.Prefix, "prefix", "", "mount only the keys under this prefix")
	fs.BoolVar(&o.ReadOnly, "read-only", false, "mount read-only")
	fs.BoolVarP(&o.Foreground, "foreground", "f", false, "stay in the foreground")
	fs.Uint32Var(&o.UID, "uid", uint32(os.Getuid()), "owner of files and directories")
	fs.Uint32Var(&o.GID, "gid", uint32(os.Getgid()), "group of files and directories")
	fs.StringVar(&v.fileMode, "file-mode", "0644", "permission bits of files")
	fs.StringVar(&v.dirMode, "dir-mode", "0755", "permission bits of directories")
	fs.BoolVar(&o.AllowOther, "allow-other", false, "let other users use the mount (needs user_allow_other in /etc/fuse.conf unless root)")
	fs.BoolVar(&o.PerUser, "per-user", false, "run by root with --allow-other and no bucket: each user gets MOUNTPOINT/$USER (0700), the buckets of their own keys (~/.passwd-s3fs, else --credentials-command run as them)")
	fs.BoolVar(&o.AllowRoot, "allow-root", false, "let root use the mount")
	fs.BoolVar(&o.AllowNonEmpty, "allow-non-empty", false, "mount over a non-empty directory")
	fs.StringVar(&v.metadataTTL, "metadata-ttl", "60s", "how long attributes and entries are trusted: a duration, seconds, \"minimal\" (1s) or \"indefinite\"")
	fs.StringVar(&v.negativeTTL, "negative-metadata-ttl", "5s", "how long a missing name is trusted")
	fs.IntVar(&o.MaxRenameKeys, "max-rename-keys", 100000, "largest directory (in keys) that rename copies on the server; a bigger one gives EXDEV and mv copies it file by file (0: no limit)")
	fs.StringVar(&o.ListMetadata, "list-metadata", "head", "head: a HEAD per listed object and directory (in parallel), so ls -l shows symlinks, modes and mtimes as stored; none: listings show the defaults until a file or directory is looked up")
	fs.StringVar(&v.cacheSize, "cache-size", "192MiB", "memory for cached and read-ahead blocks (the kernel page cache keeps what was read, too)")
	fs.StringVar(&v.blockSize, "block-size", "8MiB", "bytes per cached block and read-ahead request")
	fs.StringVar(&o.CacheDir, "cache-dir", "", "keep read blocks on local disk here, across mounts (mode 0700; bytes stored unencrypted)")
	fs.StringVar(&v.cacheDirSize, "cache-dir-size", "auto", "disk the --cache-dir blocks may use; auto: as much as leaves 5% of its file system free (always kept free)")
	fs.BoolVar(&o.CacheSSEC, "cache-sse-c", false, "let --cache-dir keep blocks of objects read with an SSE-C key (stored decrypted)")
	fs.IntVar(&o.MaxConcurrency, "max-concurrency", 16, "concurrent S3 requests for reading")
	fs.IntVar(&o.MaxRequests, "max-requests", 64, "S3 requests in flight at once, of every kind together (reads, uploads, listings, lookups, renames); the limits above apply beneath it")
	fs.IntVar(&o.MaxRetries, "max-retries", 5, "attempts per S3 request, first included")
	fs.DurationVar(&o.RequestTimeout, "request-timeout", 2*time.Minute, "how long an S3 request may wait for an answer before it is retried")
	addWriteFlags(fs, &o.Write, &v.write)
	fs.BoolVar(&o.Debug, "debug", false, "log every S3 request (never a secret)")
	fs.StringVar(&o.LogFile, "log-file", "", "log here (default: stderr in the foreground, syslog in the background)")
	fs.StringVar(&o.MetricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics, e.g. 127.0.0.1:9101; unauthenticated: keep it on loopback unless a firewall guards it")
	fs.StringVar(&o.FSName, "fsname", "", "file system name shown by mount and df (default s3mount:BUCKET)")
	fs.BoolVar(&o.ShowVersion, "version", false, "print the version")
	fs.BoolVarP(&o.ShowHelp, "help", "h", false, "print this help")
	fs.StringArrayVarP(&v.mountOpts, "options", "o", nil, "mount options, comma-separated (see below)")
	// mount(8) passes these to helpers; they mean nothing here.
	for _, name := range []string{"n", "s", "v"} {
		fs.BoolP("mount-"+name, name, false, "")
		_ = fs.MarkHidden("mount-" + name)
	}
	return fs
}

// parseArgs parses the command line. progName is the base name of argv[0].
func parseArgs(progName string, args []string, getenv func(string) string) (*Options, error) {
	o := &Options{}
	var v flagValues
	fs := newFlagSet(o, &v)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			o.ShowHelp = true
			return o, nil
		}
		return nil, err
	}
	if o.ShowHelp || o.ShowVersion {
		return o, nil
	}
	for _, s := range v.mountOpts {
		if err := applyMountOptions(fs, o, &v, s); err != nil {
			return nil, err
		}
	}
	if err := finishOptions(o, &v, fs.Args()); err != nil {
		return nil, err
	}
	if o.PerUser {
		if err := checkPerUser(o, fs.Changed); err != nil {
			return nil, err
		}
	}
	return o, nil
}

func finishOptions(o *Options, v *flagValues, pos []string) error {
	var err error
	if o.FileMode, err = parseMode("--file-mode", v.fileMode); err != nil {
		return err
	}
	if o.DirMode, err = parseMode("--dir-mode", v.dirMode); err != nil {
		return err
	}
	if o.MetadataTTL, err = parseTTL("--metadata-ttl", v.metadataTTL); err != nil {
		return err
	}
	if o.NegativeMetadataTTL, err = parseTTL("--negative-metadata-ttl", v.negativeTTL); err != nil {
		return err
	}
	if o.MaxRenameKeys < 0 {
		return fmt.Errorf("--max-rename-keys must not be negative")
	}
	if o.ListMetadata != "head" && o.ListMetadata != "none" {
		return fmt.Errorf("--list-metadata must be head or none, not %q", o.ListMetadata)
	}
	if o.CacheSize, err = parseSize(v.cacheSize); err != nil {
		return fmt.Errorf("--cache-size: %w", err)
	}
	if o.BlockSize, err = parseSize(v.blockSize); err != nil {
		return fmt.Errorf("--block-size: %w", err)
	}
	switch {
	case o.BlockSize < 64<<10 || o.BlockSize > 1<<30:
		return fmt.Errorf("--block-size must be between 64KiB and 1GiB")
	case o.CacheSize < 2*o.BlockSize:
		return fmt.Errorf("--cache-size must hold at least two blocks (2 x %d bytes)", o.BlockSize)
	case o.MaxConcurrency < 1 || o.MaxConcurrency > 1024:
		return fmt.Errorf("--max-concurrency must be between 1 and 1024")
	case o.MaxRequests < 1 || o.MaxRequests > 4096:
		return fmt.Errorf("--max-requests must be between 1 and 4096")
	case o.MaxRetries < 1 || o.MaxRetries > 100:
		return fmt.Errorf("--max-retries must be between 1 and 100")
	}
	switch {
	case o.CredentialsCommand != "" && o.PasswdFile != "":
		return errors.New("--credentials-command and --passwd-file: give one source of keys")
	case o.CredentialsCommand != "" && o.NoSignRequest:
		return errors.New("--credentials-command and --no-sign-request: anonymous requests need no keys")
	case o.CredentialsCommand != "" && strings.TrimSpace(o.CredentialsCommand) == "":
		return errors.New("--credentials-command is empty")
	}
	if o.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(o.MetricsAddr); err != nil || port == "" {
			return fmt.Errorf("--metrics-addr %q: want HOST:PORT, e.g. 127.0.0.1:9101", o.MetricsAddr)
		}
	}
	if err := finishWriteOptions(&o.Write, &v.write); err != nil {
		return err
	}
	if err := parsePositional(o, pos); err != nil {
		return err
	}
	return finishCacheDir(o, v)
}

// finishCacheDir checks the disk cache flags. The directory's own checks
// (private, not in use) come at mount time.
func finishCacheDir(o *Options, v *flagValues) error {
	if o.CacheDir == "" {
		switch {
		case v.cacheDirSize != "auto":
			return errors.New("--cache-dir-size needs --cache-dir")
		case o.CacheSSEC:
			return errors.New("--cache-sse-c needs --cache-dir")
		}
		return nil
	}
	if v.cacheDirSize != "auto" {
		var err error
		if o.CacheDirSize, err = parseSize(v.cacheDirSize); err != nil || o.CacheDirSize < 2*o.BlockSize {
			return fmt.Errorf("--cache-dir-size must be auto or a size of at least two blocks (2 x %d bytes), not %q", o.BlockSize, v.cacheDirSize)
		}
	}
	dir, err := filepath.Abs(o.CacheDir)
	if err != nil {
		return fmt.Errorf("--cache-dir: %w", err)
	}
	o.CacheDir = filepath.Clean(dir)
	if within(o.CacheDir, o.MountPoint) {
		return fmt.Errorf("--cache-dir %s is inside the mount point %s", o.CacheDir, o.MountPoint)
	}
	if within(o.CacheDir, o.Write.StagingDir) || within(o.Write.StagingDir, o.CacheDir) {
		return fmt.Errorf("--cache-dir %s and --staging-dir %s must not contain each other", o.CacheDir, o.Write.StagingDir)
	}
	return nil
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// parsePositional reads BUCKET[:PREFIX] MOUNTPOINT, or MOUNTPOINT alone.
func parsePositional(o *Options, pos []string) error {
	var source string
	switch len(pos) {
	case 1:
		o.MountPoint = pos[0]
	case 2:
		source, o.MountPoint = pos[0], pos[1]
	case 0:
		return errors.New("missing mount point")
	default:
		return fmt.Errorf("too many arguments: %q", pos[2:])
	}
	source = strings.TrimPrefix(source, "s3mount#") // old fuse fstab style
	// An empty argument (an unset shell variable) must not silently mean
	// "every bucket" or "the current directory".
	if len(pos) == 2 && source == "" {
		return errors.New("empty bucket name (give only MOUNTPOINT to mount every bucket)")
	}
	if o.MountPoint == "" {
		return errors.New("empty mount point")
	}
	bucket, prefix, hasPrefix := strings.Cut(source, ":")
	if source != "" {
		if err := checkBucketName(bucket); err != nil {
			return err
		}
		o.Bucket = bucket
	}
	if hasPrefix {
		if o.Prefix != "" && normalizePrefix(o.Prefix) != normalizePrefix(prefix) {
			return fmt.Errorf("--prefix %q disagrees with %q", o.Prefix, source)
		}
		o.Prefix = prefix
	}
	if o.Prefix != "" && o.Bucket == "" {
		return errors.New("--prefix needs a bucket")
	}
	o.Prefix = normalizePrefix(o.Prefix)
	mp, err := filepath.Abs(o.MountPoint)
	if err != nil {
		return fmt.Errorf("mount point: %w", err)
	}
	o.MountPoint = mp
	return nil
}

func normalizePrefix(p string) string {
	p = strings.TrimLeft(p, "/")
	if p != "" && !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

// checkBucketName accepts S3's rules loosely: legacy Ceph buckets may hold
// capitals and underscores.
func checkBucketName(b string) error {
	if len(b) < 1 || len(b) > 255 {
		return fmt.Errorf("bucket name %q: must be 1 to 255 characters", b)
	}
	for _, r := range b {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_') {
			return fmt.Errorf("bucket name %q: %q is not allowed (letters, digits, '.', '-', '_')", b, r)
		}
	}
	return nil
}

func parseMode(flag, s string) (uint32, error) {
	m, err := strconv.ParseUint(s, 8, 32)
	if err != nil || m > 0o7777 {
		return 0, fmt.Errorf("%s %q: want octal permission bits such as 0644", flag, s)
	}
	return uint32(m), nil
}

// parseTTL accepts a Go duration, plain seconds, "minimal" or "indefinite".
func parseTTL(flag, s string) (time.Duration, error) {
	switch s {
	case "minimal":
		return time.Second, nil
	case "indefinite":
		return 100 * 365 * 24 * time.Hour, nil
	}
	// "inf" and huge numbers would overflow into a negative TTL.
	if n, err := strconv.ParseFloat(s, 64); err == nil && n >= 0 && n*float64(time.Second) < math.MaxInt64 {
		return time.Duration(n * float64(time.Second)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%s %q: want a duration such as 60s, seconds, \"minimal\" or \"indefinite\"", flag, s)
	}
	return d, nil
}
