package awsstore

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/s3mount/s3mount/s3io"
)

// codeErrors translates S3 error codes, once, into s3io's sentinels.
var codeErrors = map[string]error{
	"NoSuchKey":                      s3io.ErrNotFound,
	"NotFound":                       s3io.ErrNotFound,
	"NoSuchUpload":                   s3io.ErrNotFound,
	"NoSuchBucket":                   s3io.ErrBucketNotFound,
	"AccessDenied":                   s3io.ErrAccessDenied,
	"AllAccessDisabled":              s3io.ErrAccessDenied,
	"InvalidAccessKeyId":             s3io.ErrInvalidCredentials,
	"SignatureDoesNotMatch":          s3io.ErrInvalidCredentials,
	"ExpiredToken":                   s3io.ErrInvalidCredentials,
	"InvalidToken":                   s3io.ErrInvalidCredentials,
	"PreconditionFailed":             s3io.ErrPreconditionFailed,
	"NotImplemented":                 s3io.ErrNotImplemented,
	"InvalidObjectState":             s3io.ErrInvalidObjectState,
	"InvalidArgument":                s3io.ErrInvalidArgument,
	"InvalidRequest":                 s3io.ErrInvalidArgument,
	"InvalidBucketName":              s3io.ErrInvalidArgument,
	"KeyTooLongError":                s3io.ErrInvalidArgument,
	"EntityTooLarge":                 s3io.ErrTooLarge,
	"QuotaExceeded":                  s3io.ErrQuotaExceeded,
	"XMinioStorageFull":              s3io.ErrQuotaExceeded,
	"XMinioAdminBucketQuotaExceeded": s3io.ErrQuotaExceeded,
	"BucketNotEmpty":                 s3io.ErrBucketNotEmpty,
	"BucketAlreadyExists":            s3io.ErrBucketExists,
	"BucketAlreadyOwnedByYou":        s3io.ErrBucketExists,
	"SlowDown":                       s3io.ErrThrottled,
	"ServiceUnavailable":             s3io.ErrThrottled,
	"InternalError":                  s3io.ErrServer,
}

// statusErrors translate bare HTTP statuses (HEAD responses have no body,
// so no code).
var statusErrors = map[int]error{
	http.StatusNotFound:              s3io.ErrNotFound,
	http.StatusForbidden:             s3io.ErrAccessDenied,
	http.StatusPreconditionFailed:    s3io.ErrPreconditionFailed,
	http.StatusNotImplemented:        s3io.ErrNotImplemented,
	http.StatusServiceUnavailable:    s3io.ErrThrottled,
	http.StatusRequestEntityTooLarge: s3io.ErrTooLarge,
	http.StatusBadRequest:            s3io.ErrInvalidArgument,
}

// mapError wraps an SDK error in an *s3io.OpError with the right sentinel.
func mapError(op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	oe := &s3io.OpError{Op: op, Bucket: bucket, Key: key}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		oe.Code, oe.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		oe.Err = contextErr(err)
	case codeErrors[oe.Code] != nil:
		oe.Err = codeErrors[oe.Code]
		if oe.Err == s3io.ErrNotFound && status == http.StatusNotFound && bucketMissing(oe.Code, oe.Message) {
			oe.Err = s3io.ErrBucketNotFound
		}
	case statusErrors[status] != nil:
		oe.Err = statusErrors[status]
	case status >= 500:
		oe.Err = s3io.ErrServer
	case status == 0 && isNetworkError(err):
		oe.Err = s3io.ErrUnreachable
		oe.Message = err.Error()
	default:
		oe.Err = s3io.ErrServer
		if oe.Message == "" {
			oe.Message = err.Error()
		}
	}
	return oe
}

func contextErr(err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return context.DeadlineExceeded
}

func bucketMissing(code, msg string) bool {
	return code == "NoSuchBucket" || strings.Contains(msg, "bucket does not exist")
}

// isNetworkError reports errors of reaching the server at all: refused
// connections, DNS, TLS, resets.
func isNetworkError(err error) bool {
	var netErr net.Error
	var opErr *net.OpError
	var dnsErr *net.DNSError
	return errors.As(err, &opErr) || errors.As(err, &dnsErr) || errors.As(err, &netErr) ||
		strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "EOF")
}
