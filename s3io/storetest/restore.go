package storetest

import (
	"bytes"

	"github.com/s3mount/s3mount/s3io"
)

var restoreCases = []testCase{
	{"RestoreOfAnObjectNotArchivedIsInvalidObjectState", func(e *env) {
		e.put("hot", []byte("x"), s3io.WriteOptions{})
		err := e.s.RestoreObject(e.ctx, e.bucket, "hot", 1, "")
		if e.lacks(Restore, err) {
			return
		}
		e.wantErr("RestoreObject of a STANDARD object", err, s3io.ErrInvalidObjectState)
		err = e.s.RestoreObject(e.ctx, e.bucket, "missing", 1, "")
		e.wantErr("RestoreObject of a missing key", err, s3io.ErrNotFound)
	}},
	{"RestoreWithoutDaysOrWithAnUnknownTierIsInvalid", func(e *env) {
		e.put("obj", []byte("x"), s3io.WriteOptions{})
		err := e.s.RestoreObject(e.ctx, e.bucket, "obj", 0, "")
		if e.lacks(Restore, err) {
			return
		}
		e.wantErr("RestoreObject for 0 days", err, s3io.ErrInvalidArgument)
		err = e.s.RestoreObject(e.ctx, e.bucket, "obj", 1, "Instant")
		e.wantErr("RestoreObject with tier Instant", err, s3io.ErrInvalidArgument)
	}},
	{"RestoreOfAnArchivedObjectIsAccepted", func(e *env) {
		_, err := e.s.PutObject(e.ctx, e.bucket, "cold", bytes.NewReader([]byte("x")), 1, s3io.WriteOptions{StorageClass: "GLACIER"})
		if e.lacks(ArchiveClasses, err) {
			return
		}
		e.ok("PutObject GLACIER", err)
		if h := e.head("cold"); h.StorageClass != "GLACIER" && e.mayLack(ArchiveClasses, "GLACIER accepted and stored as "+h.StorageClass) {
			return
		} else if h.StorageClass != "GLACIER" {
			e.t.Fatalf("storage class %q, want GLACIER", h.StorageClass)
		}
		e.ok("RestoreObject", e.s.RestoreObject(e.ctx, e.bucket, "cold", 2, "Bulk"))
	}},
}
