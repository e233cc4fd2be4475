package writeback

// Stats are the mount's upload counters, for `s3mount status` and the
// metrics endpoint.
type Stats struct {
	// StagedBytes is the disk the staging files occupy now, and the
	// memory that new files are staged in (MemStagedBytes of it).
	StagedBytes, MemStagedBytes int64
	// StagingFilesCreated counts the staging files made so far: a small
	// file uploaded by its close makes none.
	StagingFilesCreated int64
	// UploadsFailed counts commits that failed (not those an unmount or a
	// cancelled sync interrupted); UploadsRetried, the background attempts
	// made again after a failed close.
	UploadsFailed, UploadsRetried int64
}

// Stats returns the counters so far.
func (m *Manager) Stats() Stats {
	m.budget.mu.Lock()
	used, mem := m.budget.used, m.budget.mem
	m.budget.mu.Unlock()
	return Stats{StagedBytes: used, MemStagedBytes: mem, StagingFilesCreated: m.stagingFiles.Load(),
		UploadsFailed: m.failed.Load(), UploadsRetried: m.retried.Load()}
}

// UploadState is what one staged file is doing, for `s3mount status`.
type UploadState struct {
	Bucket, Key string
	Size        int64
	// PartBytes is what the parts uploaded so far to the file's multipart
	// upload hold (0 for a single PUT until it is done).
	PartBytes int64
	// StagingPath is the local file holding the bytes.
	StagingPath string
	// Retrying: a background loop uploads it (queued by an asynchronous
	// close, or retried after a failed one).
	Retrying bool
	// Failures counts the commits that failed since the last success;
	// LastError is the last one's message.
	Failures  int
	LastError string
}

// State describes the file. It never waits for an upload: it reads only
// what stateMu guards and the published size.
func (f *File) State() UploadState {
	f.stateMu.Lock()
	s := UploadState{
		Bucket: f.shared.bucket, Key: f.shared.key, StagingPath: f.path,
		Retrying: f.retrying, Failures: f.failures, LastError: f.lastErr,
	}
	f.stateMu.Unlock()
	s.Size = f.Size()
	s.PartBytes = f.partBytes.Load()
	return s
}
