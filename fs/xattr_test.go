package fs

import (
	"bytes"
	"errors"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/s3mount/s3mount/s3io/memstore"
)

func getx(t *testing.T, path, name string) (string, error) {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Getxattr(path, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

func listx(t *testing.T, path string) []string {
	t.Helper()
	buf := make([]byte, 64<<10)
	n, err := unix.Listxattr(path, buf)
	if err != nil {
		t.Fatalf("listxattr %s: %v", path, err)
	}
	names := strings.Split(strings.TrimSuffix(string(buf[:n]), "\x00"), "\x00")
	sort.Strings(names)
	return names
}

func TestUserXattrsAreUserMetadata(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("bytes"), map[string]string{"color": "red", "mode": "33188"})
	p := filepath.Join(mnt, "f")
	if v, err := getx(t, p, "user.color"); err != nil || v != "red" {
		t.Fatalf("user.color = %q, %v", v, err)
	}
	if _, err := getx(t, p, "user.mode"); !errors.Is(err, syscall.ENODATA) {
		t.Fatalf("s3fs's mode shown as user.mode: %v", err)
	}
	if err := unix.Setxattr(p, "user.project", []byte("apollo"), 0); err != nil {
		t.Fatal(err)
	}
	if err := unix.Removexattr(p, "user.color"); err != nil {
		t.Fatal(err)
	}
	m := head(t, st, "f").Metadata
	if m["project"] != "apollo" || m["color"] != "" || m["mode"] != "33188" || string(objectBytes(t, st, "f")) != "bytes" {
		t.Fatalf("metadata after setxattr/removexattr: %v", m)
	}
	if err := unix.Setxattr(p, "user.mode", []byte("1"), 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("setting user.mode: %v, want EINVAL", err)
	}
	if err := unix.Setxattr(p, "user.big", bytes.Repeat([]byte("x"), 2100), 0); !errors.Is(err, syscall.E2BIG) {
		t.Fatalf("metadata past 2 KiB: %v, want E2BIG", err)
	}
	if err := unix.Setxattr(p, "user.project", []byte("again"), unix.XATTR_CREATE); !errors.Is(err, syscall.EEXIST) {
		t.Fatalf("XATTR_CREATE of an existing name: %v, want EEXIST", err)
	}
	names := listx(t, p)
	want := []string{"s3.acl", "s3.content_type", "s3.etag", "s3.presigned_url", "s3.storage_class", "s3.upload_state", "user.project"}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("listxattr = %v, want %v", names, want)
	}
}

func TestS3XattrsOfAFile(t *testing.T) {
	st, mnt := newWritable(t)
	info := st.PutBytes("b", "f", []byte("bytes"), nil)
	p := filepath.Join(mnt, "f")
	if v, _ := getx(t, p, "s3.etag"); v != info.ETag {
		t.Fatalf("s3.etag = %q, want %q", v, info.ETag)
	}
	if v, _ := getx(t, p, "s3.storage_class"); v != "STANDARD" {
		t.Fatalf("s3.storage_class = %q", v)
	}
	if err := unix.Setxattr(p, "s3.etag", []byte("x"), 0); !errors.Is(err, syscall.EPERM) {
		t.Fatalf("setting s3.etag: %v, want EPERM", err)
	}
	if err := unix.Setxattr(p, "s3.tags", []byte("project=apollo&team=a b"), 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := getx(t, p, "s3.tags"); v != "project=apollo&team=a+b" {
		t.Fatalf("s3.tags = %q", v)
	}
	var eleven []string
	for i := 0; i < 11; i++ {
		eleven = append(eleven, "k"+string(rune('a'+i))+"=v")
	}
	if err := unix.Setxattr(p, "s3.tags", []byte(strings.Join(eleven, "&")), 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("11 tags: %v, want EINVAL", err)
	}
	if err := unix.Removexattr(p, "s3.tags"); err != nil {
		t.Fatal(err)
	}
	if _, err := getx(t, p, "s3.tags"); !errors.Is(err, syscall.ENODATA) {
		t.Fatalf("s3.tags after removal: %v, want ENODATA", err)
	}
	if err := unix.Setxattr(p, "s3.acl", []byte("public-read"), 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := getx(t, p, "s3.acl"); !strings.Contains(v, "READ Group http://acs.amazonaws.com/groups/global/AllUsers\n") || !strings.HasPrefix(v, "owner ") {
		t.Fatalf("s3.acl after public-read = %q", v)
	}
	if err := unix.Setxattr(p, "s3.acl", []byte("everyone-please"), 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("an unknown canned ACL: %v, want EINVAL", err)
	}
	if err := unix.Setxattr(p, "s3.content_type", []byte("text/csv"), 0); err != nil {
		t.Fatal(err)
	}
	if ct := head(t, st, "f").ContentType; ct != "text/csv" {
		t.Fatalf("content type after setxattr: %q", ct)
	}
	if v, err := getx(t, p, "s3.presigned_url"); err != nil || v == "" {
		t.Fatalf("s3.presigned_url = %q, %v", v, err)
	}
	if _, err := getx(t, p, "s3.sse_c_key"); !errors.Is(err, syscall.ENODATA) {
		t.Fatalf("s3.sse_c_key readable: %v", err)
	}
	if err := unix.Setxattr(p, "s3.sse_c_key", []byte("short"), 0); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("a key that is not 32 bytes: %v, want EINVAL", err)
	}
	if err := unix.Setxattr(p, "s3.restore", []byte("7"), 0); err == nil || errors.Is(err, syscall.EIO) {
		t.Fatalf("restore of a STANDARD object: %v, want a clear errno", err)
	}
}

func TestServerWithoutACLsGivesENOTSUP(t *testing.T) {
	st, mnt := newWritable(t)
	st.PutBytes("b", "f", []byte("bytes"), nil)
	st.Refuse("acl", "tagging")
	p := filepath.Join(mnt, "f")
	if _, err := getx(t, p, "s3.acl"); !errors.Is(err, syscall.ENOTSUP) {
		t.Fatalf("s3.acl on a server without ACLs: %v, want ENOTSUP", err)
	}
	if err := unix.Setxattr(p, "s3.tags", []byte("a=b"), 0); !errors.Is(err, syscall.ENOTSUP) {
		t.Fatalf("s3.tags on a server without tagging: %v, want ENOTSUP", err)
	}
	listx(t, p) // still works
}

func TestBucketXattrsAndBucketsAsDirectories(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	mnt := mountMem(t, Config{Bucket: "*"}, st)
	b := filepath.Join(mnt, "b")
	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`
	if err := unix.Setxattr(b, "s3.policy", []byte(policy), 0); err != nil {
		t.Fatal(err)
	}
	if v, err := getx(t, b, "s3.policy"); err != nil || !strings.Contains(v, "s3:GetObject") {
		t.Fatalf("s3.policy = %q, %v", v, err)
	}
	if _, err := getx(t, b, "s3.versioning"); !errors.Is(err, syscall.ENODATA) {
		t.Fatalf("versioning never enabled: %v, want ENODATA", err)
	}
	if err := unix.Setxattr(b, "s3.versioning", []byte("Enabled"), 0); err != nil {
		t.Fatal(err)
	}
	if v, _ := getx(t, b, "s3.versioning"); v != "Enabled" {
		t.Fatalf("s3.versioning = %q", v)
	}
	if err := unix.Setxattr(b, "s3.tags", []byte("env=prod"), 0); err != nil {
		t.Fatal(err)
	}
	if names := strings.Join(listx(t, b), " "); names != "s3.acl s3.policy s3.tags s3.versioning" {
		t.Fatalf("bucket listxattr = %s", names)
	}
	if err := unix.Mkdir(filepath.Join(mnt, "new-bucket"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := st.HeadBucket(t.Context(), "new-bucket"); err != nil {
		t.Fatalf("mkdir did not create the bucket: %v", err)
	}
	if err := unix.Mkdir(filepath.Join(mnt, "Bad_Name"), 0o755); !errors.Is(err, syscall.EINVAL) {
		t.Fatalf("mkdir of an invalid bucket name: %v, want EINVAL", err)
	}
	st.PutBytes("b", "x", []byte("x"), nil)
	if err := unix.Rmdir(b); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Fatalf("rmdir of a non-empty bucket: %v, want ENOTEMPTY", err)
	}
	if err := unix.Rmdir(filepath.Join(mnt, "new-bucket")); err != nil {
		t.Fatal(err)
	}
	if err := st.HeadBucket(t.Context(), "new-bucket"); err == nil {
		t.Fatal("rmdir did not delete the bucket")
	}
}
