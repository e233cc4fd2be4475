package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"
)

// WriteOptions are the settings of the write path.
type WriteOptions struct {
	StagingDir        string
	PartSize          int64
	UploadConcurrency int
	MaxUploadMemory   int64
	UploadChecksum    string // "md5" or "off"
}

type writeFlagValues struct {
	partSize, maxUploadMemory string
}

func addWriteFlags(fs *pflag.FlagSet, o *WriteOptions, v *writeFlagValues) {
	fs.StringVar(&o.StagingDir, "staging-dir", defaultStagingDir(), "local directory for the bytes of files open for writing; data whose upload failed stays here")
	fs.StringVar(&v.partSize, "part-size", "8MiB", "size of the first multipart parts (later parts grow so that 10,000 parts reach 5 TiB)")
	fs.IntVar(&o.UploadConcurrency, "upload-concurrency", 4, "parts uploaded at once across the mount")
	fs.StringVar(&v.maxUploadMemory, "max-upload-memory", "256MiB", "bytes one file may have written but not yet uploaded before its writer waits")
	fs.StringVar(&o.UploadChecksum, "upload-checksum", "md5", "md5: send Content-MD5 with every upload, so the server verifies the bytes; off: do not")
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
