package fs

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// countingLister counts List and HeadObject requests; with headsUnder
// set, only the HEADs of keys under that prefix (a lookup's HEAD of the
// directory's own name may still be counted after the lookup returned: it
// is cancelled, not waited for, once the listing shows a directory).
type countingLister struct {
	s3io.Store
	headsUnder   string
	lists, heads atomic.Int64
}

func (c *countingLister) List(ctx context.Context, req s3io.ListRequest) (s3io.ListPage, error) {
	c.lists.Add(1)
	return c.Store.List(ctx, req)
}

func (c *countingLister) HeadObject(ctx context.Context, b, k string, o s3io.ReadOptions) (s3io.ObjectInfo, error) {
	if strings.HasPrefix(k, c.headsUnder) {
		c.heads.Add(1)
	}
	return c.Store.HeadObject(ctx, b, k, o)
}

func TestTenThousandKeysWithOneCommonPrefix(t *testing.T) {
	st := memstore.New()
	st.AddBucket("b")
	for i := 0; i < 10000; i++ {
		st.PutBytes("b", fmt.Sprintf("common/prefix/file-%05d", i), []byte("x"), nil)
	}
	st.PutBytes("b", "common/prefix/../escape", []byte("x"), nil)
	st.PutBytes("b", "common/prefix//double", []byte("x"), nil)
	st.PutBytes("b", "common/prefix/new\nline", []byte("x"), nil)
	cs := &countingLister{Store: st}
	mnt := mountStore(t, Config{}, cs)
	dir := filepath.Join(mnt, "common", "prefix")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 10001 { // 10,000 files and "new\nline"
		t.Fatalf("%d entries, want 10001", len(entries))
	}
	for _, e := range entries {
		if e.Name() == ".." || e.Name() == "" {
			t.Fatalf("listing shows %q", e.Name())
		}
	}
	if n := cs.lists.Load(); n > 16 {
		t.Fatalf("%d list requests for 10,000 keys, want about 10", n)
	}
	before := cs.heads.Load() + cs.lists.Load()
	if _, err := os.Stat(filepath.Join(dir, "file-04321")); err != nil {
		t.Fatal(err)
	}
	if n := cs.heads.Load() + cs.lists.Load() - before; n > 2 {
		t.Fatalf("lookup of one name sent %d requests: it must not list the directory", n)
	}
	// Nothing escapes the mount: "..", an empty segment and the directory
	// name stay inside.
	if _, err := os.Stat(filepath.Join(mnt, "common", "escape")); !os.IsNotExist(err) {
		t.Fatalf("a key with .. shows outside its directory: %v", err)
	}
}
