package writeback

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
	"github.com/s3mount/s3mount/s3io/memstore"
)

const (
	testBucket = "bkt"
	testBlock  = 1 << 20
	testPart   = 5 << 20
)

// countingStore counts calls and can fail chosen ones.
type countingStore struct {
	s3io.Store
	mu    sync.Mutex
	calls map[string]int
	fail  func(op string, part int32) error
	// partsWithoutMD5 counts parts uploaded without Content-MD5.
	partsWithoutMD5 int
	// afterCopy, when set, runs after each successful CopyObject (to play
	// a server that drops what a copy should keep).
	afterCopy func(bucket, key string)
}

func (c *countingStore) count(op string, part int32) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
	if c.fail != nil {
		return c.fail(op, part)
	}
	return nil
}

func (c *countingStore) get(op string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls[op]
}

func (c *countingStore) PutObject(ctx context.Context, b, k string, body io.ReadSeeker, size int64, o s3io.WriteOptions) (s3io.ObjectInfo, error) {
	if err := c.count("PutObject", 0); err != nil {
		return s3io.ObjectInfo{}, err
	}
	return c.Store.PutObject(ctx, b, k, body, size, o)
}

func (c *countingStore) UploadPart(ctx context.Context, up s3io.Upload, n int32, body io.ReadSeeker, size int64) (s3io.Part, error) {
	if err := c.count("UploadPart", n); err != nil {
		return s3io.Part{}, err
	}
	if !up.ContentMD5 {
		c.mu.Lock()
		c.partsWithoutMD5++
		c.mu.Unlock()
	}
	return c.Store.UploadPart(ctx, up, n, body, size)
}

func (c *countingStore) UploadPartCopy(ctx context.Context, up s3io.Upload, n int32, src s3io.CopySource, r s3io.Range) (s3io.Part, error) {
	if err := c.count("UploadPartCopy", n); err != nil {
		return s3io.Part{}, err
	}
	return c.Store.UploadPartCopy(ctx, up, n, src, r)
}

func (c *countingStore) ReadRange(ctx context.Context, b, k string, off int64, p []byte, o s3io.ReadOptions) (int, error) {
	if err := c.count("ReadRange", 0); err != nil {
		return 0, err
	}
	return c.Store.ReadRange(ctx, b, k, off, p, o)
}

func (c *countingStore) CreateMultipartUpload(ctx context.Context, b, k string, o s3io.WriteOptions) (string, error) {
	if err := c.count("CreateMultipartUpload", 0); err != nil {
		return "", err
	}
	return c.Store.CreateMultipartUpload(ctx, b, k, o)
}

func (c *countingStore) CompleteMultipartUpload(ctx context.Context, up s3io.Upload, parts []s3io.Part) (s3io.ObjectInfo, error) {
	if err := c.count("CompleteMultipartUpload", 0); err != nil {
		return s3io.ObjectInfo{}, err
	}
	return c.Store.CompleteMultipartUpload(ctx, up, parts)
}

func (c *countingStore) AbortMultipartUpload(ctx context.Context, up s3io.Upload) error {
	if err := c.count("AbortMultipartUpload", 0); err != nil {
		return err
	}
	return c.Store.AbortMultipartUpload(ctx, up)
}

func (c *countingStore) CopyObject(ctx context.Context, src s3io.CopySource, b, k string, o s3io.CopyOptions) (s3io.ObjectInfo, error) {
	if err := c.count("CopyObject", 0); err != nil {
		return s3io.ObjectInfo{}, err
	}
	info, err := c.Store.CopyObject(ctx, src, b, k, o)
	if err == nil && c.afterCopy != nil {
		c.afterCopy(b, k)
	}
	return info, err
}

type fixture struct {
	mem *memstore.Store
	// faults sits under store: what it fails, store counts as tried.
	faults  *faultstore.Store
	store   *countingStore
	m       *Manager
	staging string
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with options changed by opts.
func newFixtureWith(t *testing.T, opts func(*Options)) *fixture {
	t.Helper()
	mem := memstore.New()
	mem.AddBucket(testBucket)
	faults := faultstore.New(mem)
	cs := &countingStore{Store: faults, calls: make(map[string]int)}
	dir := t.TempDir()
	o := Options{StagingDir: dir, PartSize: testPart, BlockSize: testBlock, Concurrency: 4,
		Object: s3io.WriteOptions{ContentMD5: true}}
	if opts != nil {
		opts(&o)
	}
	m, err := New(cs, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return &fixture{mem: mem, faults: faults, store: cs, m: m, staging: dir}
}

func randomBytes(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func (fx *fixture) object(t *testing.T, key string) []byte {
	t.Helper()
	b, ok := fx.mem.Bytes(testBucket, key)
	if !ok {
		t.Fatalf("%s is not in the store", key)
	}
	return b
}

// failWhile makes the store fail the ops named while the returned flag is
// true (it starts true).
func (fx *fixture) failWhile(ops ...string) *bool {
	failing := true
	fx.store.fail = func(op string, _ int32) error {
		if failing && slices.Contains(ops, op) {
			return errors.New("injected")
		}
		return nil
	}
	return &failing
}

func (fx *fixture) noUploadsLeft(t *testing.T) {
	t.Helper()
	ups, err := fx.mem.ListMultipartUploads(context.Background(), testBucket, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(ups) != 0 {
		t.Fatalf("%d multipart uploads left over", len(ups))
	}
}

func (fx *fixture) stagingFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := filepath.WalkDir(fx.staging, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// A live mount's own directory and its lock are not staged data.
		if !d.IsDir() && d.Name() != lockName {
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func writeAll(t *testing.T, f *File, data []byte, chunk int) {
	t.Helper()
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		if n, err := f.WriteAt(context.Background(), data[off:end], int64(off)); err != nil || n != end-off {
			t.Fatalf("write at %d: %d, %v", off, n, err)
		}
	}
}

func TestSmallNewFileIsOnePutObject(t *testing.T) {
	fx := newFixture(t)
	f, err := fx.m.Create(testBucket, "small", Meta{ContentType: "text/plain", UserMetadata: map[string]string{"mode": "33188"}})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(1, 300<<10)
	writeAll(t, f, data, 128<<10)
	info, err := f.Commit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := fx.object(t, "small"); !bytes.Equal(got, data) {
		t.Fatalf("object has %d bytes, want the %d written", len(got), len(data))
	}
	if info.Size != int64(len(data)) || info.ETag == "" || info.Metadata["mode"] != "33188" {
		t.Fatalf("info %+v", info)
	}
	if fx.store.get("PutObject") != 1 || fx.store.get("UploadPart") != 0 {
		t.Fatalf("calls %v, want one PutObject", fx.store.calls)
	}
	if left := fx.stagingFiles(t); len(left) != 0 {
		t.Fatalf("staging files left: %v", left)
	}
}

func TestEmptyCreatedFileIsUploaded(t *testing.T) {
	fx := newFixture(t)
	f, err := fx.m.Create(testBucket, "empty", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "empty"); len(got) != 0 {
		t.Fatalf("empty file has %d bytes", len(got))
	}
}

func TestSequentialWriteStreamsPartsBeforeCommit(t *testing.T) {
	fx := newFixture(t)
	f, err := fx.m.Create(testBucket, "big", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(2, 23<<20+12345)
	writeAll(t, f, data, 128<<10)
	f.waitIdle()
	streamed := fx.store.get("UploadPart")
	if streamed < 4 {
		t.Fatalf("%d parts uploaded before commit, want the 4 whole parts behind the writer", streamed)
	}
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "big"); !bytes.Equal(got, data) {
		t.Fatal("object differs from what was written")
	}
	if n := fx.store.get("UploadPart"); n != 5 {
		t.Fatalf("%d parts uploaded in all, want 5 (each once)", n)
	}
	if fx.store.partsWithoutMD5 != 0 {
		t.Fatalf("%d parts sent without Content-MD5 although it is on", fx.store.partsWithoutMD5)
	}
	fx.noUploadsLeft(t)
}

func TestRewriteOfStreamedPartIsUploadedAgain(t *testing.T) {
	fx := newFixture(t)
	f, _ := fx.m.Create(testBucket, "k", Meta{})
	data := randomBytes(3, 16<<20)
	writeAll(t, f, data, 1<<20)
	f.waitIdle()
	copy(data[100:], "rewritten")
	if _, err := f.WriteAt(context.Background(), []byte("rewritten"), 100); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "k"); !bytes.Equal(got, data) {
		t.Fatal("object does not hold the rewrite")
	}
}

func TestOneByteChangeInLargeObjectCopiesTheRest(t *testing.T) {
	fx := newFixture(t)
	data := randomBytes(4, 40<<20+77)
	base := fx.mem.PutBytes(testBucket, "large", data, map[string]string{"color": "blue"})
	base, _ = fx.mem.HeadObject(context.Background(), testBucket, "large", s3io.ReadOptions{})
	f, err := fx.m.Open(testBucket, "large", base)
	if err != nil {
		t.Fatal(err)
	}
	off := int64(17<<20 + 3)
	data[off] ^= 0xff
	if _, err := f.WriteAt(context.Background(), data[off:off+1], off); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if got := fx.object(t, "large"); !bytes.Equal(got, data) {
		t.Fatal("object differs after a one-byte change")
	}
	if up, cp := fx.store.get("UploadPart"), fx.store.get("UploadPartCopy"); up != 1 || cp != 8 {
		t.Fatalf("%d parts uploaded and %d copied, want 1 and 8", up, cp)
	}
	if reads := fx.store.get("ReadRange"); reads != 5 {
		t.Fatalf("%d blocks fetched, want the 5 of the changed part", reads)
	}
	info, _ := fx.mem.HeadObject(context.Background(), testBucket, "large", s3io.ReadOptions{})
	if info.Metadata["color"] != "blue" {
		t.Fatalf("metadata lost: %v", info.Metadata)
	}
	fx.noUploadsLeft(t)
}

func TestMetadataOnlyChangeIsACopy(t *testing.T) {
	fx := newFixture(t)
	data := randomBytes(5, 1000)
	fx.mem.PutBytes(testBucket, "m", data, nil)
	base, _ := fx.mem.HeadObject(context.Background(), testBucket, "m", s3io.ReadOptions{})
	f, _ := fx.m.Open(testBucket, "m", base)
	f.SetMeta(func(m *Meta) { m.UserMetadata = map[string]string{"mode": "33261"} })
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	f.Close()
	info, _ := fx.mem.HeadObject(context.Background(), testBucket, "m", s3io.ReadOptions{})
	if info.Metadata["mode"] != "33261" || !bytes.Equal(fx.object(t, "m"), data) {
		t.Fatalf("after chmod: metadata %v", info.Metadata)
	}
	if fx.store.get("CopyObject") != 1 || fx.store.get("PutObject") != 0 || fx.store.get("ReadRange") != 0 {
		t.Fatalf("calls %v, want one CopyObject and no reads", fx.store.calls)
	}
}

func TestFailedUploadReturnsErrorAbortsAndKeepsData(t *testing.T) {
	fx := newFixture(t)
	fx.faults.Fail(faultstore.Rule{Op: "UploadPart", Part: 3}, s3io.ErrServer)
	f, _ := fx.m.Create(testBucket, "doomed", Meta{})
	data := randomBytes(6, 18<<20)
	writeAll(t, f, data, 1<<20)
	if _, err := f.Commit(context.Background()); !errors.Is(err, s3io.ErrServer) {
		t.Fatalf("commit error %v, want the injected server error", err)
	}
	fx.noUploadsLeft(t)
	if _, ok := fx.mem.Bytes(testBucket, "doomed"); ok {
		t.Fatal("a failed upload left an object")
	}
	if err := f.Close(); err == nil {
		t.Fatal("close of a file never uploaded returned no error")
	}
	kept, err := os.ReadFile(f.path)
	if err != nil || !bytes.Equal(kept, data) {
		t.Fatalf("staged data not kept intact: %v", err)
	}
	if _, err := os.Stat(f.path[:len(f.path)-len(".data")] + ".json"); err != nil {
		t.Fatalf("no manifest: %v", err)
	}
}

func TestCommitRetriesAfterFailure(t *testing.T) {
	fx := newFixture(t)
	throttled := fx.faults.Fail(faultstore.Rule{Op: "PutObject"}, s3io.ErrThrottled)
	f, _ := fx.m.Create(testBucket, "retry", Meta{})
	writeAll(t, f, []byte("hello"), 5)
	if _, err := f.Commit(context.Background()); !errors.Is(err, s3io.ErrThrottled) {
		t.Fatalf("commit against a throttling store: %v, want ErrThrottled", err)
	}
	throttled.Remove()
	if _, err := f.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if string(fx.object(t, "retry")) != "hello" {
		t.Fatal("retried commit did not upload")
	}
}

func TestObjectChangedElsewhereGivesPreconditionFailed(t *testing.T) {
	fx := newFixture(t)
	fx.mem.PutBytes(testBucket, "c", randomBytes(7, 3<<20), nil)
	base, _ := fx.mem.HeadObject(context.Background(), testBucket, "c", s3io.ReadOptions{})
	f, _ := fx.m.Open(testBucket, "c", base)
	fx.mem.PutBytes(testBucket, "c", []byte("someone else"), nil)
	_, err := f.WriteAt(context.Background(), []byte("x"), 10)
	if !errors.Is(err, s3io.ErrPreconditionFailed) {
		t.Fatalf("write needing old bytes: %v, want ErrPreconditionFailed", err)
	}
	// the failed write changed nothing: Close removes the staging file
	f.Close()
}
