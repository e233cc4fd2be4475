package writeback

import (
	"errors"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// Default backoff of uploads retried after a failed close.
const (
	defaultRetryDelay    = 5 * time.Second
	defaultMaxRetryDelay = 5 * time.Minute
)

// Keep makes the file's staged bytes and manifest durable: its program was
// told that the upload failed, and from now on the bytes must survive a
// crash so that this mount or the next one uploads them.
func (f *File) Keep() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if !f.changed || f.discarded || f.broken != nil {
		return nil
	}
	return f.sealLocked() // CommitClose has done it, unless changed since
}

// RetryInBackground uploads the file again, with exponential backoff, until
// S3 has it, the file is removed, or the mount ends (its staged bytes then
// wait for the next mount). It is for a file whose last close failed: the
// mount keeps it open meanwhile, so that it shows and reads the program's
// bytes. done runs once the file needs no more retries (uploaded by a retry
// or by a later commit, or removed); it does not run when the mount ends.
// Calling it again while a retry loop runs changes nothing.
//
// first is the wait before the first attempt: the retry delay after a
// failed close, or 0 to upload again at once.
func (f *File) RetryInBackground(first time.Duration, done func(info s3io.ObjectInfo, uploaded bool)) {
	f.background(first, true, done)
}

// UploadInBackground is RetryInBackground for a file closed in
// asynchronous mode: its first upload, after waiting after; its first
// attempt counts as no retry.
func (f *File) UploadInBackground(after time.Duration, done func(info s3io.ObjectInfo, uploaded bool)) {
	f.background(after, false, done)
}

func (f *File) background(first time.Duration, retry bool, done func(info s3io.ObjectInfo, uploaded bool)) {
	f.stateMu.Lock()
	if f.retrying {
		f.stateMu.Unlock()
		return
	}
	f.retrying = true
	f.stateMu.Unlock()
	m := f.m
	m.retries.Add(1)
	go func() {
		defer m.retries.Done()
		info, uploaded, ok := f.retryLoop(first, retry)
		f.stateMu.Lock()
		f.retrying = false
		f.stateMu.Unlock()
		if ok {
			done(info, uploaded)
		}
	}()
}

// retryLoop runs the retries; ok is false when the mount ended first.
// retry says whether the first attempt is a retry already.
func (f *File) retryLoop(first time.Duration, retry bool) (info s3io.ObjectInfo, uploaded, ok bool) {
	m := f.m
	delay := first
	bucket, key := f.Location()
	for attempt := 1; ; attempt++ {
		timer := time.NewTimer(delay)
		select {
		case <-m.ctx.Done():
			timer.Stop()
			// The mount ends: Close keeps the bytes for the next mount, and
			// says so in the log.
			f.Close()
			return info, false, false
		case <-timer.C:
		}
		if !f.Unsaved() {
			return info, false, true // a later close or fsync uploaded it, or it was removed
		}
		bucket, key = f.Location()
		// Background uploads take a slot of their own (parts inside take
		// the upload slots, which this one must not hold).
		select {
		case m.background <- struct{}{}:
		case <-m.ctx.Done():
			continue
		}
		if retry && first > 0 || attempt > 1 {
			m.retried.Add(1)
		}
		info, err := f.Commit(m.ctx)
		<-m.background
		switch {
		case err == nil && f.Unsaved():
			delay = 0 // changed again meanwhile (a chmod after close): upload that too
			continue
		case err == nil:
			if retry && first > 0 || attempt > 1 {
				m.log.Info("upload succeeded on retry after a failed close", "bucket", bucket, "key", key, "attempt", attempt)
			}
			return info, true, true
		case errors.Is(err, ErrDiscarded):
			return info, false, true
		case m.ctx.Err() != nil:
			continue // the select above logs and ends
		}
		delay = min(max(2*delay, m.opts.RetryDelay), m.opts.MaxRetryDelay)
		m.log.Warn("upload retry failed", "bucket", bucket, "key", key, "attempt", attempt, "next_in", delay, "err", err)
	}
}

// Location returns where the file's object goes (it follows renames).
func (f *File) Location() (bucket, key string) {
	f.stateMu.Lock()
	defer f.stateMu.Unlock()
	return f.shared.bucket, f.shared.key
}

// Unsaved reports whether the file holds bytes S3 lacks that are still
// worth uploading: changed, not removed, and not broken by a failed write
// to the staging file.
func (f *File) Unsaved() bool {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	return f.changed && !f.discarded && f.broken == nil
}

// SealAsync records that the program closed the file, for an asynchronous
// close: the closed manifest is written but nothing is fsynced (as on a
// local file system, close is no durability point; a kill -9 of the
// mount keeps the page cache, so the next mount still finds and uploads
// it). The upload follows in the background (RetryInBackground).
func (f *File) SealAsync() error {
	f.opMu.Lock()
	defer f.opMu.Unlock()
	if f.broken != nil {
		return f.broken
	}
	if !f.changed || f.discarded || f.sealed {
		return nil
	}
	if err := f.writeManifestLocked(true, false); err != nil {
		return err
	}
	f.sealed, f.manifested = true, true // a later write marks it open again
	f.publishLocked()
	return nil
}

// RetryDelay is the wait before the first retry of an upload whose close
// failed.
func (m *Manager) RetryDelay() time.Duration { return m.opts.RetryDelay }
