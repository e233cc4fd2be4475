package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// A directory rename whose copy of one key fails leaves the tree where it
// was and nothing under the new name.
func TestFailedDirectoryRenameUndoesItsCopies(t *testing.T) {
	mem := memstore.New()
	mem.AddBucket("b")
	for _, k := range []string{"old/", "old/k01", "old/k02", "old/k03", "old/k04", "old/k05", "old/k06", "old/sub/k07"} {
		mem.PutBytes("b", k, []byte(k), nil)
	}
	st := faultstore.New(mem)
	st.Fail(faultstore.Rule{Op: "CopyObject", Key: "new/k05"}, s3io.ErrServer)
	mnt := mountStore(t, Config{}, st)
	err := os.Rename(filepath.Join(mnt, "old"), filepath.Join(mnt, "new"))
	if !errors.Is(err, syscall.EIO) {
		t.Fatalf("rename with a failing copy: %v, want EIO", err)
	}
	page, lerr := st.List(context.Background(), s3io.ListRequest{Bucket: "b"})
	if lerr != nil {
		t.Fatal(lerr)
	}
	var keys []string
	for _, o := range page.Objects {
		if strings.HasPrefix(o.Key, "new/") {
			t.Errorf("key %s left under the new name", o.Key)
		}
		keys = append(keys, o.Key)
	}
	if len(keys) != 8 {
		t.Fatalf("keys after the failed rename: %v, want the 8 under old/", keys)
	}
	if _, err := os.Stat(filepath.Join(mnt, "old/sub/k07")); err != nil {
		t.Fatalf("the tree is not where it was: %v", err)
	}
}
