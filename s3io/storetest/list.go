package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/s3mount/s3mount/s3io"
)

// listAll pages through a listing and returns every object key and common
// prefix in the order returned, checking each page against MaxKeys.
func (e *env) listAll(req s3io.ListRequest) (keys, prefixes []string, pages int) {
	e.t.Helper()
	req.Bucket = e.bucket
	for {
		page, err := e.s.List(e.ctx, req)
		if err != nil {
			e.t.Fatalf("List %+v: %v", req, err)
		}
		pages++
		if n := len(page.Objects) + len(page.CommonPrefixes); req.MaxKeys > 0 && n > int(req.MaxKeys) {
			e.t.Fatalf("page %d holds %d entries, more than MaxKeys %d", pages, n, req.MaxKeys)
		}
		for _, o := range page.Objects {
			keys = append(keys, o.Key)
		}
		prefixes = append(prefixes, page.CommonPrefixes...)
		if !page.IsTruncated {
			if page.NextContinuationToken != "" {
				e.t.Fatalf("last page has a continuation token %q", page.NextContinuationToken)
			}
			if !sorted(keys) || !sorted(prefixes) {
				e.t.Fatalf("listing out of order: keys %q, prefixes %q", keys, prefixes)
			}
			return keys, prefixes, pages
		}
		if page.NextContinuationToken == "" {
			e.t.Fatal("truncated page without a continuation token")
		}
		if pages > 1000 {
			e.t.Fatal("listing does not end")
		}
		req.ContinuationToken = page.NextContinuationToken
	}
}

func (e *env) putKeys(keys ...string) {
	e.t.Helper()
	for _, k := range keys {
		body := []byte("body of " + k)
		if strings.HasSuffix(k, "/") {
			body = nil // a directory marker, as file systems write them
		}
		e.put(k, body, s3io.WriteOptions{})
	}
}

func wantStrings(e *env, what string, got, want []string) {
	e.t.Helper()
	if len(got) == 0 && len(want) == 0 {
		return
	}
	if !reflect.DeepEqual(got, want) {
		e.t.Fatalf("%s = %q, want %q", what, got, want)
	}
}

var listCases = []testCase{
	{"ListPaginatesWithMaxKeys", func(e *env) {
		var want []string
		for i := 0; i < 25; i++ {
			want = append(want, fmt.Sprintf("key%02d", i))
		}
		e.putKeys(want...)
		keys, prefixes, pages := e.listAll(s3io.ListRequest{MaxKeys: 2})
		wantStrings(e, "keys", keys, want)
		wantStrings(e, "prefixes", prefixes, nil)
		if pages != 13 {
			e.t.Fatalf("%d pages, want 13 for 25 keys at 2 a page", pages)
		}
	}},
	{"ListCountsCommonPrefixesAgainstMaxKeys", func(e *env) {
		e.putKeys("a/1", "a/2", "b", "c/1", "c/2", "d", "e/1")
		keys, prefixes, pages := e.listAll(s3io.ListRequest{Delimiter: "/", MaxKeys: 2})
		wantStrings(e, "keys", keys, []string{"b", "d"})
		wantStrings(e, "prefixes", prefixes, []string{"a/", "c/", "e/"})
		if pages != 3 {
			e.t.Fatalf("%d pages, want 3 for 5 entries at 2 a page", pages)
		}
	}},
	{"ListGroupsKeysUnderDelimiterIntoCommonPrefixes", func(e *env) {
		e.putKeys("dir/", "dir/a", "dir/sub/b", "dir/sub/c", "dir/z", "dir2", "top")
		keys, prefixes, _ := e.listAll(s3io.ListRequest{Delimiter: "/"})
		wantStrings(e, "root keys", keys, []string{"dir2", "top"})
		wantStrings(e, "root prefixes", prefixes, []string{"dir/"})
		keys, prefixes, _ = e.listAll(s3io.ListRequest{Prefix: "dir/", Delimiter: "/"})
		wantStrings(e, "dir/ keys", keys, []string{"dir/", "dir/a", "dir/z"})
		wantStrings(e, "dir/ prefixes", prefixes, []string{"dir/sub/"})
	}},
	{"ListWithoutDelimiterListsEverythingUnderPrefix", func(e *env) {
		e.putKeys("p/a", "p/q/b", "p/q/r/c", "pz", "q")
		keys, prefixes, _ := e.listAll(s3io.ListRequest{Prefix: "p/"})
		wantStrings(e, "keys", keys, []string{"p/a", "p/q/b", "p/q/r/c"})
		wantStrings(e, "prefixes", prefixes, nil)
		keys, _, _ = e.listAll(s3io.ListRequest{Prefix: "nothing/"})
		wantStrings(e, "keys under a prefix that matches nothing", keys, nil)
	}},
	{"ListStartsAfterStartAfter", func(e *env) {
		e.putKeys("k0", "k1", "k2", "k3", "k4", "k5")
		keys, _, _ := e.listAll(s3io.ListRequest{StartAfter: "k2", MaxKeys: 2})
		wantStrings(e, "keys", keys, []string{"k3", "k4", "k5"})
		keys, _, _ = e.listAll(s3io.ListRequest{StartAfter: "k25"})
		wantStrings(e, "keys after a StartAfter that is not a key", keys, []string{"k3", "k4", "k5"})
	}},
	{"ListedObjectsCarrySizeETagAndTheHeadModTime", func(e *env) {
		data := []byte("twelve bytes")
		e.put("f", data, s3io.WriteOptions{Metadata: map[string]string{"mode": "41471"}, ContentType: "text/plain"})
		plain, err := e.s.List(e.ctx, s3io.ListRequest{Bucket: e.bucket})
		if err != nil || len(plain.Objects) != 1 || plain.Objects[0].HasMetadata {
			e.t.Fatalf("listing without WithMetadata = %+v, %v; want one object without metadata", plain, err)
		}
		page, err := e.s.List(e.ctx, s3io.ListRequest{Bucket: e.bucket, WithMetadata: true})
		if err != nil {
			e.t.Fatal(err)
		}
		if len(page.Objects) != 1 {
			e.t.Fatalf("listing = %+v, want one object", page)
		}
		o := page.Objects[0]
		if o.Key != "f" || o.Size != 12 || o.ETag != md5Hex(data) {
			e.t.Fatalf("listed object = %+v", o)
		}
		h := e.head("f")
		// ls -l and stat must agree: whole seconds from both.
		if !o.ModTime.Equal(h.ModTime) {
			e.t.Fatalf("listed ModTime %v, head ModTime %v", o.ModTime, h.ModTime)
		}
		// A listing that carries metadata (MinIO's metadata=true) must
		// carry what HEAD says; one that does not says so.
		if o.HasMetadata && (o.Metadata["mode"] != "41471" || o.ContentType != h.ContentType) {
			e.t.Fatalf("listed metadata %v %q, HEAD's %v %q", o.Metadata, o.ContentType, h.Metadata, h.ContentType)
		}
		if !o.HasMetadata && len(o.Metadata) != 0 {
			e.t.Fatalf("listed metadata %v without HasMetadata", o.Metadata)
		}
		e.t.Logf("the listing carries metadata: %v", o.HasMetadata)
	}},
}

// oddKeys are keys that trip up URL escaping, XML and path handling.
// Keys in optionalKeys may be refused with ErrInvalidArgument (MinIO
// refuses empty path segments; AWS takes them); a store that takes them
// must handle them like any other.
var oddKeys = []string{
	"with space/file name.txt",
	"ünïcödé/日本語.txt",
	"double//slash",
	"control\x01char",
	"plus+sign",
	"percent%41and%2F",
	"query?mark&amp=1#hash",
	"semi;colon,comma",
	"tilde~and'quote\"",
	"trailing/",
	"ends with space ",
}

var optionalKeys = map[string]bool{"double//slash": true, "control\x01char": true}

var keyCases = []testCase{
	{"OddKeysRoundTripThroughPutHeadReadListAndCopy", func(e *env) {
		var stored []string
		for i, k := range oddKeys {
			if optionalKeys[k] && e.mayLack(UncleanKeys, fmt.Sprintf("key %q is not checked", k)) {
				continue
			}
			data := []byte(fmt.Sprintf("body %d of %q", i, k))
			_, err := e.s.PutObject(e.ctx, e.bucket, k, bytes.NewReader(data), int64(len(data)), s3io.WriteOptions{})
			if err != nil && optionalKeys[k] && errors.Is(err, s3io.ErrInvalidArgument) {
				e.t.Logf("the store refuses key %q: %v", k, err)
				continue
			}
			if strings.HasSuffix(k, "/") && e.lacks(MarkerData, err) {
				continue
			}
			if err != nil {
				e.t.Fatalf("PutObject %q: %v", k, err)
			}
			stored = append(stored, k)
			if h := e.head(k); h.Size != int64(len(data)) || h.Key != k {
				e.t.Fatalf("head %q = %+v", k, h)
			}
			if got := e.readAll(k, int64(len(data))); string(got) != string(data) {
				e.t.Fatalf("read %q = %q, want %q", k, got, data)
			}
			keys, _, _ := e.listAll(s3io.ListRequest{Prefix: k})
			if len(keys) != 1 || keys[0] != k {
				e.t.Fatalf("listing with prefix %q = %q, want exactly the key", k, keys)
			}
			dst := "copy of " + k
			if _, err := e.s.CopyObject(e.ctx, s3io.CopySource{Bucket: e.bucket, Key: k}, e.bucket, dst, s3io.CopyOptions{}); err != nil {
				e.t.Fatalf("copy %q: %v", k, err)
			}
			if got := e.readAll(dst, int64(len(data))); string(got) != string(data) {
				e.t.Fatalf("copy of %q reads %q", k, got)
			}
		}
		var want []string
		for _, k := range stored {
			for _, key := range []string{k, "copy of " + k} {
				if i := strings.Index(key, "/"); i >= 0 {
					want = append(want, key[:i+1])
				}
			}
		}
		sort.Strings(want)
		want = slices.Compact(want)
		_, prefixes, _ := e.listAll(s3io.ListRequest{Delimiter: "/"})
		wantStrings(e, "root prefixes", prefixes, want)
		if slices.Contains(stored, "double//slash") {
			_, prefixes, _ = e.listAll(s3io.ListRequest{Prefix: "double/", Delimiter: "/"})
			wantStrings(e, "prefixes under double/", prefixes, []string{"double//"})
		}
		for _, k := range stored {
			if err := e.s.DeleteObject(e.ctx, e.bucket, k); err != nil {
				e.t.Fatalf("delete %q: %v", k, err)
			}
		}
		keys, _, _ := e.listAll(s3io.ListRequest{Prefix: "double"})
		wantStrings(e, "keys after deleting", keys, nil)
	}},
}

// sorted reports whether keys are in S3's (bytewise) order.
func sorted(keys []string) bool {
	for i := 1; i < len(keys); i++ {
		if strings.Compare(keys[i-1], keys[i]) >= 0 {
			return false
		}
	}
	return true
}
