package fs

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

// FuzzTagsXattr checks the parsing of s3.tags values: accepted tag sets
// satisfy S3's limits and read back as the same set; refusals are
// ErrInvalidArgument, never a panic.
func FuzzTagsXattr(f *testing.F) {
	f.Add("project=apollo&team=a+b")
	f.Add("a=1&a=2")
	f.Add("%zz=1")
	f.Add(strings.Repeat("k", 129) + "=v")
	f.Add("aws:reserved=x")
	f.Fuzz(func(t *testing.T, value string) {
		tags, err := parseTags([]byte(value), s3io.MaxObjectTags)
		if err != nil {
			if !errors.Is(err, s3io.ErrInvalidArgument) {
				t.Fatalf("%q refused with %v, want ErrInvalidArgument", value, err)
			}
			return
		}
		if err := s3io.CheckTags(tags, s3io.MaxObjectTags); err != nil {
			t.Fatalf("%q accepted but breaks S3's limits: %v", value, err)
		}
		again, err := parseTags([]byte(formatTags(tags)), s3io.MaxObjectTags)
		if err != nil || len(again) != len(tags) {
			t.Fatalf("%q does not read back: %v", value, err)
		}
		for i := range tags {
			if again[i] != tags[i] {
				t.Fatalf("%q reads back as %v, not %v", value, again, tags)
			}
		}
	})
}

// FuzzCannedACLXattr: only the six canned names are accepted.
func FuzzCannedACLXattr(f *testing.F) {
	for name := range cannedACLs {
		f.Add(name)
	}
	f.Add("public-read\n")
	f.Add("PRIVATE")
	f.Fuzz(func(t *testing.T, value string) {
		name, err := parseCanned([]byte(value))
		if err != nil {
			if !errors.Is(err, s3io.ErrInvalidArgument) {
				t.Fatalf("%q refused with %v", value, err)
			}
			return
		}
		if !cannedACLs[name] {
			t.Fatalf("%q accepted as %q, not a canned ACL", value, name)
		}
	})
}

// FuzzBucketNames: a name bucketNameProblem accepts follows S3's rules.
func FuzzBucketNames(f *testing.F) {
	for _, s := range []string{"my-bucket", "Bad_Name", "ab", "192.168.1.1", "a..b", "-x-", strings.Repeat("a", 64)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if bucketNameProblem(name) != "" {
			return
		}
		if len(name) < 3 || len(name) > 63 || strings.Contains(name, "..") || strings.ToLower(name) != name ||
			strings.ContainsAny(name, "_/ \x00") || nameProblem(name) != "" {
			t.Fatalf("%q accepted as a bucket name", name)
		}
	})
}

// FuzzRestoreXattr: an accepted s3.restore value has sane days and a known
// tier, and reads the same when written back.
func FuzzRestoreXattr(f *testing.F) {
	for _, s := range []string{"7", "7,Bulk", " 30 , Expedited ", "0", "-1", "7,Fast", "1e3", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		days, tier, err := parseRestore([]byte(value))
		if err != nil {
			if !errors.Is(err, s3io.ErrInvalidArgument) {
				t.Fatalf("%q refused with %v", value, err)
			}
			return
		}
		if days < 1 || days > 30000 || !restoreTiers[tier] {
			t.Fatalf("%q accepted as %d days, tier %q", value, days, tier)
		}
		d2, t2, err := parseRestore([]byte(fmt.Sprintf("%d,%s", days, tier)))
		if err != nil || d2 != days || t2 != tier {
			t.Fatalf("%q does not read back: %d %q %v", value, d2, t2, err)
		}
	})
}
