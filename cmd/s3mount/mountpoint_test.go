package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckMountPoint(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	full := filepath.Join(dir, "full")
	file := filepath.Join(dir, "file")
	hidden := filepath.Join(dir, "hidden")
	for _, d := range []string{empty, full, hidden} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{file, filepath.Join(full, "x"), filepath.Join(hidden, ".keep")} {
		if err := os.WriteFile(f, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(empty, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		path          string
		allowNonEmpty bool
		want          string // "" for success
	}{
		{"empty directory", empty, false, ""},
		{"symlink to an empty directory", filepath.Join(dir, "link"), false, ""},
		{"missing", filepath.Join(dir, "missing"), false, "mount point " + filepath.Join(dir, "missing") + " does not exist"},
		{"missing even if non-empty allowed", filepath.Join(dir, "missing"), true, "does not exist"},
		{"parent missing", filepath.Join(dir, "a", "b"), false, "does not exist"},
		{"a file", file, false, "mount point " + file + " is not a directory"},
		{"a file even if non-empty allowed", file, true, "is not a directory"},
		{"below a file", filepath.Join(file, "x"), false, "mount point " + filepath.Join(file, "x") + ": "},
		{"not empty", full, false, "mount point " + full + " is not empty (use --allow-non-empty to mount over it)"},
		{"only a hidden file", hidden, false, "is not empty"},
		{"not empty but allowed", full, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkMountPoint(tt.path, tt.allowNonEmpty)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
			var ce *codedError
			if !errors.As(err, &ce) || ce.code != exitMountPoint {
				t.Errorf("error %v is not classified as exit code %d", err, exitMountPoint)
			}
		})
	}
}
