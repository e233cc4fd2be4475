// Package fs is s3mount's FUSE node tree: buckets and key prefixes are
// directories, objects are files. It is a thin layer over go-fuse that
// delegates object data to package cache and talks to S3 only through
// s3io.Store.
//
// Invariants:
//   - A node's inode number is a hash of its bucket and key; the inode
//     table holds only the numbers of nodes the kernel holds (released at
//     FORGET) and resolves collisions among them.
//   - Lookup never lists a whole directory: it asks HeadObject(key) and a
//     one-key ListObjectsV2(key+"/") at once. Readdir pages through
//     ListObjectsV2 and streams entries; readdirplus fills attributes from
//     the listing without further requests.
//   - Where a key is both an object and a prefix ("a" and "a/b"), the
//     directory wins and the object is hidden, as in mountpoint-s3.
//   - Keys that cannot be file names are hidden and logged once at debug
//     level; they never break a listing.
//   - Every error from s3io is turned into an errno by toErrno (errno.go).
//   - No network I/O happens while a node's mutex is held.
package fs
