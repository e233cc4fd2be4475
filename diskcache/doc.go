// Package diskcache keeps object blocks on local disk, under the memory
// block cache, so that data read once is read again from the node's own
// disk, across unmounts, remounts and crashes of the daemon. It knows
// nothing of FUSE or S3: blocks are named by the caller's object ID (which
// names one version of an object's content) and their index.
//
// Layout, under Options.Dir:
//
//	v1/lock                 flock'd by the one process using the directory
//	v1/tmp/                 blocks being written (removed at open)
//	v1/HH/HASH/IDX          block IDX of one object version
//
// HASH is the SHA-256 of the namespace (the endpoint), the object ID and
// the block size, so that blocks of two servers, two versions or two block
// sizes never meet. Each block file starts with a header (see format.go)
// naming what it holds, with a CRC-32C per 64 KiB chunk of the data.
//
// Invariants:
//   - A block file is complete or absent: it is written under v1/tmp and
//     renamed into place. A file that is torn anyway (a crash before the
//     page cache reached the disk, a disk error, someone's editor) fails
//     its checksums, is removed and counts as a miss: corrupted bytes are
//     never returned.
//   - One process uses a directory at a time (v1/lock); a second is
//     refused with ErrInUse.
//   - The directory is 0700 and owned by the caller, its files 0600.
//   - Blocks queued for writing hold at most Options.QueueBytes of
//     memory; Store waits for room, Offer drops.
//   - The files stay within Options.MaxBytes (after the index is rebuilt,
//     see index.go) and leave Options.MinFreeFraction of the file system
//     free; least recently used blocks are evicted first.
package diskcache
