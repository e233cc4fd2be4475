package awsstore

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/s3io/faultstore"
)

func TestErrorCodesMapToSentinels(t *testing.T) {
	cases := []struct {
		status int
		code   string
		want   error
	}{
		{404, "NoSuchKey", s3io.ErrNotFound},
		{404, "NoSuchBucket", s3io.ErrBucketNotFound},
		{404, "NoSuchUpload", s3io.ErrNotFound},
		{403, "AccessDenied", s3io.ErrAccessDenied},
		{403, "InvalidAccessKeyId", s3io.ErrInvalidCredentials},
		{403, "SignatureDoesNotMatch", s3io.ErrInvalidCredentials},
		{400, "ExpiredToken", s3io.ErrInvalidCredentials},
		{412, "PreconditionFailed", s3io.ErrPreconditionFailed},
		{501, "NotImplemented", s3io.ErrNotImplemented},
		{403, "InvalidObjectState", s3io.ErrInvalidObjectState},
		{400, "EntityTooLarge", s3io.ErrTooLarge},
		{403, "QuotaExceeded", s3io.ErrQuotaExceeded},
		{507, "XMinioStorageFull", s3io.ErrQuotaExceeded},
		{400, "XMinioAdminBucketQuotaExceeded", s3io.ErrQuotaExceeded},
		{400, "InvalidArgument", s3io.ErrInvalidArgument},
		{400, "InvalidRequest", s3io.ErrInvalidArgument},
		{409, "BucketNotEmpty", s3io.ErrBucketNotEmpty},
		{409, "BucketAlreadyExists", s3io.ErrBucketExists},
		{409, "BucketAlreadyOwnedByYou", s3io.ErrBucketExists},
		{503, "SlowDown", s3io.ErrThrottled},
		{500, "InternalError", s3io.ErrServer},
		{502, "BadGateway", s3io.ErrServer},
		{404, "NoSuchBucketPolicy", s3io.ErrNoConfiguration},
		{404, "NoSuchCORSConfiguration", s3io.ErrNoConfiguration},
		{404, "NoSuchLifecycleConfiguration", s3io.ErrNoConfiguration},
		{404, "NoSuchTagSet", s3io.ErrNoConfiguration},
		{400, "InvalidTag", s3io.ErrInvalidArgument},
		{400, "BadRequest", s3io.ErrInvalidArgument},
		{400, "MalformedPolicy", s3io.ErrInvalidArgument},
		{400, "MalformedXML", s3io.ErrInvalidArgument},
		{400, "InvalidBucketName", s3io.ErrInvalidArgument},
		{400, "IllegalVersioningConfigurationException", s3io.ErrInvalidArgument},
		{400, "AccessControlListNotSupported", s3io.ErrNotImplemented},
		{403, "ObjectAlreadyInActiveTierError", s3io.ErrInvalidObjectState},
		{501, "", s3io.ErrNotImplemented},
		{400, "SomethingNew", s3io.ErrInvalidArgument},
		{403, "SomethingNew", s3io.ErrAccessDenied},
		{504, "", s3io.ErrServer},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d_%s", tc.status, tc.code), func(t *testing.T) {
			f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, tc.status, tc.code) })
			s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 1 })
			_, err := s.ReadRange(ctxT(t), "bkt", "dir/key", 0, make([]byte, 10), s3io.ReadOptions{})
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			var oe *s3io.OpError
			if !errors.As(err, &oe) || oe.Op != "GetObject" || oe.Bucket != "bkt" || oe.Key != "dir/key" {
				t.Fatalf("err = %#v, want an OpError for GetObject bkt/dir/key", err)
			}
			if tc.code != "" && tc.code != "BadGateway" && oe.Code != tc.code {
				t.Fatalf("OpError.Code = %q, want %q", oe.Code, tc.code)
			}
		})
	}
}

func TestHeadStatusesWithoutBodyMapToSentinels(t *testing.T) {
	for _, tc := range []struct {
		status     int
		bucketHead bool
		want       error
	}{
		{404, false, s3io.ErrNotFound},
		{404, true, s3io.ErrBucketNotFound},
		{403, false, s3io.ErrAccessDenied},
		{403, true, s3io.ErrAccessDenied},
		{412, false, s3io.ErrPreconditionFailed},
		// A bare 400 to HEAD is an SSE-C object without its key.
		{400, false, s3io.ErrSSECKey},
		{400, true, s3io.ErrInvalidArgument},
		{301, true, s3io.ErrInvalidArgument},
		{503, false, s3io.ErrThrottled},
		{500, false, s3io.ErrServer},
	} {
		t.Run(fmt.Sprintf("%d_bucket_%v", tc.status, tc.bucketHead), func(t *testing.T) {
			f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, tc.status, "") })
			s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 1 })
			var err error
			if tc.bucketHead {
				err = s.HeadBucket(ctxT(t), "bkt")
			} else {
				_, err = s.HeadObject(ctxT(t), "bkt", "k", s3io.ReadOptions{})
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestCanceledContextStaysAContextError(t *testing.T) {
	release := make(chan struct{})
	f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	s := newFakeStore(t, f.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err := s.HeadObject(ctx, "bkt", "k", s3io.ReadOptions{})
	var oe *s3io.OpError
	if !errors.Is(err, context.Canceled) || !errors.As(err, &oe) {
		t.Fatalf("err = %v, want an OpError wrapping context.Canceled", err)
	}

	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = s.ReadRange(ctx, "bkt", "k", 0, make([]byte, 4), s3io.ReadOptions{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want context.DeadlineExceeded", err)
	}
}

func TestRefusedConnectionIsUnreachable(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	s := newFakeStore(t, "http://"+addr, func(c *Config) { c.MaxAttempts = 2 })
	_, err = s.HeadObject(ctxT(t), "bkt", "k", s3io.ReadOptions{})
	if !errors.Is(err, s3io.ErrUnreachable) {
		t.Fatalf("err = %v, want ErrUnreachable", err)
	}
	if strings.Contains(err.Error(), "http://") {
		t.Fatalf("error %q repeats the URL", err)
	}
}

func TestTransportFailuresMapWithoutAResponse(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		ctx  context.Context
		err  error
		want error
	}{
		{"dns", context.Background(), fmt.Errorf("send: %w", &net.DNSError{Err: "no such host", Name: "x.invalid"}), s3io.ErrUnreachable},
		{"refused", context.Background(), &net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}, s3io.ErrUnreachable},
		{"unknown CA", context.Background(), fmt.Errorf("tls: %w", x509.UnknownAuthorityError{}), s3io.ErrUnreachable},
		{"closed early", context.Background(), fmt.Errorf("read: %w", io.ErrUnexpectedEOF), s3io.ErrUnreachable},
		{"credentials", context.Background(), fmt.Errorf("get identity: %w", &credentialsError{errors.New("no SSO session")}), s3io.ErrInvalidCredentials},
		{"canceled in chain", context.Background(), fmt.Errorf("op: %w", context.Canceled), context.Canceled},
		{"context done, odd transport error", canceled, errors.New("use of closed network connection"), context.Canceled},
		{"anything else", context.Background(), errors.New("deserialization failed"), s3io.ErrServer},
	} {
		err := mapError(tc.ctx, "Op", "b", "k", tc.err)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v maps to %v, want %v", tc.name, tc.err, err, tc.want)
		}
	}
	if mapError(context.Background(), "Op", "b", "k", nil) != nil {
		t.Error("mapError(nil) is not nil")
	}
}

func TestRefusalsAboutSSECKeysMapToErrSSECKey(t *testing.T) {
	for _, tc := range []struct {
		status        int
		code, message string
	}{
		{400, "InvalidRequest", "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."},
		{403, "AccessDenied", "Requests specifying Server Side Encryption with Customer provided keys must provide the correct secret key."},
		{400, "InvalidArgument", "The SSE-C key provided does not match"},
	} {
		f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(tc.status)
			fmt.Fprintf(w, `<Error><Code>%s</Code><Message>%s</Message></Error>`, tc.code, tc.message)
		})
		s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 1 })
		_, err := s.ReadRange(ctxT(t), "bkt", "k", 0, make([]byte, 10), s3io.ReadOptions{})
		if !errors.Is(err, s3io.ErrSSECKey) {
			t.Errorf("%d %s %q: %v, want ErrSSECKey", tc.status, tc.code, tc.message, err)
		}
	}
}

// faultstore's injected errors are the ones this store returns: for each
// S3 code it puts in an injected *OpError, a server answering that code
// gives an *OpError with the same operation, object, code and sentinel.
func TestFaultstoreErrorsAreTheOnesAnswersGive(t *testing.T) {
	status := map[string]int{"NoSuchKey": 404, "NoSuchBucket": 404, "NoSuchBucketPolicy": 404,
		"AccessDenied": 403, "InvalidAccessKeyId": 403, "InvalidObjectState": 403, "QuotaExceeded": 403,
		"PreconditionFailed": 412, "NotImplemented": 501, "BucketNotEmpty": 409, "BucketAlreadyOwnedByYou": 409,
		"SlowDown": 503, "InternalError": 500}
	for code, sentinel := range faultstore.Codes() {
		t.Run(code, func(t *testing.T) {
			st := status[code]
			if st == 0 {
				st = 400
			}
			f := newFakeS3(t, func(w http.ResponseWriter, r *http.Request) { writeS3Error(w, r, st, code) })
			s := newFakeStore(t, f.URL, func(c *Config) { c.MaxAttempts = 1 })
			_, real := s.ReadRange(ctxT(t), "bkt", "dir/key", 0, make([]byte, 10), s3io.ReadOptions{})

			faults := faultstore.New(s)
			faults.Fail(faultstore.Rule{}, sentinel)
			_, injected := faults.ReadRange(ctxT(t), "bkt", "dir/key", 0, make([]byte, 10), s3io.ReadOptions{})

			var re, ie *s3io.OpError
			if !errors.As(real, &re) || !errors.As(injected, &ie) {
				t.Fatalf("real %#v, injected %#v: want two *OpErrors", real, injected)
			}
			if !errors.Is(real, sentinel) || !errors.Is(injected, sentinel) {
				t.Fatalf("real %v, injected %v: want both to wrap %v", real, injected, sentinel)
			}
			if re.Op != ie.Op || re.Bucket != ie.Bucket || re.Key != ie.Key || re.Code != ie.Code {
				t.Fatalf("real %+v, injected %+v: want the same operation, object and code", re, ie)
			}
		})
	}
}
