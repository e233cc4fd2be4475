package s3test

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/s3mount/s3mount/s3io/storetest"
)

// Lack is one feature of S3 that a server lacks, how it says so, and what
// s3mount does about it.
type Lack struct {
	Feature storetest.Feature
	// Refusal is what the server answers, as observed.
	Refusal string
	// Then is what s3mount does, as its tests check.
	Then string
}

// lacks is the one list of what each server lacks. The conformance suite
// and the integration tests read it; the README's table of servers shows
// it (TestREADMEListsWhatEachServerLacks keeps the two equal).
var lacks = map[Kind][]Lack{
	MinIO: {
		{storetest.CannedACLs, "NotImplemented for every canned ACL but private", "`s3.acl` set: ENOTSUP, logged once"},
		{storetest.CORS, "NotImplemented to PutBucketCors and DeleteBucketCors", "`s3.cors` set: ENOTSUP, logged once"},
		{storetest.ArchiveClasses, "InvalidStorageClass (no tiers configured)", "`--storage-class GLACIER`: EINVAL"},
		{storetest.LifecycleTransitions, "InvalidArgument for transition rules (no tiers)", "`s3.lifecycle` set: EINVAL"},
	},
	Ceph: {
		{storetest.SSECCopy, "501 NotImplemented to CopyObject of an SSE-C object", "renames and metadata changes of SSE-C files read the object and upload it again"},
		{storetest.Restore, "NotImplemented to RestoreObject", "`s3.restore`: ENOTSUP"},
		{storetest.ArchiveClasses, "InvalidArgument for GLACIER (no such placement target)", "`--storage-class GLACIER`: EINVAL at the first write"},
		{storetest.CopyIfMatch, "x-amz-copy-source-if-match ignored: a stale copy succeeds", "a rename racing another client's overwrite may copy the newer object"},
		{storetest.LifecycleRoundTrip, "rules and transitions read back reordered, a Filter's Prefix beside its And", "`s3.lifecycle` shows the server's document"},
		{storetest.PolicyValidation, "a policy naming another bucket is stored", "`s3.policy` set: accepted as the server accepts it"},
		{storetest.BucketExistsError, "200 to a CreateBucket of a bucket the user owns", "`mkdir` of an existing bucket: EEXIST from the lookup before any request"},
		{storetest.UncleanKeys, "keys with control characters are stored, and then every listing of them is malformed XML", "such keys cannot be made through the mount"},
		{storetest.SSES3, "SSE-S3 (AES256) accepted, plaintext stored, no encryption reported (no SSE-S3 backend in 16.2)", "`--sse AES256` writes fail with EIO and a log line; the plaintext is deleted; SSE-KMS and SSE-C work"},
		{storetest.UnknownStorageClasses, "InvalidArgument for REDUCED_REDUNDANCY, STANDARD_IA (no placement for them)", "`--storage-class` of such a class: EINVAL at close, nothing published"},
	},
	VersityGW: {
		{storetest.ObjectACLs, "NotImplemented to GetObjectAcl and PutObjectAcl; AccessControlListNotSupported to PutBucketAcl", "`s3.acl` of a file, and setting it on a bucket: ENOTSUP, logged once"},
		{storetest.CannedACLs, "NotImplemented (object ACLs); `x-amz-acl` on PUT ignored", "`s3.acl` set: ENOTSUP"},
		{storetest.Lifecycle, "NotImplemented", "`s3.lifecycle`: ENOTSUP"},
		{storetest.Versioning, "VersioningNotConfigured (501) without `--versioning-dir`", "`s3.versioning` set: ENOTSUP"},
		{storetest.Restore, "NotImplemented", "`s3.restore`: ENOTSUP"},
		{storetest.ArchiveClasses, "GLACIER accepted and stored as STANDARD", "`s3.storage_class` shows what the server stored"},
		{storetest.StorageClasses, "every storage class accepted and stored as STANDARD", "`--storage-class` has no effect; `s3.storage_class` shows STANDARD from the next lookup on"},
		{storetest.SSE, "SSE-C, SSE-S3 and SSE-KMS headers ignored: 200, plaintext stored, nothing echoed", "the write fails with EIO and a log line; the plaintext object is deleted"},
		{storetest.MarkerData, "DirectoryObjectContainsData (400) for data in a `dir/` key, and for any CopyObject of a `dir/` key", "markers are written empty; a directory rename re-creates them with PUT"},
		{storetest.LargeTagSets, "500 InternalError (its posix backend keeps tags in an xattr)", "`s3.tags` set: EIO, tags unchanged"},
		{storetest.UncleanKeys, "`a//b`, `./a`, `a/../b` accepted and stored under the cleaned path; control characters stored as U+FFFD", "such keys cannot be made through the mount; existing ones are listed as the server lists them"},
	},
}

// Lacks reports whether the server lacks feature f.
func (s *Server) Lacks(f storetest.Feature) bool {
	return slices.Contains(s.StoreLacks(), f)
}

// StoreLacks lists the features the server lacks, for storetest.Options.
func (s *Server) StoreLacks() []storetest.Feature {
	var fs []storetest.Feature
	for _, l := range LacksOf(s.Kind) {
		fs = append(fs, l.Feature)
	}
	return fs
}

// LacksOf returns what servers of kind k lack. An external server's list
// comes from $S3MOUNT_TEST_LACKS (comma-separated feature names).
func LacksOf(k Kind) []Lack {
	if k != External {
		return lacks[k]
	}
	var out []Lack
	for _, name := range strings.Split(os.Getenv(EnvLacks), ",") {
		if name = strings.TrimSpace(name); name != "" {
			out = append(out, Lack{Feature: storetest.Feature(name), Refusal: "(as configured)", Then: "(as configured)"})
		}
	}
	return out
}

// LacksTable renders every started server's lacks as the Markdown table the
// README shows.
func LacksTable() string {
	var b strings.Builder
	b.WriteString("| server | lacks | the server answers | s3mount |\n|---|---|---|---|\n")
	for _, k := range Kinds {
		for _, l := range lacks[k] {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", k, l.Feature, l.Refusal, l.Then)
		}
	}
	return b.String()
}
