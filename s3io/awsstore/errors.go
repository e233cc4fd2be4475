package awsstore

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"

	"github.com/s3mount/s3mount/s3io"
)

// codeErrors translates S3 error codes (AWS's and those of MinIO, Ceph and
// other gateways) into s3io's sentinels. This is the one place that reads
// S3 error codes.
var codeErrors = map[string]error{}

func init() {
	for sentinel, codes := range map[error][]string{
		s3io.ErrNotFound:       {"NoSuchKey", "NotFound", "NoSuchVersion", "NoSuchUpload"},
		s3io.ErrBucketNotFound: {"NoSuchBucket"},
		s3io.ErrAccessDenied: {"AccessDenied", "Forbidden", "AllAccessDisabled", "AccountProblem",
			"InvalidPayer", "RequestTimeTooSkewed"},
		s3io.ErrInvalidCredentials: {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
			"InvalidToken", "TokenRefreshRequired", "InvalidSecurity", "Unauthorized",
			"XAdminUserNotFound"},
		s3io.ErrPreconditionFailed: {"PreconditionFailed"},
		// AccessControlListNotSupported: the bucket enforces bucket-owner
		// ownership, so ACLs cannot be set.
		s3io.ErrNotImplemented: {"NotImplemented", "XMinioNotImplemented", "AccessControlListNotSupported",
			"VersioningNotConfigured"},
		// ObjectAlreadyInActiveTierError: a restore of an object that is not
		// archived.
		s3io.ErrInvalidObjectState: {"InvalidObjectState", "ObjectAlreadyInActiveTierError"},
		s3io.ErrTooLarge:           {"EntityTooLarge"},
		s3io.ErrQuotaExceeded: {"QuotaExceeded", "XMinioStorageFull", "XMinioAdminBucketQuotaExceeded",
			"StorageFull", "InsufficientStorage", "ServiceQuotaExceeded"},
		s3io.ErrInvalidArgument: {"InvalidArgument", "InvalidRequest", "InvalidRange", "EntityTooSmall",
			"InvalidPart", "InvalidPartOrder", "MalformedXML", "InvalidBucketName", "KeyTooLongError",
			"InvalidDigest", "BadDigest", "XMinioInvalidObjectName", "MetadataTooLarge", "InvalidStorageClass",
			"InvalidEncryptionAlgorithmError", "IncompleteBody", "MissingContentLength",
			"InvalidLocationConstraint", "IllegalLocationConstraintException", "PermanentRedirect",
			"Redirect", "TemporaryRedirect", "AuthorizationHeaderMalformed",
			// Tagging, ACL, policy and versioning documents S3 refuses.
			// (BadRequest is MinIO's answer to more than 10 object tags.)
			"InvalidTag", "BadRequest", "MalformedPolicy", "MalformedACLError", "InvalidPolicyDocument",
			"UnresolvableGrantByEmailAddress", "IllegalVersioningConfigurationException", "InvalidBucketState",
			// versitygw's posix backend: a key that is a file and a directory.
			"DirectoryObjectContainsData", "ObjectParentIsFile", "ExistingObjectIsDirectory"},
		s3io.ErrBucketNotEmpty: {"BucketNotEmpty"},
		s3io.ErrBucketExists:   {"BucketAlreadyExists", "BucketAlreadyOwnedByYou"},
		s3io.ErrNoConfiguration: {"NoSuchBucketPolicy", "NoSuchCORSConfiguration", "NoSuchLifecycleConfiguration",
			"NoSuchTagSet", "NoSuchTagSetError", "NoSuchWebsiteConfiguration", "ReplicationConfigurationNotFoundError",
			"ServerSideEncryptionConfigurationNotFoundError", "ObjectLockConfigurationNotFoundError",
			"NoSuchPublicAccessBlockConfiguration", "OwnershipControlsNotFoundError", "NoSuchObjectLockConfiguration"},
		s3io.ErrThrottled: {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded",
			"TooManyRequests", "TooManyRequestsException", "RequestThrottled", "ServiceUnavailable"},
		s3io.ErrServer: {"InternalError", "RequestTimeout", "ServiceFailure"},
	} {
		for _, c := range codes {
			codeErrors[c] = sentinel
		}
	}
}

// mapError wraps an error from the SDK in an *s3io.OpError. bucket-level
// operations pass an empty key, which turns a bare 404 into
// ErrBucketNotFound. A cancelled or expired context stays a context error,
// so that errors.Is(err, context.Canceled) holds.
func mapError(ctx context.Context, op, bucket, key string, err error) error {
	if err == nil {
		return nil
	}
	oe := &s3io.OpError{Op: op, Bucket: bucket, Key: key}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() != "UnknownError" {
		oe.Code, oe.Message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	status := httpStatus(err)
	var credErr *credentialsError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		oe.Err = contextError(err)
	case status == 0 && ctx.Err() != nil:
		// The request died with its context, whatever the transport said.
		oe.Err = ctx.Err()
	case errors.As(err, &credErr):
		oe.Err, oe.Message = s3io.ErrInvalidCredentials, credErr.Error()
	case (status == http.StatusBadRequest || status == http.StatusForbidden) && mentionsSSEC(oe.Message):
		oe.Err = s3io.ErrSSECKey
	case codeErrors[oe.Code] != nil:
		oe.Err = codeErrors[oe.Code]
		if oe.Code == "NotFound" && key == "" {
			oe.Err = s3io.ErrBucketNotFound
		}
	case status != 0:
		oe.Err = statusError(status, key == "")
		if oe.Message == "" {
			oe.Message = http.StatusText(status)
		}
	case isUnreachable(err):
		oe.Err, oe.Message = s3io.ErrUnreachable, transportMessage(err)
	default:
		oe.Err, oe.Message = s3io.ErrServer, transportMessage(err)
	}
	return oe
}

// statusError reads a status without an error code, as HEAD responses
// (which have no body) and some gateways give.
func statusError(status int, bucketOp bool) error {
	switch {
	case status == http.StatusNotFound && bucketOp:
		return s3io.ErrBucketNotFound
	case status == http.StatusNotFound:
		return s3io.ErrNotFound
	case status == http.StatusUnauthorized:
		return s3io.ErrInvalidCredentials
	case status == http.StatusForbidden:
		return s3io.ErrAccessDenied
	case status == http.StatusPreconditionFailed:
		return s3io.ErrPreconditionFailed
	case status == http.StatusNotImplemented:
		return s3io.ErrNotImplemented
	case status == http.StatusRequestEntityTooLarge:
		return s3io.ErrTooLarge
	case status == http.StatusInsufficientStorage:
		return s3io.ErrQuotaExceeded
	case status == http.StatusServiceUnavailable, status == http.StatusTooManyRequests:
		return s3io.ErrThrottled
	case status == http.StatusConflict, status >= 500:
		return s3io.ErrServer
	case status >= 300 && status < 500:
		return s3io.ErrInvalidArgument // redirects to another region, bad requests
	default:
		return s3io.ErrServer
	}
}

func contextError(err error) error {
	if errors.Is(err, context.Canceled) {
		return context.Canceled
	}
	return context.DeadlineExceeded
}

// isUnreachable reports failures to talk to the endpoint at all: DNS,
// refused or reset connections, timeouts, TLS and certificate errors, and
// connections closed before an answer.
func isUnreachable(err error) bool {
	var (
		netErr      net.Error
		dnsErr      *net.DNSError
		unknownCA   x509.UnknownAuthorityError
		badHost     x509.HostnameError
		badCert     x509.CertificateInvalidError
		tlsVerify   *tls.CertificateVerificationError
		tlsRecord   tls.RecordHeaderError
		tlsAlert    tls.AlertError
		tlsECHError *tls.ECHRejectionError
	)
	return errors.As(err, &netErr) || errors.As(err, &dnsErr) ||
		errors.As(err, &unknownCA) || errors.As(err, &badHost) || errors.As(err, &badCert) ||
		errors.As(err, &tlsVerify) || errors.As(err, &tlsRecord) || errors.As(err, &tlsAlert) ||
		errors.As(err, &tlsECHError) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) ||
		errors.Is(err, syscall.ETIMEDOUT) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// transportMessage is the cause of a transport failure without the
// request URL that *url.Error adds (our URLs carry no credentials, but a
// log line is no place for them).
func transportMessage(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return urlErr.Err.Error()
	}
	return err.Error()
}

// httpStatus returns the status of a failed request's response, or 0 when
// there was none.
func httpStatus(err error) int {
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

// withMessage adds an explanation to an *s3io.OpError.
func withMessage(err error, msg string) error {
	var oe *s3io.OpError
	if errors.As(err, &oe) {
		if oe.Message != "" {
			msg += ": " + oe.Message
		}
		oe.Message = msg
	}
	return err
}

// refused reports a request refused before sending, because the server
// would refuse it too; reason says which rule it breaks.
func refused(op, bucket, key string, reason error) error {
	return &s3io.OpError{Op: op, Bucket: bucket, Key: key, Message: reason.Error(), Err: s3io.ErrInvalidArgument}
}

// isRestoreInProgress reports S3's answer to a restore asked for again
// while the first still runs.
func isRestoreInProgress(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "RestoreAlreadyInProgress"
}

// mentionsSSEC reports whether a refusal is about an SSE-C key: servers
// answer 400 (no key for an encrypted object, or a key for a plain one) or
// 403 (a wrong key) with a message saying so, under various codes.
func mentionsSSEC(message string) bool {
	m := strings.ToLower(message)
	return strings.Contains(m, "encrypt") || strings.Contains(m, "sse") || strings.Contains(m, "customer key") ||
		strings.Contains(m, "customer-provided")
}

// headError reads a HEAD's refusal: HEAD answers have no body, so a bare
// 400 for an existing key is an object encrypted with an SSE-C key that
// was not sent (or a different one); S3 and MinIO answer that way.
func headError(err error) error {
	var oe *s3io.OpError
	// The SDK names a bodyless 400 "BadRequest".
	if errors.As(err, &oe) && (oe.Code == "" || oe.Code == "BadRequest") && errors.Is(oe.Err, s3io.ErrInvalidArgument) {
		oe.Err = s3io.ErrSSECKey
		oe.Message = "400 to HEAD: the object is most likely encrypted with an SSE-C key that was not given, or was wrong"
	}
	return err
}

// ssecKeyError turns a 400 InvalidArgument to a read that sent an SSE-C
// key into ErrSSECKey: Ceph RGW answers a wrong key that way, with no word
// of encryption in the message (MinIO says AccessDenied, S3 403).
func ssecKeyError(err error, sent s3io.SSECustomerKey) error {
	var oe *s3io.OpError
	if len(sent) > 0 && errors.As(err, &oe) && oe.Code == "InvalidArgument" && errors.Is(oe.Err, s3io.ErrInvalidArgument) {
		oe.Err = s3io.ErrSSECKey
		if oe.Message == "" {
			oe.Message = "400 InvalidArgument to a read with an SSE-C key: most likely the wrong key"
		}
	}
	return err
}
