package main

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestCacheDirFlags(t *testing.T) {
	o := parse(t, "--cache-dir", "/var/cache/s3", "b", "/mnt/b")
	if o.CacheDir != "/var/cache/s3" || o.CacheDirSize != 0 || o.CacheSSEC {
		t.Fatalf("defaults: dir %q size %d sse-c %v", o.CacheDir, o.CacheDirSize, o.CacheSSEC)
	}
	o = parse(t, "-o", "use_cache=rel,cache_dir_size=20GiB,cache_sse_c", "b", "/mnt/b")
	if abs, _ := filepath.Abs("rel"); o.CacheDir != abs || o.CacheDirSize != 20<<30 || !o.CacheSSEC {
		t.Fatalf("-o forms: dir %q size %d sse-c %v", o.CacheDir, o.CacheDirSize, o.CacheSSEC)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cache-dir-size", "1GiB", "b", "/mnt/b"}, "--cache-dir-size needs --cache-dir"},
		{[]string{"--cache-sse-c", "b", "/mnt/b"}, "--cache-sse-c needs --cache-dir"},
		{[]string{"--cache-dir", "/c", "--cache-dir-size", "1MiB", "b", "/mnt/b"}, "at least two blocks"},
		{[]string{"--cache-dir", "/c", "--cache-dir-size", "lots", "b", "/mnt/b"}, "--cache-dir-size must be auto"},
		{[]string{"--cache-dir", "/mnt/b/cache", "b", "/mnt/b"}, "inside the mount point"},
		{[]string{"--cache-dir", "/s/x", "--staging-dir", "/s", "b", "/mnt/b"}, "must not contain each other"},
	} {
		if got := parseErr(t, tc.args...); !strings.Contains(got, tc.want) {
			t.Errorf("%q: %q, want it to say %q", tc.args, got, tc.want)
		}
	}
	// Neighbours are not inside each other.
	parse(t, "--cache-dir", "/mnt/bb", "--staging-dir", "/s1", "b", "/mnt/b")
}
