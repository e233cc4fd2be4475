package writeback

import (
	"bytes"
	"context"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// refuse makes the store answer op with NotImplemented, as some servers
// do for copies of SSE-C objects.
func refuse(ops ...string) func(string, int32) error {
	return func(op string, part int32) error {
		for _, o := range ops {
			if o == op {
				return &s3io.OpError{Op: op, Code: "NotImplemented", Err: s3io.ErrNotImplemented}
			}
		}
		return nil
	}
}

func TestRefusedPartCopyFallsBackToReadingAndUploading(t *testing.T) {
	fx := newFixture(t)
	data := randomBytes(30, 22<<20)
	fx.mem.PutBytes(testBucket, "o", data, nil)
	base, _ := fx.mem.HeadObject(context.Background(), testBucket, "o", s3io.ReadOptions{})
	fx.store.fail = refuse("UploadPartCopy")
	f, _ := fx.m.Open(testBucket, "o", base)
	data[3] = 'X'
	f.WriteAt(context.Background(), data[3:4], 3)
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatalf("commit with part copies refused: %v", err)
	}
	f.Close()
	if !bytes.Equal(fx.object(t, "o"), data) {
		t.Fatal("object differs after the fallback")
	}
	if fx.store.get("UploadPartCopy") == 0 {
		t.Fatal("no copy was tried: the test proves nothing")
	}
	fx.noUploadsLeft(t)
}

func TestRefusedCopyObjectFallsBackOnMetadataChange(t *testing.T) {
	fx := newFixture(t)
	fx.mem.PutBytes(testBucket, "o", []byte("bytes"), nil)
	base, _ := fx.mem.HeadObject(context.Background(), testBucket, "o", s3io.ReadOptions{})
	fx.store.fail = refuse("CopyObject")
	f, _ := fx.m.Open(testBucket, "o", base)
	f.SetMeta(func(m *Meta) { m.UserMetadata = map[string]string{"mode": "33188"} })
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatalf("metadata change with CopyObject refused: %v", err)
	}
	f.Close()
	info, _ := fx.mem.HeadObject(context.Background(), testBucket, "o", s3io.ReadOptions{})
	if string(fx.object(t, "o")) != "bytes" || info.Metadata["mode"] != "33188" {
		t.Fatalf("after fallback: %q %v", fx.object(t, "o"), info.Metadata)
	}
}

func TestCopyAboveTheCopyLimitUsesPartsAndFallsBack(t *testing.T) {
	old := maxCopySize
	maxCopySize = 6 << 20
	t.Cleanup(func() { maxCopySize = old })
	for _, refused := range []bool{false, true} {
		fx := newFixture(t)
		data := randomBytes(31, 13<<20)
		fx.mem.PutBytes(testBucket, "src", data, map[string]string{"k": "v"})
		src, _ := fx.mem.HeadObject(context.Background(), testBucket, "src", s3io.ReadOptions{})
		if refused {
			fx.store.fail = refuse("UploadPartCopy", "CopyObject")
		}
		opts := s3io.CopyOptions{WriteOptions: s3io.WriteOptions{Metadata: src.Metadata}}
		if _, err := fx.m.Copy(context.Background(), src, testBucket, nil, testBucket, "dst", opts); err != nil {
			t.Fatalf("refused=%v: %v", refused, err)
		}
		info, _ := fx.mem.HeadObject(context.Background(), testBucket, "dst", s3io.ReadOptions{})
		if !bytes.Equal(fx.object(t, "dst"), data) || info.Metadata["k"] != "v" {
			t.Fatalf("refused=%v: copy differs or lost metadata %v", refused, info.Metadata)
		}
		if fx.store.get("UploadPartCopy") != 3 || fx.store.get("CopyObject") != 0 {
			t.Fatalf("refused=%v: calls %v, want 3 part copies tried and no CopyObject", refused, fx.store.calls)
		}
		fx.noUploadsLeft(t)
	}
}

func TestDirectoryMarkerIsRemadeWithItsMetadataNotCopied(t *testing.T) {
	fx := newFixture(t)
	fx.mem.PutBytes(testBucket, "d/", nil, map[string]string{"mode": "16832", "mtime": "1700000000"})
	src, _ := fx.mem.HeadObject(context.Background(), testBucket, "d/", s3io.ReadOptions{})
	src.Key = "d/"
	// versitygw refuses every CopyObject of a key ending in "/".
	fx.store.fail = func(op string, _ int32) error {
		if op == "CopyObject" {
			return &s3io.OpError{Op: op, Code: "DirectoryObjectContainsData", Err: s3io.ErrInvalidArgument}
		}
		return nil
	}
	if _, err := fx.m.Copy(context.Background(), src, testBucket, nil, testBucket, "e/", s3io.CopyOptions{}); err != nil {
		t.Fatalf("copy of a marker on a server that refuses marker copies: %v", err)
	}
	got, err := fx.mem.HeadObject(context.Background(), testBucket, "e/", s3io.ReadOptions{})
	if err != nil || got.Size != 0 || got.Metadata["mode"] != "16832" || got.Metadata["mtime"] != "1700000000" {
		t.Fatalf("remade marker = %+v, %v; want empty with the source's metadata", got, err)
	}
	if fx.store.get("CopyObject") != 0 || fx.store.get("PutObject") != 1 {
		t.Fatalf("CopyObject %d, PutObject %d; want 0 and 1", fx.store.get("CopyObject"), fx.store.get("PutObject"))
	}
}

// Ceph RGW drops an object's tags on a metadata-replacing copy even when
// asked to copy them, and every S3 resets the copy's ACL to private: a
// chmod must not do either.
func TestMetadataChangeKeepsTagsAndPublicACL(t *testing.T) {
	fx := newFixture(t)
	ctx := context.Background()
	fx.mem.PutBytes(testBucket, "o", []byte("bytes"), nil)
	tags := []s3io.Tag{{Key: "project", Value: "genome"}}
	if err := fx.mem.PutObjectTagging(ctx, testBucket, "o", tags); err != nil {
		t.Fatal(err)
	}
	if err := fx.mem.PutObjectACL(ctx, testBucket, "o", "public-read"); err != nil {
		t.Fatal(err)
	}
	fx.store.afterCopy = func(b, k string) {
		fx.mem.DeleteObjectTagging(ctx, b, k)     // as RGW does
		fx.mem.PutObjectACL(ctx, b, k, "private") // as S3 does
	}
	base, _ := fx.mem.HeadObject(ctx, testBucket, "o", s3io.ReadOptions{})
	f, _ := fx.m.Open(testBucket, "o", base)
	f.SetMeta(func(m *Meta) { m.UserMetadata = map[string]string{"mode": "33261"} })
	if _, err := f.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if fx.store.get("CopyObject") != 1 {
		t.Fatalf("%d copies, want the metadata change as one copy", fx.store.get("CopyObject"))
	}
	got, _ := fx.mem.GetObjectTagging(ctx, testBucket, "o")
	if len(got) != 1 || got[0] != tags[0] {
		t.Errorf("tags after chmod = %v, want %v", got, tags)
	}
	acl, _ := fx.mem.GetObjectACL(ctx, testBucket, "o")
	if cannedACL(acl) != "public-read" {
		t.Errorf("ACL after chmod = %+v, want public-read kept", acl)
	}
}
