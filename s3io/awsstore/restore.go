package awsstore

import (
	"context"
	"fmt"
	"math"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// RestoreObject asks for a temporary copy of an archived object. S3
// answers 202 to a new request and 200 when the copy is there already; a
// restore still running is no error either, since what was asked is
// under way.
func (s *Store) RestoreObject(ctx context.Context, bucket, key string, days int, tier string) error {
	const op = "RestoreObject"
	switch {
	case tier != "" && tier != "Standard" && tier != "Bulk" && tier != "Expedited":
		return refused(op, bucket, key, fmt.Errorf("tier %q, want Standard, Bulk or Expedited", tier))
	case days < 1 || days > math.MaxInt32:
		return refused(op, bucket, key, fmt.Errorf("%d days, want 1 or more", days))
	}
	req := &types.RestoreRequest{Days: aws.Int32(int32(days))}
	if tier != "" {
		req.GlacierJobParameters = &types.GlacierJobParameters{Tier: types.Tier(tier)}
	}
	_, err := s.client.RestoreObject(ctx, &s3.RestoreObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), RestoreRequest: req})
	if isRestoreInProgress(err) {
		return nil
	}
	return mapError(ctx, op, bucket, key, err)
}
