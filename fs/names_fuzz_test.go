package fs

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/s3mount/s3mount/s3io/memstore"
)

// FuzzListingShowsOnlyValidNames lists a directory of fuzzed keys: every
// name shown is a valid file name without "/", shown once, and the listing
// never fails.
func FuzzListingShowsOnlyValidNames(f *testing.F) {
	f.Add("a\nb/c\nb/\n../x\na//b\n./a\nname\nwith\x00nul")
	f.Add("dir/\ndir/a\ndir\n" + strings.Repeat("L", 300) + "\nz")
	f.Add("\xff\xfe\n\x01ctl\nline\nbreak\n.\n..\n/")
	f.Fuzz(func(t *testing.T, keys string) {
		st := memstore.New()
		st.AddBucket("b")
		for _, k := range strings.Split(keys, "\n") {
			if k != "" && len(k) <= 1024 {
				st.PutBytes("b", k, []byte("x"), nil)
			}
		}
		fsys := New(Config{Bucket: "b", MetadataTTL: 60e9}, st, nil, nil)
		l := newLister(fsys, "b", "")
		seen := map[string]bool{}
		for i := 0; ; i++ {
			e, ok, err := l.next(context.Background())
			if err != nil {
				t.Fatalf("listing failed: %v", err)
			}
			if !ok {
				break
			}
			if p := nameProblem(e.name); p != "" || strings.Contains(e.name, "/") {
				t.Fatalf("listing shows %q (%s)", e.name, p)
			}
			if seen[e.name] {
				t.Fatalf("listing shows %q twice", e.name)
			}
			seen[e.name] = true
		}
	})
}

// FuzzPrintableKey checks that a key in a log line is either itself or a
// Go-quoted string that unquotes to it, with no control bytes.
func FuzzPrintableKey(f *testing.F) {
	f.Add("plain/key")
	f.Add("new\nline")
	f.Add("\xff")
	f.Fuzz(func(t *testing.T, key string) {
		p := printableKey(key)
		if p == key {
			for _, r := range key {
				if r < 0x20 || r == 0x7f || r == utf8.RuneError {
					t.Fatalf("%q logged as it is", key)
				}
			}
			return
		}
		if u, err := strconv.Unquote(p); err != nil || u != key {
			t.Fatalf("%q logged as %s, which does not unquote to it", key, p)
		}
	})
}
