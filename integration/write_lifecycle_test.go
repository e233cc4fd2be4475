package integration

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/s3mount/s3mount/internal/faultproxy"
)

// A reader (cat, grep, a backup agent) that opens and closes a file while
// another descriptor is writing it must not publish the writer's partial
// bytes over the complete old object, nor cost an upload.
func TestReaderCloseDuringAWriteNeverUploads(t *testing.T) {
	s, p := faultSession(t)
	old := bytes.Repeat([]byte("complete old object\n"), 1000)
	s.put("f", old)
	var puts countingMatch
	p.Add(faultproxy.Rule{Match: puts.match(faultproxy.IsPutObject)})

	w, err := os.OpenFile(s.path("f"), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("half of the new")); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		r, err := os.Open(s.path("f"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil || string(got) != "half of the new" {
			t.Fatalf("a reader during the write reads %q, %v; want the writer's bytes", got, err)
		}
		if err := r.Close(); err != nil {
			t.Fatalf("reader close: %v", err)
		}
	}
	if got := s.get("f"); !bytes.Equal(got, old) {
		t.Fatalf("after readers closed, S3 holds %q, want the complete old object", truncateForLog(got))
	}
	if n := puts.count(); n != 0 {
		t.Fatalf("readers' closes sent %d PUTs, want none", n)
	}
	if _, err := w.Write([]byte(" object, complete")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("writer close: %v", err)
	}
	if got := string(s.get("f")); got != "half of the new object, complete" {
		t.Fatalf("after the writer closed, S3 holds %q", got)
	}
}

// When the server fails the unlink (or the rename over it) of a file open
// for writing, nothing changed: the writer's data still reaches S3 at its
// close, or its close fails. Before, the writer was already marked removed:
// its close returned 0, its bytes were dropped, and S3 kept the old object.
func TestFailedRemovalOfAFileOpenForWritingLosesNothing(t *testing.T) {
	for _, op := range []string{"unlink", "rename over"} {
		t.Run(op, func(t *testing.T) {
			s, p := faultSession(t)
			s.put("f", []byte("old"))
			s.put("other", []byte("the file renamed over f"))
			w, err := os.OpenFile(s.path("f"), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if _, err := w.Write([]byte("the writer's new bytes")); err != nil {
				t.Fatal(err)
			}
			var match func(*http.Request) bool
			switch op {
			case "unlink":
				match = func(r *http.Request) bool { return r.Method == http.MethodDelete }
			default:
				match = faultproxy.IsCopy
			}
			remove := p.Add(faultproxy.Rule{Match: match, Action: faultproxy.Status(http.StatusInternalServerError, "InternalError")})
			if op == "unlink" {
				err = os.Remove(s.path("f"))
			} else {
				err = os.Rename(s.path("other"), s.path("f"))
			}
			if err == nil {
				t.Fatalf("%s succeeded although the server failed it", op)
			}
			remove()
			if err := w.Close(); err != nil {
				t.Fatalf("writer close after the failed %s: %v", op, err)
			}
			if got := string(s.get("f")); got != "the writer's new bytes" {
				t.Fatalf("after the failed %s and the writer's close, S3 holds %q", op, got)
			}
			if got := run(t, "cat", s.path("f")); got != "the writer's new bytes" {
				t.Fatalf("the mount shows %q", got)
			}
		})
	}
}

// countingMatch counts the requests a matcher selects.
type countingMatch struct{ n atomic.Int64 }

func (c *countingMatch) match(m func(*http.Request) bool) func(*http.Request) bool {
	return func(r *http.Request) bool {
		if m(r) {
			c.n.Add(1)
		}
		return false // count only: the rule affects nothing
	}
}

func (c *countingMatch) count() int64 { return c.n.Load() }

func truncateForLog(b []byte) string {
	s := string(b)
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return strings.TrimSpace(s)
}
