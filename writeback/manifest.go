package writeback

import (
	"encoding/json"
	"os"
	"strings"
	"time"
)

// manifest describes a staging file whose upload never completed, next to
// it (NAME.data and NAME.json), so that a person or a later mount can tell
// what the bytes are.
type manifest struct {
	Bucket   string `json:"bucket"`
	Key      string `json:"key"`
	Size     int64  `json:"size"`
	BaseETag string `json:"base_etag,omitempty"`
	// Complete is true when every byte of the file is in the staging
	// file; otherwise ranges not written still live in the base object.
	Complete bool      `json:"complete"`
	Kept     time.Time `json:"kept"`
}

func (f *File) writeManifestLocked() error {
	bs := f.blockSize()
	complete := true
	for i := int64(0); i*bs < f.baseLimit; i++ {
		if !f.present.has(i) {
			complete = false
			break
		}
	}
	m := manifest{Bucket: f.bucket, Key: f.key, Size: f.size, Complete: complete, Kept: time.Now().UTC()}
	if f.base != nil {
		m.BaseETag = f.base.ETag
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(strings.TrimSuffix(f.path, ".data")+".json", append(b, '\n'), 0o600)
}
