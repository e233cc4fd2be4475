package fs

import (
	"log/slog"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// Config is what the node tree needs to know about the mount.
type Config struct {
	// Bucket is the mounted bucket, or "" when every bucket is a directory
	// of the root.
	Bucket string
	// Prefix limits a bucket mount to keys under it ("" or ending in "/").
	Prefix string

	ReadOnly bool
	UID, GID uint32
	// FileMode and DirMode are permission bits (no type bits) used when an
	// object carries no s3fs mode metadata.
	FileMode, DirMode uint32
	// RootMode, when set, is the permission bits of the directory of
	// buckets (a user's directory of a --per-user mount is 0700).
	RootMode uint32

	// MetadataTTL is how long attributes and directory entries are trusted,
	// by s3mount and by the kernel; NegativeTTL the same for "no such file".
	MetadataTTL, NegativeTTL time.Duration

	// ReadOptions are applied to every read (SSE-C keys, for instance).
	ReadOptions s3io.ReadOptions
	// CacheSSEC lets the blocks of objects read with an SSE-C key go to
	// the disk cache (--cache-sse-c); they are stored decrypted.
	CacheSSEC bool

	// Region is where mkdir in the all-buckets root creates buckets.
	Region string
	// PresignExpiry is how long s3.presigned_url links stay valid.
	PresignExpiry time.Duration
	// Unsigned mounts (--no-sign-request) have no keys to sign a URL
	// with: files have no s3.presigned_url.
	Unsigned bool
	// NoListMetadata skips the HEAD per listed object that gives listings
	// their type, mode and mtime (--list-metadata=none).
	NoListMetadata bool
	// MaxRenameKeys bounds the keys a directory rename copies on the
	// server; a bigger tree gives EXDEV, so that mv copies it file by
	// file, visibly (0: no bound).
	MaxRenameKeys int
	// AsyncUpload: close returns once the bytes are staged; uploads run
	// in the background (fsync, s3.sync and unmount wait for them).
	AsyncUpload bool
	// Status, when set, makes the text of the root's s3.status xattr
	// (`s3mount status`), readable only by the daemon's user and root.
	Status func() []byte

	Logger *slog.Logger
}
