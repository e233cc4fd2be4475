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
	"github.com/s3mount/s3mount/s3io/memstore"
)

// copyFailingStore fails the copy to one key.
type copyFailingStore struct {
	*memstore.Store
	failTo string
}

func (c *copyFailingStore) CopyObject(ctx context.Context, src s3io.CopySource, bucket, key string, o s3io.CopyOptions) (s3io.ObjectInfo, error) {
	if key == c.failTo {
		return s3io.ObjectInfo{}, errors.New("injected: internal error")
	}
	return c.Store.CopyObject(ctx, src, bucket, key, o)
}

// A directory rename whose copy of one key fails leaves the tree where it
// was and nothing under the new name.
func TestFailedDirectoryRenameUndoesItsCopies(t *testing.T) {
	st := &copyFailingStore{Store: memstore.New(), failTo: "new/k05"}
	st.AddBucket("b")
	for _, k := range []string{"old/", "old/k01", "old/k02", "old/k03", "old/k04", "old/k05", "old/k06", "old/sub/k07"} {
		st.PutBytes("b", k, []byte(k), nil)
	}
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
