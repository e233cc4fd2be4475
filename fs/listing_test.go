package fs

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// listAll drains a lister and returns "name" for files and "name/" for
// directories, in emission order.
func listAll(t *testing.T, f *FS, bucket, prefix string) []string {
	t.Helper()
	l := newLister(f, bucket, prefix)
	var got []string
	for {
		e, ok, err := l.next(context.Background())
		if err != nil {
			t.Fatalf("list %q: %v", prefix, err)
		}
		if !ok {
			return got
		}
		if e.isDir {
			got = append(got, e.name+"/")
		} else {
			got = append(got, e.name)
		}
	}
}

func newMemFS(t *testing.T, keys ...string) (*FS, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	st.AddBucket("b")
	for _, k := range keys {
		st.PutBytes("b", k, []byte("data of "+k), nil)
	}
	return New(Config{Bucket: "b", MetadataTTL: 60e9, FileMode: 0o644, DirMode: 0o755}, st, nil, nil), st
}

func TestListingShowsMarkersAndPrefixesOnce(t *testing.T) {
	f, _ := newMemFS(t, "dir/", "dir/x", "implicit/y", "file", "empty/")
	got := listAll(t, f, "b", "")
	want := []string{"dir/", "empty/", "file", "implicit/"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := listAll(t, f, "b", "dir/"); !reflect.DeepEqual(got, []string{"x"}) {
		t.Fatalf("dir/: got %q, want [x] (the marker itself must not be listed)", got)
	}
}

func TestListingDirectoryShadowsObjectOfSameName(t *testing.T) {
	// "a.txt" and "a-b" sort between "a" and "a/": the shadowed object must
	// still be dropped, and its neighbours kept.
	f, _ := newMemFS(t, "a", "a-b", "a.txt", "a/inner", "b")
	got := listAll(t, f, "b", "")
	sort.Strings(got)
	want := []string{"a-b", "a.txt", "a/", "b"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestListingHidesKeysThatCannotBeNames(t *testing.T) {
	long := strings.Repeat("x", 256)
	f, _ := newMemFS(t, "a//b", "./c", "../d", "ok", long, "dir/"+long, "good/"+strings.Repeat("y", 255))
	got := listAll(t, f, "b", "")
	sort.Strings(got)
	// "a//b" makes a directory "a" whose only entry has an empty name.
	want := []string{"a/", "dir/", "good/", "ok"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	if got := listAll(t, f, "b", "a/"); len(got) != 0 {
		t.Fatalf("a//b must not show an empty name, got %q", got)
	}
	if got := listAll(t, f, "b", "good/"); len(got) != 1 || len(got[0]) != 255 {
		t.Fatalf("a 255-byte name must be shown, got %q", got)
	}
	if got := listAll(t, f, "b", "dir/"); len(got) != 0 {
		t.Fatalf("a 256-byte name must be hidden, got %q", got)
	}
}

func TestListingPagesThroughLargeDirectory(t *testing.T) {
	var keys []string
	for i := 0; i < 2500; i++ {
		keys = append(keys, fmt.Sprintf("big/f%05d", i))
	}
	keys = append(keys, "big/sub/x")
	f, st := newMemFS(t, keys...)
	counting := &countingStore{Store: st}
	f.store = counting
	got := listAll(t, f, "b", "big/")
	if len(got) != 2501 {
		t.Fatalf("got %d entries, want 2501", len(got))
	}
	if counting.lists != 3 {
		t.Fatalf("listing 2,501 entries took %d requests, want 3", counting.lists)
	}
}

// countingStore counts List calls.
type countingStore struct {
	s3io.Store
	lists int
}

func (c *countingStore) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	c.lists++
	return c.Store.List(ctx, req)
}

func TestResolveFindsFileDirectoryAndNothing(t *testing.T) {
	f, _ := newMemFS(t, "file", "dir/x", "both", "both/y", "marker/")
	ctx := context.Background()
	cases := []struct {
		key          string
		isDir, isObj bool
	}{
		{"file", false, true},
		{"dir", true, false},
		{"both", true, false}, // the directory wins
		{"marker", true, false},
		{"missing", false, false},
		{"fil", false, false},
	}
	for _, c := range cases {
		r, err := f.resolve(ctx, "b", c.key)
		if err != nil {
			t.Fatalf("resolve %q: %v", c.key, err)
		}
		if r.isDir != c.isDir || (r.info != nil) != c.isObj {
			t.Errorf("resolve %q = dir %v, object %v; want dir %v, object %v", c.key, r.isDir, r.info != nil, c.isDir, c.isObj)
		}
	}
}

// A chain of names that sort between "log" and "log/" (log.0000 ...) is
// listed whole and right, while the lister never holds more than maxHeld
// objects back: the shadowed "log" is found by a one-key listing.
func TestListingOfANameChainHoldsABoundedNumberOfObjects(t *testing.T) {
	const chain = 3*maxHeld + 7
	keys := []string{"log", "log/x", "plain"}
	for i := 0; i < chain; i++ {
		keys = append(keys, fmt.Sprintf("log.%05d", i))
	}
	f, _ := newMemFS(t, keys...)
	l := newLister(f, "b", "")
	seen := map[string]int{}
	most := 0
	for {
		e, ok, err := l.next(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		name := e.name
		if e.isDir {
			name += "/"
		}
		seen[name]++
		most = max(most, l.held.len())
	}
	if most > maxHeld {
		t.Fatalf("the lister held %d objects, more than %d", most, maxHeld)
	}
	if seen["log"] != 0 || seen["log/"] != 1 || seen["plain"] != 1 || len(seen) != chain+2 {
		t.Fatalf("listing: log %d, log/ %d, plain %d, %d names; want 0, 1, 1, %d", seen["log"], seen["log/"], seen["plain"], len(seen), chain+2)
	}
	for name, n := range seen {
		if n != 1 {
			t.Fatalf("%s listed %d times", name, n)
		}
	}
}

// BenchmarkListingOfANameChain shows the cost per entry of a chain.
func BenchmarkListingOfANameChain(b *testing.B) {
	keys := []string{"log"}
	for i := 0; i < 100000; i++ {
		keys = append(keys, fmt.Sprintf("log.%06d", i))
	}
	st := memstore.New()
	st.AddBucket("b")
	for _, k := range keys {
		st.PutBytes("b", k, nil, nil)
	}
	f := New(Config{Bucket: "b", MetadataTTL: 60e9, FileMode: 0o644, DirMode: 0o755, NoListMetadata: true}, st, nil, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l := newLister(f, "b", "")
		for {
			_, ok, err := l.next(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
		}
	}
}
