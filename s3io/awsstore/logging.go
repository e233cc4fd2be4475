package awsstore

import (
	"context"
	"log/slog"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// requestLogger logs each HTTP attempt at debug level: operation, path,
// status, duration and request id. Headers and query strings, which carry
// signatures and SSE-C keys, are never logged.
func requestLogger(log *slog.Logger) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("s3mountRequestLog",
			func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
				if !log.Enabled(ctx, slog.LevelDebug) {
					return next.HandleDeserialize(ctx, in)
				}
				start := time.Now()
				out, md, err := next.HandleDeserialize(ctx, in)
				attrs := []any{"op", middleware.GetOperationName(ctx), "duration", time.Since(start).Round(time.Microsecond)}
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					attrs = append(attrs, "method", req.Method, "path", req.URL.EscapedPath())
					if r := req.Header.Get("Range"); r != "" {
						attrs = append(attrs, "range", r)
					}
				}
				if resp, ok := out.RawResponse.(*smithyhttp.Response); ok {
					attrs = append(attrs, "status", resp.StatusCode)
				}
				if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok {
					attrs = append(attrs, "request_id", id)
				}
				if err != nil {
					attrs = append(attrs, "err", err)
				}
				log.DebugContext(ctx, "s3 request", attrs...)
				return out, md, err
			}), middleware.After)
	}
}
