package main

import (
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"1048576", 1 << 20},
		{"512k", 512 << 10},
		{"512K", 512 << 10},
		{"512KB", 512 << 10},
		{"512KiB", 512 << 10},
		{"512kib", 512 << 10},
		{"64MiB", 64 << 20},
		{"64m", 64 << 20},
		{"1G", 1 << 30},
		{"1GiB", 1 << 30},
		{"2T", 2 << 40},
		{"1.5K", 1536},
		{"0.5GiB", 512 << 20},
		{".5M", 512 << 10},
		{"7B", 7},
		{" 8 MiB ", 8 << 20},
		{"1.9", 1}, // a fraction of a byte is dropped
		{"4194304T", 1 << 62},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
		}
	}
}

func TestParseSizeRefusesBadInput(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"", `size "": want a number with an optional unit`},
		{"   ", `size "   ": want a number`},
		{"MiB", `size "MiB": want a number`},
		{"-1", `size "-1": want a number`},
		{"-1MiB", `size "-1MiB"`},
		{"+1", `size "+1"`},
		{"1X", `size "1X": want a number with an optional unit (K, M, G, T; e.g. 512MiB)`},
		{"1P", `size "1P"`},
		{"1KBB", `size "1KBB"`},
		{"1e3", `size "1e3"`},
		{"0x10", `size "0x10"`},
		{"1 000", `size "1 000"`},
		{"NaN", `size "NaN"`},
		{"inf", `size "inf"`},
		{".", `size "."`},
		{"1.2.3", `size "1.2.3"`},
		{"1..5K", `size "1..5K"`},
		{"4194305T", `size "4194305T" is too large`},
		{"9223372036854775807", "is too large"},
		{strings.Repeat("9", 400), "value out of range"},
		{strings.Repeat("9", 400) + "K", "value out of range"},
	}
	for _, tt := range tests {
		got, err := parseSize(tt.in)
		if err == nil {
			t.Errorf("parseSize(%q) = %d, want an error", tt.in, got)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseSize(%q): error %q does not contain %q", tt.in, err, tt.want)
		}
	}
}

// FuzzParseSize: no panic; an accepted size is between 0 and 2^62,
// reads back from its decimal form, and reads the same in every spelling
// of its unit; an error quotes the input.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"64MiB", "1G", "512k", "1048576", "1.5K", "0", " 8 MiB ", "-1", "", "1e3",
		"1X", "4194305T", "NaN", ".", "1iB", "0.0000001T"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseSize(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "size "+strconv.Quote(s)) {
				t.Errorf("error %q does not quote the input", err)
			}
			return
		}
		if n < 0 || n > 1<<62 {
			t.Fatalf("parseSize(%q) = %d, out of range", s, n)
		}
		if back, err := parseSize(strconv.FormatInt(n, 10)); err != nil || back != n {
			t.Errorf("parseSize(%d) = %d, %v", n, back, err)
		}
		if ts := strings.TrimSpace(s); ts != "" && strings.ContainsRune("KMGTkmgt", rune(ts[len(ts)-1])) {
			for _, suffix := range []string{"B", "b", "iB", "ib", "IB"} {
				if other, err := parseSize(ts + suffix); err != nil || other != n {
					t.Errorf("parseSize(%q) = %d, %v; want %d as for %q", ts+suffix, other, err, n, s)
				}
			}
		}
		for _, unit := range []struct {
			name  string
			shift uint
		}{{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40}} {
			if n > 0 && n%(1<<unit.shift) == 0 {
				in := strconv.FormatInt(n>>unit.shift, 10) + unit.name
				if back, err := parseSize(in); err != nil || back != n {
					t.Errorf("parseSize(%q) = %d, %v; want %d", in, back, err, n)
				}
			}
		}
	})
}
