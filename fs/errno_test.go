package fs

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/s3io"
)

func TestToErrnoMapsEverySentinel(t *testing.T) {
	wrap := func(err error) error {
		return fmt.Errorf("outer: %w", &s3io.OpError{Op: "GetObject", Bucket: "b", Key: "k", Err: err})
	}
	cases := []struct {
		err  error
		want syscall.Errno
	}{
		{nil, 0},
		{wrap(s3io.ErrNotFound), syscall.ENOENT},
		{wrap(s3io.ErrBucketNotFound), syscall.ENOENT},
		{wrap(s3io.ErrAccessDenied), syscall.EACCES},
		{wrap(s3io.ErrInvalidCredentials), syscall.EACCES},
		{wrap(s3io.ErrPreconditionFailed), syscall.ESTALE},
		{wrap(s3io.ErrNotImplemented), syscall.ENOTSUP},
		{wrap(s3io.ErrInvalidObjectState), syscall.EACCES},
		{wrap(s3io.ErrInvalidArgument), syscall.EINVAL},
		{wrap(s3io.ErrTooLarge), syscall.EFBIG},
		{wrap(s3io.ErrQuotaExceeded), syscall.ENOSPC},
		{wrap(s3io.ErrBucketNotEmpty), syscall.ENOTEMPTY},
		{wrap(s3io.ErrServer), syscall.EIO},
		{wrap(s3io.ErrUnreachable), syscall.EIO},
		{wrap(context.Canceled), syscall.EINTR},
		{fmt.Errorf("x: %w", syscall.ENOSPC), syscall.ENOSPC},
		{errors.New("anything else"), syscall.EIO},
	}
	for _, c := range cases {
		if got := toErrno(c.err); got != c.want {
			t.Errorf("toErrno(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
