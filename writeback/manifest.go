package writeback

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	// file; Known is false when the list was not written (a crash), and
	// then only a new file (no base) can be rebuilt.
	Staged [][2]int64 `json:"staged,omitempty"`
	Known  bool       `json:"staged_known"`
	// BlockSize is the unit of Staged.
	BlockSize int64     `json:"block_size"`
	Written   time.Time `json:"written"`
	// Identity is the server and account the data is for (manifests of
	// older versions have none).
	Identity Identity `json:"identity"`
}

func manifestPath(dataPath string) string {
	return strings.TrimSuffix(dataPath, ".data") + ".json"
}

// writeManifestLocked records the file; withBlocks adds the staged block
// list (at a failed close; keeping it current on every write would cost a
// disk write per write).
func (f *File) writeManifestLocked(withBlocks bool) error {
	m := manifest{Bucket: f.bucket, Key: f.key, Size: f.size, ContentType: f.meta.ContentType,
		Metadata: f.meta.UserMetadata, BaseLimit: f.baseLimit, BlockSize: f.blockSize(), Written: time.Now().UTC(),
		Identity: f.m.opts.Identity}
	if f.base != nil {
		m.BaseETag = f.base.ETag
	}
	if withBlocks {
		m.Known = true
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
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	tmp := manifestPath(f.path) + ".tmp"
	if !withBlocks {
		// The first change's manifest: no promise rests on it yet (close is
		// the durability point), so it costs no fsync on every new file.
		if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
			return fmt.Errorf("manifest of %s: %w", f.path, err)
		}
		return os.Rename(tmp, manifestPath(f.path))
	}
	if err := writeFileSynced(tmp, append(b, '\n')); err != nil {
		return fmt.Errorf("manifest of %s: %w", f.path, err)
	}
	if err := os.Rename(tmp, manifestPath(f.path)); err != nil {
		return err
	}
	return syncDir(filepath.Dir(f.path))
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

// markChangedLocked notes the first change since the last commit, writing
// the manifest that lets a later mount find the staged bytes.
func (f *File) markChangedLocked() error {
	f.changeSeq++
	if f.changed && f.manifested {
		return nil
	}
	f.changed = true
	if err := f.writeManifestLocked(false); err != nil {
		return err
	}
	f.manifested = true
	return nil
}

// committedLocked drops the manifest: S3 has everything.
func (f *File) committedLocked() {
	if f.manifested {
		os.Remove(manifestPath(f.path))
		f.manifested = false
	}
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
