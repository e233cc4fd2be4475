package fs

import (
	"reflect"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// A node gives back the ObjectInfo it was given, whatever the ETag's form,
// and keeps the MD5 ETags of S3, MinIO and Ceph RGW without a string.
func TestANodeKeepsEveryETagAsItCame(t *testing.T) {
	mtime := time.Date(2026, 12, 2, 4, 5, 6, 789, time.UTC)
	for _, c := range []struct {
		etag   string
		packed bool
	}{
		{"", false},
		{"d41d8cd98f00b204e9800998ecf8427e", true},
		{"d41d8cd98f00b204e9800998ecf8427e-1", true},
		{"d41d8cd98f00b204e9800998ecf8427e-10000", true},
		{"d41d8cd98f00b204e9800998ecf8427e-65535", true},
		{"d41d8cd98f00b204e9800998ecf8427e-65536", false},
		{"d41d8cd98f00b204e9800998ecf8427e-0", false},
		{"d41d8cd98f00b204e9800998ecf8427e-01", false},
		{"d41d8cd98f00b204e9800998ecf8427e-", false},
		{"d41d8cd98f00b204e9800998ecf8427e-2-3", false},
		{"D41D8CD98F00B204E9800998ECF8427E", false},
		{"00000000000000000000000000000000", false},
		{"d41d8cd98f00b204e9800998ecf8427", false},
		{`"d41d8cd98f00b204e9800998ecf8427e"`, false},
		{"1700000000.123", false},
		{"x", false},
	} {
		for _, info := range []s3io.ObjectInfo{
			{Key: "k", Size: 5, ModTime: mtime, ETag: c.etag},
			{Key: "k", Size: 5, ModTime: mtime, ETag: c.etag, StorageClass: "STANDARD", ContentType: "text/plain",
				HasMetadata: true, Metadata: map[string]string{"mode": "0644"}, VersionID: "v1", SSE: "AES256"},
		} {
			p := packInfo(&info)
			if got := p.unpack("k"); !reflect.DeepEqual(got, info) {
				t.Errorf("ETag %q: kept %+v, given %+v", c.etag, got, info)
			}
			if want := versionOf(&info); p.version() != want {
				t.Errorf("ETag %q: version %q, want %q", c.etag, p.version(), want)
			}
		}
		plain := s3io.ObjectInfo{Key: "k", Size: 5, ModTime: mtime, ETag: c.etag}
		if p := packInfo(&plain); (p.rare == nil) != (c.packed || c.etag == "") {
			t.Errorf("ETag %q: rareInfo %v, want one only for an ETag that cannot be packed", c.etag, p.rare)
		}
	}
	plain := s3io.ObjectInfo{Key: "k", Size: 5, ModTime: mtime, ETag: "d41d8cd98f00b204e9800998ecf8427e-3"}
	if n := testing.AllocsPerRun(100, func() { packInfo(&plain) }); n != 0 {
		t.Errorf("packing an MD5 ETag allocates %v times, want 0", n)
	}
}
