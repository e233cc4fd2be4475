package fs

import (
	"context"
	"errors"
	"syscall"

	"github.com/s3mount/s3mount/s3io"
)

// toErrno is the one place where errors become errnos. Argument checks in
// the node code may return EINVAL, ENAMETOOLONG and the like directly.
func toErrno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	switch {
	case errors.As(err, &errno):
		return errno
	case errors.Is(err, s3io.ErrNotFound), errors.Is(err, s3io.ErrBucketNotFound):
		return syscall.ENOENT
	case errors.Is(err, s3io.ErrAccessDenied), errors.Is(err, s3io.ErrInvalidCredentials), errors.Is(err, s3io.ErrSSECKey):
		return syscall.EACCES
	case errors.Is(err, s3io.ErrPreconditionFailed):
		// The object changed under an open handle: its old bytes are gone.
		return syscall.ESTALE
	case errors.Is(err, s3io.ErrNotImplemented):
		return syscall.ENOTSUP
	case errors.Is(err, s3io.ErrInvalidObjectState):
		// Archived (Glacier) objects cannot be read until restored.
		return syscall.EACCES
	case errors.Is(err, s3io.ErrInvalidArgument):
		return syscall.EINVAL
	case errors.Is(err, s3io.ErrTooLarge):
		return syscall.EFBIG
	case errors.Is(err, s3io.ErrQuotaExceeded):
		return syscall.ENOSPC
	case errors.Is(err, s3io.ErrBucketNotEmpty):
		return syscall.ENOTEMPTY
	case errors.Is(err, s3io.ErrBucketExists):
		return syscall.EEXIST
	case errors.Is(err, s3io.ErrNoConfiguration):
		return syscall.ENODATA
	case errors.Is(err, s3io.ErrEncryptionIgnored):
		// Not ENOTSUP: the program asked for nothing; the mount did, and
		// the data must not be taken as stored.
		return syscall.EIO
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	case errors.Is(err, context.DeadlineExceeded):
		return syscall.ETIMEDOUT
	default:
		return syscall.EIO
	}
}

// uninterruptible detaches a request from the kernel's interrupt. A signal
// to the caller (Go programs get SIGURG all the time) must not abandon an
// upload half way and turn close(2) into EINTR, which programs do not
// retry; nor turn a lookup, stat, open or readdir into EINTR, which even
// SA_RESTART programs then see (the kernel restarts only ERESTARTSYS).
// Such requests run to completion, or fail on their own within
// --request-timeout and the retries; a fatal signal still ends the
// program at once, since the kernel abandons its request.
func uninterruptible(ctx context.Context) context.Context {
	return context.WithoutCancel(ctx)
}
