package writeback

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"syscall"
)

// A new file's bytes stay in memory until they outgrow memStageMax (or
// the mount's memory for them is used up): most files a program creates
// are small, and a close that uploads them from memory costs no staging
// file, no manifest and no unlinks. Such a file goes to the staging disk
// (spills) as soon as something must survive this process: a failed
// close seals it, an asynchronous close queues it, a multipart upload is
// recorded for it. A mount killed while it is open loses its bytes, which
// no close has reported as kept.
//
// memStageMax is below the smallest part (minPartSize): a memory-staged
// file never streams parts, whose uploads read the staging file without
// opMu (commitMultipartLocked spills all the same).
const (
	memStageMax            = 1 << 20
	defaultMemStagingBytes = 64 << 20
)

// memStage holds a file's bytes; len(buf) is the file's size. Its mutex
// lets fetches write blocks from several goroutines, as on a file.
type memStage struct {
	mu  sync.Mutex
	buf []byte
}

// newMemFile returns a new file staged in memory, or nil when the mount
// keeps none in memory (Options.MemoryStagingBytes < 0).
func (m *Manager) newMemFile(bucket, key string, meta Meta) *File {
	if m.budget.memMax <= 0 {
		return nil
	}
	f := m.fileFor(nil, bucket, key, nil, meta)
	f.mem = &memStage{}
	return f
}

// adjustMem records that memory-staged files now hold delta more bytes.
func (b *budget) adjustMem(delta int64) {
	b.mu.Lock()
	b.mem += delta
	b.mu.Unlock()
	b.adjust(delta)
}

// takeMem counts n more bytes of memory staging, if they fit.
func (b *budget) takeMem(n int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.mem+n > b.memMax {
		return false
	}
	b.mem += n
	b.used += n
	return true
}

// growMemLocked makes room for a size of end bytes in memory, and reports
// false when the file must spill instead.
func (f *File) growMemLocked(end int64) bool {
	s := f.mem
	if end <= int64(cap(s.buf)) {
		return true
	}
	if end > memStageMax {
		return false
	}
	grown := min(max(end, 2*int64(cap(s.buf)), 16<<10), memStageMax)
	if !f.m.budget.takeMem(grown - int64(cap(s.buf))) {
		return false
	}
	f.diskUsed += grown - int64(cap(s.buf))
	buf := make([]byte, len(s.buf), grown)
	copy(buf, s.buf)
	s.buf = buf
	return true
}

// stageWriteAt writes p at off into the file's staged bytes.
func (f *File) stageWriteAt(p []byte, off int64) (int, error) {
	if s := f.mem; s != nil {
		end := off + int64(len(p))
		s.mu.Lock()
		if end <= int64(len(s.buf)) {
			defer s.mu.Unlock()
			return copy(s.buf[off:], p), nil
		}
		if f.growMemLocked(end) {
			defer s.mu.Unlock()
			old := int64(len(s.buf))
			s.buf = s.buf[:end]
			if off > old {
				clear(s.buf[old:off]) // a hole reads as zeros, not as bytes truncated away
			}
			return copy(s.buf[off:], p), nil
		}
		s.mu.Unlock()
		if err := f.spillLocked(); err != nil {
			return 0, err
		}
	}
	return f.staging.WriteAt(p, off)
}

// stageReadAt reads the staged bytes at off.
func (f *File) stageReadAt(p []byte, off int64) (int, error) {
	if s := f.mem; s != nil {
		s.mu.Lock()
		defer s.mu.Unlock()
		if off >= int64(len(s.buf)) {
			return 0, io.EOF
		}
		n := copy(p, s.buf[off:])
		if n < len(p) {
			return n, io.EOF
		}
		return n, nil
	}
	return f.staging.ReadAt(p, off)
}

// stageTruncate changes the staged size; new bytes read as zeros.
func (f *File) stageTruncate(size int64) error {
	if s := f.mem; s != nil {
		s.mu.Lock()
		if size <= int64(len(s.buf)) {
			s.buf = s.buf[:size]
			s.mu.Unlock()
			return nil
		}
		if f.growMemLocked(size) {
			old := len(s.buf)
			s.buf = s.buf[:size]
			clear(s.buf[old:])
			s.mu.Unlock()
			return nil
		}
		s.mu.Unlock()
		if err := f.spillLocked(); err != nil {
			return err
		}
	}
	return f.staging.Truncate(size)
}

// stageBody is a reader of the staged bytes [off, off+size) for an upload.
// A memory-staged body is read under opMu only (commitSingleLocked), so no
// write changes it meanwhile.
func (f *File) stageBody(off, size int64) io.ReadSeeker {
	if s := f.mem; s != nil {
		return bytes.NewReader(s.buf[off : off+size])
	}
	return io.NewSectionReader(f.staging, off, size)
}

// spillLocked moves a memory-staged file to a staging file, and from then
// on it is staged as any other: with an open manifest once changed.
func (f *File) spillLocked() error {
	if f.mem == nil {
		return nil
	}
	if err := f.toDiskLocked(); err != nil {
		return err
	}
	if f.changed && !f.manifested {
		if err := f.writeManifestLocked(false, false); err != nil {
			return err
		}
		f.manifested = true
	}
	return nil
}

// toDiskLocked moves a memory-staged file's bytes to a new staging file,
// writing no manifest (its caller writes one).
func (f *File) toDiskLocked() error {
	s := f.mem
	if s == nil {
		return nil
	}
	staging, err := f.m.createStaging()
	if err != nil {
		return err
	}
	if _, err := staging.WriteAt(s.buf, 0); err != nil {
		staging.Close()
		syscall.Unlink(staging.Name())
		return fmt.Errorf("staging file %s: %w", staging.Name(), err)
	}
	f.unmeasure()
	f.stateMu.Lock()
	f.manMu.Lock()
	f.staging, f.path, f.mem = staging, staging.Name(), nil
	f.manMu.Unlock()
	f.stateMu.Unlock()
	f.measureLocked()
	return nil
}

// createStaging creates and locks a new staging file.
func (m *Manager) createStaging() (*os.File, error) {
	staging, err := os.CreateTemp(m.dir, "s3mount-*.data")
	if err != nil {
		return nil, fmt.Errorf("staging file: %w", err)
	}
	// The lock tells Recover in another mount that this file is live.
	if err := syscall.Flock(int(staging.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		staging.Close()
		syscall.Unlink(staging.Name())
		return nil, fmt.Errorf("staging file: %w", err)
	}
	m.stagingFiles.Add(1)
	return staging, nil
}

// unlinkMissingOK removes a file; unlike os.Remove it tries no rmdir
// when the file is already gone.
func unlinkMissingOK(path string) error {
	if err := syscall.Unlink(path); err != nil && !errors.Is(err, syscall.ENOENT) {
		return &os.PathError{Op: "unlink", Path: path, Err: err}
	}
	return nil
}
