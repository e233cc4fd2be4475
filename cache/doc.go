// Package cache serves object bytes in fixed-size blocks from memory, with
// read-ahead for sequential readers. It knows nothing of FUSE or S3: it
// reads through a fetch function given with each Object.
//
// Invariants:
//   - A block is keyed by the object's ID (which names one version of its
//     content) and its index, so a changed object is never served from old
//     blocks.
//   - Cached blocks plus blocks fetched ahead stay within Options.CacheBytes.
//   - Concurrent readers of one block share one fetch.
package cache
