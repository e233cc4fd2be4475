package memstore

import (
	"context"
	"fmt"

	"github.com/s3mount/s3mount/s3io"
)

// RestoreObject accepts a restore of a GLACIER or DEEP_ARCHIVE object and
// records it; the object stays readable as before (memstore does not
// model archived reads).
func (s *Store) RestoreObject(ctx context.Context, bucketName, key string, days int, tier string) error {
	const op = "RestoreObject"
	switch tier {
	case "", "Standard", "Bulk", "Expedited":
	default:
		return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "MalformedXML",
			Message: fmt.Sprintf("tier %q, want Standard, Bulk or Expedited", tier), Err: s3io.ErrInvalidArgument}
	}
	if days < 1 {
		return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidArgument",
			Message: fmt.Sprintf("%d days, want 1 or more", days), Err: s3io.ErrInvalidArgument}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.featureObjectLocked(ctx, "restore", op, bucketName, key)
	if err != nil {
		return err
	}
	if o.storageClass != "GLACIER" && o.storageClass != "DEEP_ARCHIVE" {
		return &s3io.OpError{Op: op, Bucket: bucketName, Key: key, Code: "InvalidObjectState",
			Message: "only GLACIER and DEEP_ARCHIVE objects can be restored", Err: s3io.ErrInvalidObjectState}
	}
	o.restoreDays = days
	return nil
}
