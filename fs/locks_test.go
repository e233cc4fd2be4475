package fs

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// within fails the test when f does not return within 5 s.
func within(t *testing.T, what string, f func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Errorf("%s waited for a held S3 request", what)
	}
}

// lsLong is what ls -l does: list, then stat every entry.
func lsLong(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// heldWhile starts op, waits until it is stuck in the held request and
// returns the channel op's result comes on.
func heldWhile(t *testing.T, held *faultstore.Hold, what string, op func() error) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- op() }()
	select {
	case <-held.Entered():
	case err := <-done:
		t.Fatalf("%s finished without the held request: %v", what, err)
	case <-time.After(10 * time.Second):
		t.Fatalf("the held request of %s never came", what)
	}
	return done
}

// answersBesideAHeldRequest checks that stat of d/f, ls -l of d and a
// read of d/other do not wait.
func answersBesideAHeldRequest(t *testing.T, mnt string) {
	t.Helper()
	within(t, "stat of the file", func() error { _, err := os.Stat(filepath.Join(mnt, "d/f")); return err })
	within(t, "ls -l of its directory", func() error { return lsLong(filepath.Join(mnt, "d")) })
	within(t, "open and read of another file", func() error {
		_, err := os.ReadFile(filepath.Join(mnt, "d/other"))
		return err
	})
}

// No lock that stat, a listing or another open needs is held across an S3
// request: while a writer's CreateMultipartUpload or PutObject hangs, the
// file's stat, ls -l of its directory and an open of another file there
// all answer.
func TestHeldRequestsBlockNothingElse(t *testing.T) {
	for _, tc := range []struct {
		op    string
		write func(path string) error
	}{
		{"CreateMultipartUpload", func(path string) error {
			// A sequential writer streams its first part, which starts
			// the multipart upload, then keeps writing.
			f, err := os.Create(path)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.Write(make([]byte, 12<<20))
			return err
		}},
		{"PutObject", func(path string) error {
			return os.WriteFile(path, []byte("small"), 0o644)
		}},
	} {
		t.Run(tc.op, func(t *testing.T) {
			mem := memstore.New()
			mem.AddBucket("b")
			mem.PutBytes("b", "d/other", []byte("other"), nil)
			st := faultstore.New(mem)
			held := st.Hold(faultstore.Rule{Op: tc.op, Key: "d/f"})
			defer held.Release()
			mnt := mountStore(t, Config{}, st)
			writer := heldWhile(t, held, "the writer", func() error { return tc.write(filepath.Join(mnt, "d/f")) })
			answersBesideAHeldRequest(t, mnt)
			held.Release()
			if err := <-writer; err != nil {
				t.Fatalf("writer after the release: %v", err)
			}
		})
	}
}

// The HEAD that an open for writing makes (a listing gave the file no
// metadata) is not made under the node's open lock: while it hangs, stat
// of the file, ls -l of its directory, an open of another file and a
// read-only open of the file itself all answer.
func TestHeldHeadOfAWriterBlocksNothingElse(t *testing.T) {
	mem := memstore.New()
	mem.AddBucket("b")
	mem.PutBytes("b", "d/f", []byte("old"), nil)
	mem.PutBytes("b", "d/other", []byte("other"), nil)
	st := faultstore.New(mem)
	mnt := mountStore(t, Config{NoListMetadata: true}, st)
	if err := lsLong(filepath.Join(mnt, "d")); err != nil {
		t.Fatal(err)
	}
	held := st.Hold(faultstore.Rule{Op: "HeadObject", Key: "d/f", Nth: 1})
	defer held.Release()
	writer := heldWhile(t, held, "the writer", func() error {
		f, err := os.OpenFile(filepath.Join(mnt, "d/f"), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return err
		}
		_, err = f.WriteString("new")
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	})
	answersBesideAHeldRequest(t, mnt)
	within(t, "read-only open of the file", func() error {
		f, err := os.Open(filepath.Join(mnt, "d/f"))
		if err != nil {
			return err
		}
		return f.Close()
	})
	held.Release()
	if err := <-writer; err != nil {
		t.Fatalf("writer after the release: %v", err)
	}
	if got, _ := mem.Bytes("b", "d/f"); string(got) != "oldnew" {
		t.Errorf("S3 has %q, want %q", got, "oldnew")
	}
}

// A chmod of a file nobody has open is a copy made under the node's open
// lock; a reader's open of the file does not wait for it.
func TestHeldMetadataCopyBlocksNoReader(t *testing.T) {
	mem := memstore.New()
	mem.AddBucket("b")
	mem.PutBytes("b", "d/f", []byte("old"), nil)
	st := faultstore.New(mem)
	mnt := mountStore(t, Config{}, st)
	path := filepath.Join(mnt, "d/f")
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	held := st.Hold(faultstore.Rule{Op: "CopyObject", Key: "d/f"})
	defer held.Release()
	chmod := heldWhile(t, held, "chmod", func() error { return os.Chmod(path, 0o600) })
	within(t, "read of the file", func() error {
		b, err := os.ReadFile(path)
		if err == nil && string(b) != "old" {
			t.Errorf("read %q", b)
		}
		return err
	})
	held.Release()
	if err := <-chmod; err != nil {
		t.Fatalf("chmod after the release: %v", err)
	}
}
