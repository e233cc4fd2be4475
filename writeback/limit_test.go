package writeback

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/memstore"
)

// The mount's request limit sits under the upload limits: with one slot
// for every request and four parts uploaded at once, a streamed multipart
// upload (create, parts while writing, parts at commit, complete) still
// ends, because no request holds the slot while it waits for another.
func TestUploadUnderALimitOfOneRequestCompletes(t *testing.T) {
	mem := memstore.New()
	mem.AddBucket(testBucket)
	limited := s3io.Limit(mem, 1)
	m, err := New(limited, Options{StagingDir: t.TempDir(), PartSize: testPart, BlockSize: testBlock, Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	f, err := m.Create(testBucket, "big", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(21, 4*testPart+12345)
	for off := 0; off < len(data); off += 1 << 20 {
		end := min(off+1<<20, len(data))
		if _, err := f.WriteAt(ctx, data[off:end], int64(off)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.Commit(ctx); err != nil {
		t.Fatalf("commit under a limit of one request: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := mem.Bytes(testBucket, "big"); !bytes.Equal(got, data) {
		t.Fatal("object differs from what was written")
	}
	if limited.InFlight() != 0 || limited.Waiting() != 0 {
		t.Fatalf("after the upload: %d in flight, %d waiting", limited.InFlight(), limited.Waiting())
	}
}
