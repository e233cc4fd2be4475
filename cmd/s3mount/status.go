package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	rtmetrics "runtime/metrics"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/s3mount/s3mount/cache"
	"github.com/s3mount/s3mount/fs"
	"github.com/s3mount/s3mount/metrics"
	"github.com/s3mount/s3mount/s3io"
	"github.com/s3mount/s3mount/writeback"
)

// xattrSizeMax is the largest xattr value Linux passes (XATTR_SIZE_MAX).
const xattrSizeMax = 64 << 10

// maxStatusFiles bounds the files listed, so that the text fits an xattr.
const maxStatusFiles = 200

// statusCommand is `s3mount status MOUNTPOINT`: it prints what the daemon
// says in the mount root's s3.status xattr. The kernel passes the
// caller's uid with the request and the daemon answers only its own user
// and root, so the xattr is the owner-only channel (no socket to place,
// name or clean up).
func statusCommand(args []string, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: s3mount status MOUNTPOINT")
		return exitUsage
	}
	dir := args[0]
	buf := make([]byte, xattrSizeMax)
	n, err := syscall.Getxattr(dir, "s3.status", buf)
	switch {
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		fmt.Fprintf(stderr, "s3mount status %s: permission denied (only the user who mounted it and root may read its status)\n", dir)
		return 1
	case errors.Is(err, syscall.ENODATA), errors.Is(err, syscall.ENOTSUP):
		fmt.Fprintf(stderr, "s3mount status %s: not the root of an s3mount mount\n", dir)
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "s3mount status %s: %v\n", dir, err)
		return 1
	}
	stdout.Write(buf[:n])
	return exitOK
}

// statusSources is what the status text is made of; uploads is nil on a
// read-only mount.
type statusSources struct {
	opts    *Options
	started time.Time
	rec     *metrics.Recorder
	limit   *s3io.Limited
	blocks  *cache.Cache
	uploads *writeback.Manager
	fsys    *fs.FS
	// perUser is set on a --per-user mount (uploads and fsys are not).
	perUser *fs.PerUser
}

// text renders one screen of status, at most xattrSizeMax bytes.
func (s *statusSources) text() []byte {
	var b bytes.Buffer
	o := s.opts
	what := "every bucket"
	if o.PerUser {
		what = "per user"
	}
	if o.Bucket != "" {
		what = "bucket " + o.Bucket
		if o.Prefix != "" {
			what += ", prefix " + o.Prefix
		}
	}
	fmt.Fprintf(&b, "s3mount %s on %s (%s at %s), pid %d, up %s\n", version, o.MountPoint, what, endpointName(o),
		os.Getpid(), time.Since(s.started).Round(time.Second))

	switch {
	case s.perUser != nil:
		s.writeUsers(&b)
	case s.uploads == nil:
		b.WriteString("\nread-only: no uploads\n")
	default:
		s.writeUploads(&b)
	}

	c := s.blocks.Stats()
	rate := "no reads yet"
	if c.Hits+c.Misses > 0 {
		rate = fmt.Sprintf("%.1f%% hit rate", 100*float64(c.Hits)/float64(c.Hits+c.Misses))
	}
	fmt.Fprintf(&b, "\ncache: %s of %s kept; %d hits, %d misses (%s); %s fetched from S3 in %d requests\n",
		humanBytes(c.KeptBytes), humanBytes(c.CapacityBytes), c.Hits, c.Misses, rate, humanBytes(c.BytesFetched), c.Fetches)
	fmt.Fprintf(&b, "  read ahead: %d blocks within files, %d files of directories read in order\n", c.PrefetchHits, c.GroupHits)
	if d, ok := s.blocks.DiskStats(); ok {
		fmt.Fprintf(&b, "disk cache %s: %s in %d blocks; %d hits, %d misses; %s written, %d evicted, %d corrupt (fetched again)\n",
			s.opts.CacheDir, humanBytes(d.Bytes), d.Blocks, d.Hits, d.Misses, humanBytes(d.BytesWritten), d.Evicted, d.Corrupt)
	}

	fmt.Fprintf(&b, "\n%s\n", heapLine())
	if s.fsys != nil {
		// What the heap follows (see followNodes): bench-scale divides by it.
		fmt.Fprintf(&b, "inodes: %d held by the kernel\n", s.fsys.LiveNodes())
	}

	recent := s.rec.Recent()
	fmt.Fprintf(&b, "\nlast minute: %d S3 requests, %d errors, %d retries\n", recent.Requests, recent.Errors, recent.Retries)
	if s.limit != nil {
		fmt.Fprintf(&b, "now: %d S3 requests in flight of at most %d, %d waiting\n", s.limit.InFlight(), s.limit.Max(), s.limit.Waiting())
	}
	b.WriteString("\nS3 requests since mount (HTTP attempts):\n")
	tw := tabwriter.NewWriter(&b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  operation\trequests\terrors\tretries\t")
	for _, t := range s.rec.Totals() {
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t\n", t.Op, t.Requests, t.Errors, t.Retries)
	}
	tw.Flush()
	out := b.Bytes()
	if len(out) > xattrSizeMax {
		const cut = "\n[cut to fit]\n"
		out = append(out[:xattrSizeMax-len(cut)], cut...)
	}
	return out
}

// writeUsers lists the users whose tree is built, with counts of their
// uploads only: their keys' names are theirs.
func (s *statusSources) writeUsers(b *bytes.Buffer) {
	trees := s.perUser.Trees()
	fmt.Fprintf(b, "\nusers with a tree: %d\n", len(trees))
	tw := tabwriter.NewWriter(b, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "  user\tuid\topen\tin flight\tfailed\t")
	for i, t := range trees {
		if i == maxStatusFiles {
			fmt.Fprintf(tw, "  ... and %d more\n", len(trees)-i)
			break
		}
		counts := map[string]int{}
		for _, u := range t.FS.Uploads() {
			counts[uploadKind(u)]++
		}
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%d\t\n", t.User.Name, t.User.UID, counts["open"], counts["in flight"], counts["failed"])
	}
	tw.Flush()
}

// heapSamples are the runtime metrics of the heap line. Reading them does
// not stop the world or force a collection (runtime.ReadMemStats and
// runtime.GC would), so a status read costs the same however big the heap.
var heapSamples = []string{"/gc/heap/live:bytes", "/gc/cycles/total:gc-cycles", "/memory/classes/heap/objects:bytes"}

// heapLine is the daemon's Go heap: what the last collection found live
// (what the mount's state costs; it changes only when a collection runs,
// at the latest every 2 minutes), and the heap objects now, garbage not
// yet collected included.
func heapLine() string {
	s := make([]rtmetrics.Sample, len(heapSamples))
	for i, name := range heapSamples {
		s[i].Name = name
	}
	rtmetrics.Read(s)
	val := func(i int) uint64 {
		if s[i].Value.Kind() != rtmetrics.KindUint64 {
			return 0
		}
		return s[i].Value.Uint64()
	}
	return fmt.Sprintf("heap: live %s after GC %d; %s of heap objects now", humanBytes(int64(val(0))), val(1), humanBytes(int64(val(2))))
}

func (s *statusSources) writeUploads(b *bytes.Buffer) {
	st := s.uploads.Stats()
	ups := s.fsys.Uploads()
	var open, inFlight, failed int
	for _, u := range ups {
		switch uploadKind(u) {
		case "open":
			open++
		case "in flight":
			inFlight++
		default:
			failed++
		}
	}
	fmt.Fprintf(b, "\nuploads: %d open for writing, %d in flight, %d failed and waiting for a retry; %s staged on disk\n",
		open, inFlight, failed, humanBytes(st.StagedBytes))
	fmt.Fprintf(b, "  since mount: %d uploads failed, %d retried in the background\n", st.UploadsFailed, st.UploadsRetried)
	if n := s.fsys.PendingMarkers(); n > 0 {
		fmt.Fprintf(b, "  %d directories with attribute changes (chmod, chown, touch) still to be written\n", n)
	}
	for i, u := range ups {
		if i == maxStatusFiles {
			fmt.Fprintf(b, "  ... and %d more\n", len(ups)-i)
			break
		}
		name := u.Bucket + "/" + u.Key
		switch kind := uploadKind(u); kind {
		case "failed":
			fmt.Fprintf(b, "  FAILED     %s  %s  %d failed attempts, staged in %s\n", quote(name), humanBytes(u.Size), u.Failures, u.StagingPath)
			fmt.Fprintf(b, "             last error: %s\n", oneLine(u.LastError))
		default:
			done := ""
			if u.PartBytes > 0 {
				done = fmt.Sprintf(" (%s in uploaded parts)", humanBytes(min(u.PartBytes, u.Size)))
			}
			fmt.Fprintf(b, "  %-10s %s  %s%s\n", kind, quote(name), humanBytes(u.Size), done)
		}
	}
}

// uploadKind sorts a staged file: still open by a program, closed with
// its upload queued or running, or failed (its staged bytes wait for a
// retry).
func uploadKind(u fs.UploadStatus) string {
	switch {
	case u.Failures > 0:
		return "failed"
	case u.Retained:
		return "in flight"
	default:
		return "open"
	}
}

// quote shows a key as is unless it holds control characters.
func quote(s string) string {
	if strings.ContainsFunc(s, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
