package storetest

import (
	"bytes"
	"io"
	"net/http"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

var presignCases = []testCase{
	{"PresignedURLServesTheObjectWithoutCredentials", func(e *env) {
		data := randomBytes(9, 3000)
		e.put("dir/shared file+1", data, s3io.WriteOptions{})
		url, err := e.s.PresignGetObject(e.ctx, e.bucket, "dir/shared file+1", 5*time.Minute, s3io.ReadOptions{})
		e.ok("PresignGetObject", err)
		if url == "" {
			e.t.Fatal("PresignGetObject returned an empty URL")
		}
		if !e.opts.PresignedHTTP {
			return
		}
		req, err := http.NewRequestWithContext(e.ctx, http.MethodGet, url, nil)
		e.ok("request for the presigned URL", err)
		resp, err := http.DefaultClient.Do(req)
		e.ok("GET of the presigned URL", err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(body, data) {
			e.t.Fatalf("GET of the presigned URL: HTTP %d, %d bytes, %v; want the object's %d bytes",
				resp.StatusCode, len(body), err, len(data))
		}
	}},
	{"PresignExpiryOutsideOneSecondToSevenDaysIsInvalid", func(e *env) {
		for _, d := range []time.Duration{0, -time.Minute, s3io.MaxPresignExpiry + time.Second} {
			_, err := e.s.PresignGetObject(e.ctx, e.bucket, "k", d, s3io.ReadOptions{})
			e.wantErr("PresignGetObject for "+d.String(), err, s3io.ErrInvalidArgument)
		}
	}},
}
