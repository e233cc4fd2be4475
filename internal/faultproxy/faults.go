package faultproxy

import (
	"bytes"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"strconv"
)

// answerStatus answers with code and an S3 error body, without forwarding.
func answerStatus(w http.ResponseWriter, r *http.Request, code int, s3Code string) {
	// A client still sending its body when the answer comes may see a
	// broken pipe instead of the answer; draining first makes the
	// injected status what the client sees.
	_, _ = io.Copy(io.Discard, r.Body)
	writeS3Error(w, r, code, s3Code, "fault injected by faultproxy")
}

// writeS3Error writes an error response shaped like S3's, which SDKs parse
// into an error carrying s3Code.
func writeS3Error(w http.ResponseWriter, r *http.Request, code int, s3Code, message string) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	b.WriteString("<Error><Code>")
	_ = xml.EscapeText(&b, []byte(s3Code))
	b.WriteString("</Code><Message>")
	_ = xml.EscapeText(&b, []byte(message))
	b.WriteString("</Message><Resource>")
	_ = xml.EscapeText(&b, []byte(r.URL.Path))
	b.WriteString("</Resource><RequestId>faultproxy</RequestId></Error>")
	h := w.Header()
	h.Set("Content-Type", "application/xml")
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	h.Set("X-Amz-Request-Id", "faultproxy")
	w.WriteHeader(code)
	_, _ = w.Write(b.Bytes())
}

// resetMidBody reads part of the request body, so that the client is in the
// middle of sending it, then resets the connection.
func resetMidBody(w http.ResponseWriter, r *http.Request) {
	if n := partOfBody(r.ContentLength); n > 0 {
		_, _ = io.CopyN(io.Discard, r.Body, n)
	}
	abort(w)
}

// minPartRead is how much of a body ResetConnection reads at least, when
// the body is longer: enough that the client is surely sending it.
const minPartRead = 4 << 10

// partOfBody returns how many bytes of a body of length n (-1: unknown) to
// read before a reset: half, at least minPartRead, never all of it.
func partOfBody(n int64) int64 {
	if n < 0 {
		return minPartRead
	}
	return max(min(max(n/2, minPartRead), n-1), 0)
}

// abort closes the client's connection with a TCP reset and no answer.
// Where the connection cannot be taken over (it is gone already), it
// panics with http.ErrAbortHandler, which makes net/http drop the
// connection without sending a response.
func abort(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // close sends RST, not FIN
	}
	_ = conn.Close()
}
