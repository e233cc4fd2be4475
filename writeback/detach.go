package writeback

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// detachFetchLimit is how many unstaged base bytes Detach fetches; above
// it, the base is parked under another key instead, which the server
// copies without the bytes crossing the network.
const detachFetchLimit = 8 << 20

// parkedBase is the copy of a removed file's base, kept in S3 until the
// file's last close so that its open handles can still read every byte.
type parkedBase struct {
	bucket, key string
	etag        string // the base's ETag under its own key
	record      string // the file in the mount's staging directory naming the copy
}

// parkedRecord names a parked copy, so that the next mount deletes it when
// this one dies before the file's last close.
type parkedRecord struct {
	Bucket string    `json:"bucket"`
	Key    string    `json:"key"`
	Made   time.Time `json:"made"`
}

// Detach cuts the file loose from its object, which is about to be removed
// or replaced, so that open handles keep reading and writing the file as
// POSIX wants, and nothing is uploaded any more. The base bytes not staged
// yet are fetched when they are few; otherwise the base is copied on the
// server to parkKey (in the file's bucket; "" to always fetch), and read
// from there until Close deletes it. A failed copy falls back to fetching.
func (f *File) Detach(ctx context.Context, parkKey string) error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if f.discarded {
		return nil
	}
	// A crash must not upload a removed file (should Detach fail, the
	// file is at worst kept aside rather than uploaded).
	if err := f.unsealLocked(); err != nil {
		return err
	}
	if parkKey != "" && f.unstagedBaseLocked() > detachFetchLimit {
		err := f.parkLocked(ctx, parkKey)
		if err == nil {
			f.discarded = true
			f.publishLocked()
			return nil
		}
		f.m.log.Warn("could not copy the base of a removed open file aside; fetching its bytes instead",
			"bucket", f.bucket, "key", f.key, "err", err)
	}
	bs := f.blockSize()
	if err := f.fetchLocked(ctx, 0, (f.size+bs-1)/bs); err != nil {
		return err
	}
	f.discarded = true
	f.detached, f.base, f.baseLimit = f.base, nil, 0
	f.publishLocked()
	return nil
}

// unstagedBaseLocked counts the base bytes still only in S3.
func (f *File) unstagedBaseLocked() int64 {
	var n int64
	bs := f.blockSize()
	for i := int64(0); i*bs < f.baseLimit; i++ {
		if f.needsFetchLocked(i) {
			n += min(bs, f.baseLimit-i*bs)
		}
	}
	return n
}

// parkLocked copies the base to key on the server and reads it from there.
func (f *File) parkLocked(ctx context.Context, key string) error {
	if err := f.spillLocked(); err != nil { // the record is named after the staging file
		return err
	}
	record := filepath.Join(f.m.dir, "parked-"+filepath.Base(f.path)+".json")
	b, err := json.Marshal(parkedRecord{Bucket: f.bucket, Key: key, Made: time.Now().UTC()})
	if err != nil {
		return err
	}
	// The record goes first: a crash after the copy leaves no copy unnamed.
	if err := os.WriteFile(record, b, 0o600); err != nil {
		return fmt.Errorf("parked copy record: %w", err)
	}
	src := *f.base
	src.Key = f.key
	sseKey := f.readOptionsLocked().SSEC
	opts := s3io.CopyOptions{WriteOptions: f.m.opts.Object}
	opts.Metadata, opts.ContentType, opts.SSEC = f.base.Metadata, f.base.ContentType, sseKey
	copied, err := f.m.Copy(ctx, src, f.bucket, sseKey, f.bucket, key, opts)
	if err != nil {
		os.Remove(record)
		return err
	}
	f.parked = &parkedBase{bucket: f.bucket, key: key, etag: f.base.ETag, record: record}
	base := *f.base
	if copied.ETag != "" {
		base.ETag = copied.ETag // a multipart copy has an ETag of its own
	}
	f.base = &base
	return nil
}

// baseKeyLocked is the key the base's bytes are read from.
func (f *File) baseKeyLocked() string {
	if f.parked != nil {
		return f.parked.key
	}
	return f.key
}

// dropParkedLocked deletes the parked copy, if any.
func (f *File) dropParkedLocked() {
	p := f.parked
	if p == nil {
		return
	}
	f.parked = nil
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.m.ctx), time.Minute)
	defer cancel()
	if err := f.m.store.DeleteObject(ctx, p.bucket, p.key); err != nil {
		f.m.log.Warn("could not delete the parked copy of a removed file; the next mount tries again",
			"bucket", p.bucket, "key", p.key, "err", err)
		return
	}
	os.Remove(p.record)
}

// Reattach undoes Detach when the removal it prepared failed (the server
// refused the DELETE or the copy of a rename), so that a writer's close
// reports its upload's result instead of pretending the file was removed.
func (f *File) Reattach() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if !f.discarded {
		return nil
	}
	f.discarded = false
	if p := f.parked; p != nil {
		// The object is still there, as it was: read it again.
		base := *f.base
		base.ETag = p.etag
		f.base = &base
		f.dropParkedLocked()
		f.publishLocked()
		return nil
	}
	// Every byte is staged: the next commit uploads them all to the key,
	// over the object that is still there (a rename must copy and delete
	// it, not take the file for one S3 never had).
	f.base, f.detached = f.detached, nil
	bs := f.blockSize()
	for i := int64(0); i*bs < f.size; i++ {
		f.dirty.set(i)
	}
	f.publishLocked()
	return f.markChangedLocked()
}

// removeParked deletes the copies that dead mounts parked (records in
// dir), and returns how many it deleted.
func (m *Manager) removeParked(ctx context.Context, dir string) int {
	records, _ := filepath.Glob(filepath.Join(dir, "parked-*.json"))
	removed := 0
	for _, path := range records {
		var r parkedRecord
		b, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(b, &r)
		}
		if err == nil && r.Key != "" {
			err = m.store.DeleteObject(ctx, r.Bucket, r.Key)
			if errors.Is(err, s3io.ErrNotFound) {
				err = nil
			}
		}
		if err != nil {
			m.log.Warn("parked copy of a removed file not deleted", "record", path, "err", err)
			continue
		}
		os.Remove(path)
		removed++
	}
	return removed
}
