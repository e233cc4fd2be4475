package writeback

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// manifest describes a staging file, next to it (NAME.data and
// NAME.json), from the first change until S3 has the file, so that a
// person or the next mount can tell what the bytes are and where they go.
type manifest struct {
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Size        int64             `json:"size"`
	ContentType string            `json:"content_type,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	// BaseETag names the object the file started from ("" for a new one);
	// BaseLimit is how many of its bytes still show through.
	BaseETag  string `json:"base_etag,omitempty"`
	BaseLimit int64  `json:"base_limit,omitempty"`
	// Staged lists the block ranges [from, to) whose bytes are in the data
	// file; Known is false when the list was not written (only a closed
	// file's manifest has it).
	Staged [][2]int64 `json:"staged,omitempty"`
	Known  bool       `json:"staged_known"`
	// BlockSize is the unit of Staged.
	BlockSize int64     `json:"block_size"`
	Written   time.Time `json:"written"`
	// Identity is the server and account the data is for (manifests of
	// older versions have none).
	Identity Identity `json:"identity"`
	// State is stateOpen from the first change, stateClosed once the
	// program closed the file and was told its upload failed: only then
	// are the bytes the file the program meant, and only then does
	// recovery upload them. Older versions wrote none (see closed).
	State string `json:"state,omitempty"`
	// Uploads are the multipart uploads begun for the file and neither
	// completed nor aborted: recovery aborts them, so that a dead mount
	// leaves no parts behind.
	Uploads []uploadRef `json:"multipart_uploads,omitempty"`
}

const (
	stateOpen   = "open"
	stateClosed = "closed"
)

// closed reports whether the program closed the file. Older versions
// recorded the staged blocks (Known) only at a failed close, so Known
// tells it for their manifests.
func (m manifest) closed() bool {
	if m.State == "" {
		return m.Known
	}
	return m.State == stateClosed
}

// uploadRef names a multipart upload. It is recorded before the
// request that creates it (ID still empty, Started set), since the mount
// may die while the server creates it.
type uploadRef struct {
	Bucket  string    `json:"bucket"`
	Key     string    `json:"key"`
	ID      string    `json:"upload_id,omitempty"`
	Started time.Time `json:"started,omitzero"`
}

func manifestPath(dataPath string) string {
	return strings.TrimSuffix(dataPath, ".data") + ".json"
}

// writeManifestLocked records the file. A closed file's manifest holds
// the staged block list and is fsynced with its directory: a promise to
// the program rests on it. An open file's is written at its first change
// (keeping the block list current would cost a disk write per write) and
// is durable only when asked (see unsealLocked).
func (f *File) writeManifestLocked(closed, durable bool) error {
	if err := f.toDiskLocked(); err != nil { // the manifest names the staging file
		return err
	}
	m := manifest{Bucket: f.bucket, Key: f.key, Size: f.size, ContentType: f.meta.ContentType,
		Metadata: f.meta.UserMetadata, BaseLimit: f.baseLimit, BlockSize: f.blockSize(), Written: time.Now().UTC(),
		Identity: f.m.opts.Identity, State: stateOpen}
	if f.base != nil {
		m.BaseETag = f.base.ETag
	}
	if closed {
		m.State, m.Known = stateClosed, true
		bs := f.blockSize()
		for i := int64(0); i*bs < f.size; i++ {
			if !f.present.has(i) {
				continue
			}
			if n := len(m.Staged); n > 0 && m.Staged[n-1][1] == i {
				m.Staged[n-1][1] = i + 1
			} else {
				m.Staged = append(m.Staged, [2]int64{i, i + 1})
			}
		}
	}
	f.manMu.Lock()
	defer f.manMu.Unlock()
	m.Uploads = slices.Clone(f.uploads)
	// A closed manifest is fsynced (a failed close's data must survive a
	// crash of the machine) unless written by an asynchronous close.
	if err := saveManifest(manifestPath(f.path), m, durable || closed && !f.m.opts.AsyncUpload); err != nil {
		return fmt.Errorf("manifest of %s: %w", f.path, err)
	}
	f.onDisk = &m
	return nil
}

// saveManifest replaces the manifest at path. Unless durable, nothing is
// fsynced: a kill -9 of the mount keeps the page cache, so only a crash of
// the machine can lose such a write.
func saveManifest(path string, m manifest, durable bool) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if !durable {
		if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
	if err := writeFileSynced(tmp, append(b, '\n')); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// setUploads changes the list of the file's unfinished multipart
// uploads and rewrites the manifest, if there is one, with it. No other
// lock is taken under manMu, so any caller may hold others (ensureUpload
// holds mpMu).
//
// Starting an upload costs no fsync: against a kill -9 the page cache
// suffices, and a crash of the machine loses at worst the record of an
// upload whose parts a lifecycle rule (AbortIncompleteMultipartUpload)
// removes; the staged bytes themselves are not fsynced before a close
// either. A closed file's manifest stays durable, as always.
func (f *File) setUploads(update func([]uploadRef) []uploadRef) {
	f.manMu.Lock()
	defer f.manMu.Unlock()
	f.uploads = update(f.uploads)
	if f.onDisk == nil {
		return
	}
	m := *f.onDisk
	m.Uploads = slices.Clone(f.uploads)
	if err := saveManifest(manifestPath(f.path), m, m.closed()); err != nil {
		f.m.log.Warn("multipart upload not recorded in the staging manifest", "path", f.path, "err", err)
		return
	}
	f.onDisk = &m
}

// uploadStarting records a multipart upload about to be created and
// returns its record for uploadStarted.
func (f *File) uploadStarting(bucket, key string) uploadRef {
	ref := uploadRef{Bucket: bucket, Key: key, Started: time.Now().UTC()}
	f.setUploads(func(l []uploadRef) []uploadRef { return append(l, ref) })
	return ref
}

// uploadStarted fills in the ID of the upload recorded as ref. (When the
// request failed, ref stays: the server may have created it all the same.)
func (f *File) uploadStarted(ref uploadRef, id string) {
	f.setUploads(func(l []uploadRef) []uploadRef {
		for i := range l {
			if l[i] == ref {
				l[i].ID = id
			}
		}
		return l
	})
}

// uploadEnded forgets a multipart upload that was completed or aborted.
func (f *File) uploadEnded(id string) {
	f.setUploads(func(l []uploadRef) []uploadRef {
		return slices.DeleteFunc(l, func(u uploadRef) bool { return u.ID == id })
	})
}

// writeFileSynced writes a new file and fsyncs it, so that a rename over
// the old one never leaves an empty manifest after a crash.
func writeFileSynced(path string, b []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	_, err = fh.Write(b)
	if err == nil {
		err = fh.Sync()
	}
	return errors.Join(err, fh.Close())
}

// syncDir makes a rename or create in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(d.Sync(), d.Close())
}

// markChangedLocked notes a change, writing at the first one since the
// last commit the manifest that lets a later mount find the staged bytes.
func (f *File) markChangedLocked() error {
	f.changeSeq++
	if f.sealed {
		// Only metadata changed (a write unseals first): the bytes are
		// still those the program closed, and the manifest says so.
		return f.writeManifestLocked(true, !f.m.opts.AsyncUpload)
	}
	if f.changed && f.manifested {
		return nil
	}
	f.changed = true
	f.publishLocked()
	if f.mem != nil {
		return nil // nothing on disk to describe until it spills
	}
	if err := f.writeManifestLocked(false, false); err != nil {
		return err
	}
	f.manifested = true
	return nil
}

// sealLocked makes the staged bytes, then a manifest saying the program
// closed the file, durable: the next mount uploads them even if this one
// dies now.
func (f *File) sealLocked() error {
	if f.sealed {
		return nil
	}
	if err := f.toDiskLocked(); err != nil {
		return err
	}
	if err := f.staging.Sync(); err != nil {
		return fmt.Errorf("staging file %s: %w", f.path, err)
	}
	if err := f.writeManifestLocked(true, true); err != nil {
		return err
	}
	f.sealed, f.manifested = true, true
	f.publishLocked()
	return nil
}

// unsealLocked marks a sealed file open again before its staged bytes
// change (a write after a failed close): they stop being what the program
// closed. The manifest is fsynced first, or a crash of the machine could
// keep the closed manifest and the new bytes.
func (f *File) unsealLocked() error {
	if !f.sealed {
		return nil
	}
	if err := f.writeManifestLocked(false, !f.m.opts.AsyncUpload); err != nil {
		return err
	}
	f.sealed = false
	f.publishLocked()
	return nil
}

// committedLocked drops the manifest: S3 has everything.
func (f *File) committedLocked() {
	f.sealed = false
	if !f.manifested {
		return
	}
	f.manMu.Lock()
	unlinkMissingOK(manifestPath(f.path))
	f.onDisk = nil
	f.manMu.Unlock()
	f.manifested = false
}

func readManifest(path string) (manifest, error) {
	var m manifest
	b, err := os.ReadFile(path)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("manifest %s: %w", path, err)
	}
	if m.BlockSize <= 0 || m.Size < 0 || m.Bucket == "" || m.Key == "" {
		return m, fmt.Errorf("manifest %s: incomplete", path)
	}
	return m, nil
}
