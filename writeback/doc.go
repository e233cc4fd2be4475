// Package writeback turns a program's writes into S3 objects without losing
// them.
//
// Every open-for-write file has a staging file in the staging directory
// that holds the file's bytes as the program sees them: written bytes, and
// bytes of the object it started from (the base) fetched lazily, block by
// block, only where a read or a partial write needs them. The staging file,
// not memory, is the buffer: uploads read their bodies from it, so memory
// use does not grow with the file, and when an upload fails the bytes are
// still on disk. The exception is a new file of at most 1 MiB (64 MiB
// for all of them per mount): its bytes stay in memory (memstage.go), so
// that a small file whose close uploads it costs no local I/O; it spills
// to a staging file as soon as it grows past that, a multipart upload is
// begun for it, or its bytes must outlive the process (a failed close, an
// asynchronous close).
//
// A file written sequentially streams: each part the writer has moved past
// is uploaded in the background as a multipart part while the program keeps
// writing. Commit (from flush, fsync or close) uploads what is left and
// completes the upload; parts of the base that no write touched are reused
// on the server with UploadPartCopy, so changing one byte of a large object
// uploads one part. Commit returns only when S3 has acknowledged the
// object, and returns the error otherwise; the failed multipart upload is
// aborted and the staging file kept.
//
// A manifest next to each changed staging file lets a later mount finish
// the job after a crash. It says whether the program closed the file: a
// failed close seals it (bytes, then manifest, fsynced) before the program
// is told, and only sealed files are uploaded by Recover; a file its mount
// died in the middle of writing is kept aside, never published (one still
// in memory has nothing to keep: no close reported its bytes). It also
// names every multipart upload begun for the file and not yet ended,
// recorded before the request that creates it, so that Recover aborts the
// uploads of a dead mount.
package writeback
