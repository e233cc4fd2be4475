package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// WriteOptions are the settings of the write path.
type WriteOptions struct {
	StagingDir        string
	PartSize          int64
	UploadConcurrency int
	MaxUploadMemory   int64
	UploadChecksum    string // "md5" or "off"

	SSE, SSEKMSKeyID string // server-side encryption of new objects
	SSECKeyFile      string // SSE-C key for every object of the mount
	StorageClass     string // of new objects
	ACL              string // canned ACL of new objects
	PresignExpiry    time.Duration
	RetryDelay       time.Duration // first background retry of an upload whose close failed
	MaxStagingSize   int64         // 0: only the free-space floor
	AsyncUpload      bool          // close returns once staged; uploads in the background
}

type writeFlagValues struct {
	partSize, maxUploadMemory, presignExpiry, retryDelay, maxStagingSize string
}

func addWriteFlags(fs *pflag.FlagSet, o *WriteOptions, v *writeFlagValues) {
	fs.StringVar(&o.StagingDir, "staging-dir", defaultStagingDir(), "local directory for the bytes of files open for writing; data whose upload failed stays here")
	fs.StringVar(&v.partSize, "part-size", "8MiB", "size of the first multipart parts (later parts grow so that 10,000 parts reach 5 TiB)")
	fs.IntVar(&o.UploadConcurrency, "upload-concurrency", 4, "parts uploaded at once across the mount")
	fs.StringVar(&v.maxUploadMemory, "max-upload-memory", "256MiB", "bytes one file may have written but not yet uploaded before its writer waits")
	fs.StringVar(&o.UploadChecksum, "upload-checksum", "md5", "md5: send Content-MD5 with every upload, so the server verifies the bytes; off: do not")
	fs.StringVar(&o.SSE, "sse", "", "server-side encryption of new objects: AES256 or aws:kms")
	fs.StringVar(&o.SSEKMSKeyID, "sse-kms-key-id", "", "KMS key for --sse aws:kms (default: the bucket's or account's)")
	fs.StringVar(&o.SSECKeyFile, "sse-c-key-file", "", "SSE-C key (32 bytes, raw or base64) for every read and write; file mode 0600; needs HTTPS")
	fs.StringVar(&o.StorageClass, "storage-class", "", "storage class of new objects, e.g. STANDARD_IA (default: the server's)")
	fs.StringVar(&o.ACL, "acl", "", "canned ACL of new objects, e.g. bucket-owner-full-control")
	fs.BoolVar(&o.AsyncUpload, "async-upload", false, "close returns once the bytes are staged (as on a local disk); uploads run in the background; fsync, `s3mount sync` and unmount wait for them")
	fs.StringVar(&v.maxStagingSize, "max-staging-size", "auto", "disk the staging files may use; auto: as much as leaves 5% of the staging file system free (always kept free)")
	fs.StringVar(&v.retryDelay, "upload-retry-delay", "5s", "wait before the mount retries, in the background, an upload whose close failed (doubling to 5m)")
	fs.StringVar(&v.presignExpiry, "presign-expiry", "1h", "how long the links read from the s3.presigned_url xattr stay valid (up to 7 days)")
}

func finishWriteOptions(o *WriteOptions, v *writeFlagValues) error {
	var err error
	if o.PartSize, err = parseSize(v.partSize); err != nil {
		return fmt.Errorf("--part-size: %w", err)
	}
	if o.MaxUploadMemory, err = parseSize(v.maxUploadMemory); err != nil {
		return fmt.Errorf("--max-upload-memory: %w", err)
	}
	switch {
	case o.PartSize < 5<<20 || o.PartSize > 5<<30 || o.PartSize%(1<<20) != 0:
		return fmt.Errorf("--part-size must be whole MiB between 5MiB and 5GiB")
	case o.UploadConcurrency < 1 || o.UploadConcurrency > 256:
		return fmt.Errorf("--upload-concurrency must be between 1 and 256")
	case o.MaxUploadMemory < o.PartSize:
		return fmt.Errorf("--max-upload-memory must hold at least one part (%d bytes)", o.PartSize)
	case o.UploadChecksum != "md5" && o.UploadChecksum != "off":
		return fmt.Errorf("--upload-checksum must be md5 or off, not %q", o.UploadChecksum)
	case o.StagingDir == "":
		return fmt.Errorf("--staging-dir must not be empty")
	case o.SSE != "" && o.SSE != "AES256" && o.SSE != "aws:kms":
		return fmt.Errorf("--sse must be AES256 or aws:kms, not %q", o.SSE)
	case o.SSEKMSKeyID != "" && o.SSE != "aws:kms":
		return fmt.Errorf("--sse-kms-key-id needs --sse aws:kms")
	case o.SSE != "" && o.SSECKeyFile != "":
		return fmt.Errorf("--sse and --sse-c-key-file exclude each other")
	case o.ACL != "" && !cannedACL[o.ACL]:
		return fmt.Errorf("--acl must be a canned ACL name (private, public-read, ...), not %q", o.ACL)
	}
	if o.PresignExpiry, err = time.ParseDuration(v.presignExpiry); err != nil || o.PresignExpiry < time.Second || o.PresignExpiry > 7*24*time.Hour {
		return fmt.Errorf("--presign-expiry must be a duration from 1s to 168h, not %q", v.presignExpiry)
	}
	if v.maxStagingSize != "auto" {
		if o.MaxStagingSize, err = parseSize(v.maxStagingSize); err != nil || o.MaxStagingSize < 1<<20 {
			return fmt.Errorf("--max-staging-size must be auto or a size of at least 1MiB, not %q", v.maxStagingSize)
		}
	}
	if o.RetryDelay, err = time.ParseDuration(v.retryDelay); err != nil || o.RetryDelay < 10*time.Millisecond || o.RetryDelay > time.Hour {
		return fmt.Errorf("--upload-retry-delay must be a duration from 10ms to 1h, not %q", v.retryDelay)
	}
	o.StagingDir, err = filepath.Abs(o.StagingDir)
	return err
}

// defaultStagingDir is on disk, not in /tmp (often memory), and stable
// across mounts, so that data kept after a failed upload is found again.
func defaultStagingDir() string {
	if dir, err := os.UserCacheDir(); err == nil {
		return filepath.Join(dir, "s3mount", "staging")
	}
	return "/var/tmp/s3mount-staging"
}

var cannedACL = map[string]bool{
	"private": true, "public-read": true, "public-read-write": true, "authenticated-read": true,
	"aws-exec-read": true, "bucket-owner-read": true, "bucket-owner-full-control": true,
}

// readSSECKey reads an SSE-C key file: 32 raw bytes, or their base64. Like
// the password file, it is refused when others may read it. The key is
// never part of an error.
func readSSECKey(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("SSE-C key file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("SSE-C key file %s is readable by group or others (mode %04o): chmod 600 it", path, st.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("SSE-C key file: %w", err)
	}
	if len(data) == 32 {
		return data, nil
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("SSE-C key file %s holds neither 32 bytes nor the base64 of 32 bytes", path)
	}
	return key, nil
}
