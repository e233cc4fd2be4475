package awsstore

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"time"

	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3mount/s3mount/s3io"
)

// requestLogging adds two middlewares to every operation: one notes the
// bucket and key of the call, the other logs each HTTP attempt at debug
// level and tells observe (when set) of it. It sits innermost in the deserialize step, right above the HTTP
// client, so every retry is a line of its own and the duration is the
// wire's.
//
// It logs only what is safe to log: operation, bucket, key, range,
// attempt, status, duration, request ids and the error. Never headers
// (Authorization carries the signature, SSE-C requests carry the key) and
// never URLs.
func requestLogging(log *slog.Logger, observe s3io.AttemptObserver) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		debug := log.Enabled(context.Background(), slog.LevelDebug)
		if !debug && observe == nil {
			return nil
		}
		err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("s3mountLogTarget",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (
				middleware.InitializeOutput, middleware.Metadata, error,
			) {
				t := newTarget(in.Parameters)
				if ctx.Value(leanTriedKey{}) != nil {
					t.attempt = 1 // the lean attempt was the first
				}
				ctx = middleware.WithStackValue(ctx, targetKey{}, t)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		if err != nil {
			return err
		}
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("s3mountLogAttempt",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
				middleware.DeserializeOutput, middleware.Metadata, error,
			) {
				start := time.Now()
				out, md, err := next.HandleDeserialize(ctx, in)
				d := time.Since(start)
				t, _ := middleware.GetStackValue(ctx, targetKey{}).(*target)
				if t == nil {
					t = &target{}
				}
				t.attempt++
				if observe != nil {
					observe(attemptOf(ctx, t, in, out, err, d))
				}
				if debug {
					logAttempt(ctx, log, t, in, out, err, d)
				}
				return out, md, err
			}), middleware.After)
	}
}

// target is what an operation works on; attempt counts its HTTP attempts.
type target struct {
	bucket, key, prefix string
	attempt             int
}

type targetKey struct{}

// newTarget reads Bucket, Key and Prefix from any S3 input struct.
func newTarget(params any) *target {
	t := &target{}
	v := reflect.ValueOf(params)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return t
	}
	v = v.Elem()
	field := func(name string) string {
		f := v.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			return f.Elem().String()
		}
		return ""
	}
	t.bucket, t.key, t.prefix = field("Bucket"), field("Key"), field("Prefix")
	return t
}

// attemptOf is what observe is told: the operation, never its bucket or
// key.
func attemptOf(ctx context.Context, t *target, in middleware.DeserializeInput, out middleware.DeserializeOutput,
	err error, d time.Duration) s3io.Attempt {
	a := s3io.Attempt{Op: middleware.GetOperationName(ctx), Attempt: t.attempt, Duration: d, Err: err != nil}
	head := false
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		head = req.Method == http.MethodHead
		if req.ContentLength > 0 {
			a.BytesSent = req.ContentLength
		} else if n, ok, err := req.StreamLength(); err == nil && ok && n > 0 {
			a.BytesSent = n
		}
	}
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		a.Status = resp.StatusCode
		if resp.ContentLength > 0 && !head { // a HEAD's length is the object's, not what came
			a.BytesReceived = resp.ContentLength
		}
		if resp.StatusCode >= 400 {
			a.Err = true
		}
	}
	return a
}

func logAttempt(ctx context.Context, log *slog.Logger, t *target, in middleware.DeserializeInput, out middleware.DeserializeOutput,
	err error, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("op", middleware.GetOperationName(ctx)),
		slog.String("bucket", t.bucket),
	}
	if t.key != "" {
		attrs = append(attrs, slog.String("key", t.key))
	}
	if t.prefix != "" {
		attrs = append(attrs, slog.String("prefix", t.prefix))
	}
	if req, ok := in.Request.(*smithyhttp.Request); ok {
		if r := req.Header.Get("Range"); r != "" {
			attrs = append(attrs, slog.String("range", r))
		}
	}
	attrs = append(attrs, slog.Int("attempt", t.attempt))
	if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil {
		attrs = append(attrs, slog.Int("status", resp.StatusCode))
		if id := resp.Header.Get("X-Amz-Request-Id"); id != "" {
			attrs = append(attrs, slog.String("request_id", id))
		}
		if id := resp.Header.Get("X-Amz-Id-2"); id != "" {
			attrs = append(attrs, slog.String("host_id", id))
		}
	}
	attrs = append(attrs, slog.Duration("duration", d.Round(time.Microsecond)))
	if err != nil {
		attrs = append(attrs, slog.String("err", transportMessage(err)))
	}
	log.LogAttrs(ctx, slog.LevelDebug, "s3 request", attrs...)
}

// sdkLogger sends the SDK's own messages (warnings, mostly) to our logger.
func sdkLogger(log *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
		level := slog.LevelDebug
		if c == logging.Warn {
			level = slog.LevelWarn
		}
		log.Log(context.Background(), level, "aws sdk: "+fmt.Sprintf(format, v...))
	})
}
