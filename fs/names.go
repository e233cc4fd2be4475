package fs

import (
	"crypto/rand"
	"strconv"
	"unicode/utf8"
)

// maxNameLen is the longest file name Linux accepts (NAME_MAX).
const maxNameLen = 255

// maxKeyLen is S3's limit on a key's length in bytes. A path whose key
// would be longer is ENAMETOOLONG, as a path over PATH_MAX is, checked
// before any request (S3 would answer KeyTooLongError, an EINVAL).
const maxKeyLen = 1024

// nameProblem says why an S3 key segment cannot be a file name, or "" when
// it can. Invalid UTF-8 is allowed: Linux names are bytes.
func nameProblem(name string) string {
	switch {
	case name == "":
		return "empty path segment (\"//\" in the key)"
	case name == "." || name == "..":
		return "\".\" or \"..\" segment"
	case len(name) > maxNameLen:
		return "segment longer than 255 bytes"
	}
	for i := 0; i < len(name); i++ {
		if name[i] == 0 {
			return "NUL byte in segment"
		}
	}
	return ""
}

// printableKey quotes a key for log lines when it holds control bytes or
// invalid UTF-8, so a hostile key cannot forge log output.
func printableKey(key string) string {
	if !utf8.ValidString(key) {
		return strconv.Quote(key)
	}
	for _, r := range key {
		if r < 0x20 || r == 0x7f {
			return strconv.Quote(key)
		}
	}
	return key
}

// parkDir is the directory, under the mount's root, where the server keeps
// copies of removed files that are still open until their last close (see
// writeback.File.Detach). It is never shown.
const parkDir = ".s3mount-unlinked"

// parkPrefix is the key prefix of parkDir.
func (f *FS) parkPrefix() string {
	root := ""
	if f.cfg.Bucket != "" {
		root = f.cfg.Prefix
	}
	return root + parkDir + "/"
}

// parkKey is a new key in parkDir.
func (f *FS) parkKey() string {
	return f.parkPrefix() + rand.Text()
}
