package fs

import (
	"syscall"
	"testing"
	"time"

	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/s3mount/s3mount/s3io"
)

func TestFileAttrUsesS3fsMetadata(t *testing.T) {
	f := New(Config{UID: 1000, GID: 1000, FileMode: 0o644}, nil, nil, nil)
	info := s3io.ObjectInfo{Size: 10, ModTime: time.Unix(100, 0), Metadata: map[string]string{
		"mode": "33261", "uid": "42", "gid": "43", "mtime": "1700000000.5",
	}}
	var a fuse.Attr
	f.fileAttr(&info, 7, &a)
	if a.Mode != syscall.S_IFREG|0o755 || a.Uid != 42 || a.Gid != 43 {
		t.Fatalf("mode %o uid %d gid %d, want 100755 42 43", a.Mode, a.Uid, a.Gid)
	}
	if a.Mtime != 1700000000 || a.Mtimensec != 500000000 {
		t.Fatalf("mtime %d.%09d, want 1700000000.5", a.Mtime, a.Mtimensec)
	}
}

func TestFileAttrFallsBackToMountSettings(t *testing.T) {
	f := New(Config{UID: 1000, GID: 1001, FileMode: 0o600}, nil, nil, nil)
	info := s3io.ObjectInfo{Size: 1025, ModTime: time.Unix(100, 0), Metadata: map[string]string{"mode": "garbage", "mtime": "x"}}
	var a fuse.Attr
	f.fileAttr(&info, 7, &a)
	if a.Mode != syscall.S_IFREG|0o600 || a.Uid != 1000 || a.Gid != 1001 || a.Mtime != 100 || a.Blocks != 3 {
		t.Fatalf("got mode %o uid %d gid %d mtime %d blocks %d", a.Mode, a.Uid, a.Gid, a.Mtime, a.Blocks)
	}
}

func TestDirectoryModeInMetadataIsNotAFile(t *testing.T) {
	info := s3io.ObjectInfo{Metadata: map[string]string{"mode": "16877"}} // S_IFDIR|0755
	if m := fileMode(&info, 0o644); m != syscall.S_IFREG|0o644 {
		t.Fatalf("an object is a file whatever its metadata says: got %o", m)
	}
}
