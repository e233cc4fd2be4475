package integration

import (
	"os"
	"strings"
	"testing"
	"time"
)

// What this mount knows of a file (from a lookup, or because it wrote it)
// is never replaced by a listing's defaults: after `ls -l` a symlink is
// still a symlink, a mode is still its mode, a stored mtime still its
// mtime, and one object has one mtime, whichever request told it.
func TestListingKeepsKnownTypeModeAndMtime(t *testing.T) {
	s := newSession(t, map[string]string{"plain": "x"})
	if err := os.Symlink("plain", s.path("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("script"), []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "chmod", "755", s.path("script"))
	stamp := time.Date(2020, 5, 17, 10, 30, 0, 0, time.UTC)
	if err := os.Chtimes(s.path("script"), stamp, stamp); err != nil {
		t.Fatal(err)
	}
	s.remount()
	// Look each name up first (as a program opening it would), then list.
	for _, name := range []string{"link", "script", "plain"} {
		if _, err := os.Lstat(s.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	before, _ := os.Stat(s.path("plain"))
	run(t, "ls", "-l", s.mnt)
	run(t, "ls", "-l", s.mnt)
	if fi, err := os.Lstat(s.path("link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("after ls -l, link is %v, %v; want a symlink", fi.Mode(), err)
	}
	if target, err := os.Readlink(s.path("link")); err != nil || target != "plain" {
		t.Errorf("after ls -l, readlink link = %q, %v", target, err)
	}
	if got := run(t, "find", s.mnt, "-type", "l"); !strings.Contains(got, "/link") {
		t.Errorf("find -type l after ls -l: %q", got)
	}
	fi, err := os.Stat(s.path("script"))
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("after ls -l, script's mode is %v, %v; want 0755", fi.Mode(), err)
	}
	if err == nil && !fi.ModTime().Equal(stamp) {
		t.Errorf("after ls -l, script's mtime is %v, want the stored %v", fi.ModTime(), stamp)
	}
	after, _ := os.Stat(s.path("plain"))
	if before != nil && after != nil && !after.ModTime().Equal(before.ModTime()) {
		t.Errorf("plain's mtime is %v after a lookup and %v after a listing: one object, one mtime",
			before.ModTime(), after.ModTime())
	}
	if after != nil && after.ModTime().Nanosecond() != 0 {
		t.Errorf("plain's mtime %v is not whole seconds", after.ModTime())
	}
}

// The case a fresh mount meets: `ls -l` (readdirplus) before any lookup.
// Listings carry no metadata; each listed object's is fetched with HEADs
// in parallel with the listing, so the first `ls -l`, `find -type l` and
// every lstat after them tell the stored type, mode and mtime.
func TestLsLOnAFreshMountShowsStoredTypesModesAndMtimes(t *testing.T) {
	s := newSession(t, map[string]string{"plain": "x"})
	if err := os.Symlink("plain", s.path("link")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.path("script"), []byte("#!/bin/sh\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	run(t, "chmod", "750", s.path("script"))
	stamp := time.Date(2019, 3, 4, 5, 6, 7, 0, time.UTC)
	if err := os.Chtimes(s.path("script"), stamp, stamp); err != nil {
		t.Fatal(err)
	}
	s.remount()
	out := run(t, "ls", "-l", s.mnt)
	if !strings.Contains(out, "link -> plain") {
		t.Errorf("ls -l on a fresh mount does not show the symlink:\n%s", out)
	}
	if !strings.Contains(out, "-rwxr-x---") {
		t.Errorf("ls -l on a fresh mount does not show script's mode 0750:\n%s", out)
	}
	if got := run(t, "find", s.mnt, "-type", "l"); !strings.Contains(got, "/link") {
		t.Errorf("find -type l on a fresh mount: %q", got)
	}
	if fi, err := os.Lstat(s.path("link")); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("lstat link after ls -l: %v, %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(s.path("script")); err != nil || !fi.ModTime().Equal(stamp) || fi.Mode().Perm() != 0o750 {
		t.Errorf("stat script after ls -l: %v %v, %v; want 0750 and %v", fi.Mode(), fi.ModTime(), err, stamp)
	}
}
