package main

// s3mount prefetch stages files into a mount's disk cache ahead of a job.
//
// It reads the files through the mount, in parallel: reading a file to its
// end through a mount with --cache-dir puts every block of it on disk
// (the daemon's disk queue slows readers rather than dropping blocks), so
// no second channel to the daemon is needed, and it works on read-only
// mounts. The kernel's page cache is dropped for each file before and
// after (posix_fadvise DONTNEED), so that reads reach the daemon and the
// job's memory is not filled with the data set. Files whose s3.cached
// says 100 % are skipped; after reading a file, it waits until s3.cached
// says the blocks are written.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sys/unix"
)

const prefetchUsage = `s3mount prefetch reads files into the disk cache of a mount made with
--cache-dir, so that a job reads them from local disk.

Usage:
  s3mount prefetch [flags] MOUNTPOINT [PATH...]   files or whole trees (default: all of MOUNTPOINT)
  s3mount prefetch [flags] MOUNTPOINT --from-file LIST

PATHs are relative to MOUNTPOINT, or absolute paths under it. LIST holds
one path per line ("-" reads standard input; blank lines and lines
starting with # are skipped).

Flags:
`

const prefetchUsageTail = `
Exit status: 0 when every file is in the disk cache, 1 when some could not
be fetched (each is named), 2 for a usage error or a mount without
--cache-dir.
`

type prefetchOptions struct {
	mount    string
	paths    []string
	fromFile string
	jobs     int
	progress string
	interval time.Duration
	settle   time.Duration
}

func prefetchFlags(o *prefetchOptions) *pflag.FlagSet {
	fs := pflag.NewFlagSet("s3mount prefetch", pflag.ContinueOnError)
	fs.Usage = func() {}
	fs.StringVar(&o.fromFile, "from-file", "", "read the paths from this file, one a line (- for standard input)")
	fs.IntVarP(&o.jobs, "jobs", "j", 8, "files read at once (each large file is read with the mount's read-ahead, several GETs at once)")
	fs.StringVar(&o.progress, "progress", "auto", "bar (redrawn on a terminal), lines (one every --progress-interval), none, or auto: bar on a terminal, else lines")
	fs.DurationVar(&o.interval, "progress-interval", 10*time.Second, "time between progress lines")
	fs.DurationVar(&o.settle, "settle-timeout", 30*time.Second, "how long to wait, after reading a file, for its last blocks to reach the disk cache")
	fs.BoolP("help", "h", false, "print this help")
	return fs
}

// runPrefetch is `s3mount prefetch ARGS`.
func runPrefetch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o prefetchOptions
	flags := prefetchFlags(&o)
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			writePrefetchUsage(stdout, flags)
			return exitOK
		}
		fmt.Fprintf(stderr, "s3mount prefetch: %v\nTry 's3mount prefetch --help'.\n", err)
		return exitUsage
	}
	if help, _ := flags.GetBool("help"); help {
		writePrefetchUsage(stdout, flags)
		return exitOK
	}
	if err := o.finish(flags.Args()); err != nil {
		fmt.Fprintf(stderr, "s3mount prefetch: %v\nTry 's3mount prefetch --help'.\n", err)
		return exitUsage
	}
	files, failed := o.collect()
	if len(files) > 0 {
		if _, err := readCached(files[0].path); errors.Is(err, unix.ENODATA) || errors.Is(err, unix.ENOTSUP) {
			fmt.Fprintf(stderr, "s3mount prefetch: %s has no disk cache: mount it with --cache-dir DIR to stage files in\n", o.mount)
			return exitUsage
		}
	}
	p := newProgress(&o, files, stderr)
	failed = append(failed, p.run(ctx, files)...)
	p.summary(stdout, len(failed))
	if len(failed) > 0 {
		sort.Slice(failed, func(i, j int) bool { return failed[i].path < failed[j].path })
		for _, f := range failed {
			fmt.Fprintf(stderr, "s3mount prefetch: not cached: %s: %v\n", f.path, f.err)
		}
		return exitError
	}
	return exitOK
}

func writePrefetchUsage(w io.Writer, flags *pflag.FlagSet) {
	fmt.Fprint(w, prefetchUsage)
	fmt.Fprint(w, flags.FlagUsages())
	fmt.Fprint(w, prefetchUsageTail)
}

func (o *prefetchOptions) finish(pos []string) error {
	if len(pos) == 0 {
		return errors.New("missing mount point")
	}
	if o.jobs < 1 || o.jobs > 256 {
		return errors.New("--jobs must be between 1 and 256")
	}
	switch o.progress {
	case "auto", "bar", "lines", "none":
	default:
		return fmt.Errorf("--progress must be auto, bar, lines or none, not %q", o.progress)
	}
	if o.interval <= 0 || o.settle <= 0 {
		return errors.New("--progress-interval and --settle-timeout must be positive")
	}
	mnt, err := filepath.Abs(pos[0])
	if err != nil {
		return err
	}
	o.mount = filepath.Clean(mnt)
	if !isS3mountMount(o.mount) {
		return fmt.Errorf("%s is not an s3mount mount point", o.mount)
	}
	o.paths = pos[1:]
	if o.fromFile != "" {
		if len(o.paths) > 0 {
			return errors.New("give PATHs or --from-file, not both")
		}
		if o.paths, err = readPathList(o.fromFile); err != nil {
			return err
		}
		if len(o.paths) == 0 {
			return fmt.Errorf("--from-file %s lists no paths", o.fromFile)
		}
	}
	if len(o.paths) == 0 {
		o.paths = []string{"."}
	}
	for i, p := range o.paths {
		if !filepath.IsAbs(p) {
			p = filepath.Join(o.mount, p)
		}
		p = filepath.Clean(p)
		if !within(p, o.mount) {
			return fmt.Errorf("%s is not under the mount point %s", o.paths[i], o.mount)
		}
		o.paths[i] = p
	}
	return nil
}

func readPathList(name string) ([]string, error) {
	var r io.Reader = os.Stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("--from-file: %w", err)
		}
		defer f.Close()
		r = f
	}
	var paths []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line != "" && !strings.HasPrefix(line, "#") {
			paths = append(paths, line)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--from-file %s: %w", name, err)
	}
	return paths, nil
}

// isS3mountMount reports whether dir is the root of an s3mount mount.
func isS3mountMount(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 || unescapeMountinfo(f[4]) != dir {
			continue
		}
		for i := 5; i+1 < len(f); i++ {
			if f[i] == "-" {
				return f[i+1] == "fuse.s3mount"
			}
		}
	}
	return false
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &v); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// stageFile is one regular file to fetch.
type stageFile struct {
	path string
	size int64
}

type stageFailure struct {
	path string
	err  error
}

// collect walks the paths for regular files (symlinks, FIFOs and devices
// are left alone). A path that cannot be walked is a failure, not a stop.
func (o *prefetchOptions) collect() ([]stageFile, []stageFailure) {
	var files []stageFile
	var failed []stageFailure
	seen := make(map[string]bool)
	for _, root := range o.paths {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				failed = append(failed, stageFailure{path, err})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if !d.Type().IsRegular() || seen[path] {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				failed = append(failed, stageFailure{path, err})
				return nil
			}
			seen[path] = true
			files = append(files, stageFile{path, info.Size()})
			return nil
		})
		if err != nil {
			failed = append(failed, stageFailure{root, err})
		}
	}
	return files, failed
}

// readCached reads s3.cached: bytes kept and the object's size.
func readCached(path string) (cachedState, error) {
	buf := make([]byte, 256)
	n, err := unix.Getxattr(path, "s3.cached", buf)
	if err != nil {
		return cachedState{}, err
	}
	return parseCached(string(buf[:n]))
}

type cachedState struct {
	kept, size int64
	note       string // why the file is not kept, when it is not
}

func (c cachedState) complete() bool { return c.kept >= c.size && c.note == "" }

// parseCached reads "KEPT of SIZE bytes (PCT%)[; NOTE]".
func parseCached(v string) (cachedState, error) {
	var c cachedState
	var pct int
	if _, err := fmt.Sscanf(v, "%d of %d bytes (%d%%)", &c.kept, &c.size, &pct); err != nil {
		return c, fmt.Errorf("s3.cached %q: %w", v, err)
	}
	if _, note, ok := strings.Cut(v, "; "); ok {
		c.note = note
	}
	return c, nil
}

// progress tracks and shows the stage-in.
type progress struct {
	o          *prefetchOptions
	w          io.Writer
	bar        bool
	totalBytes int64
	totalFiles int
	start      time.Time

	doneBytes, readBytes atomic.Int64
	doneFiles, skipped   atomic.Int64
	failedN              atomic.Int64
}

func newProgress(o *prefetchOptions, files []stageFile, w io.Writer) *progress {
	p := &progress{o: o, w: w, totalFiles: len(files), start: time.Now()}
	for _, f := range files {
		p.totalBytes += f.size
	}
	switch o.progress {
	case "bar":
		p.bar = true
	case "auto":
		p.bar = isTerminal(w)
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// run fetches the files, o.jobs at once, and returns what failed.
func (p *progress) run(ctx context.Context, files []stageFile) []stageFailure {
	work := make(chan stageFile)
	var mu sync.Mutex
	var failed []stageFailure
	var wg sync.WaitGroup
	for i := 0; i < p.o.jobs; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range work {
				if err := p.stage(ctx, f); err != nil {
					p.failedN.Add(1)
					mu.Lock()
					failed = append(failed, stageFailure{f.path, err})
					mu.Unlock()
				}
				p.doneFiles.Add(1)
			}
		}()
	}
	stop := make(chan struct{})
	shown := make(chan struct{})
	go p.show(stop, shown)
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	close(stop)
	<-shown
	return failed
}

// stage puts one file in the disk cache.
func (p *progress) stage(ctx context.Context, f stageFile) error {
	before, err := readCached(f.path)
	if err != nil {
		return fmt.Errorf("s3.cached: %w", err)
	}
	if before.complete() {
		p.skipped.Add(1)
		p.doneBytes.Add(f.size)
		return nil
	}
	if before.note != "" {
		p.doneBytes.Add(f.size)
		return errors.New(before.note)
	}
	n, err := readThrough(ctx, f.path, func(n int) { p.doneBytes.Add(int64(n)); p.readBytes.Add(int64(n)) })
	if rest := f.size - n; rest > 0 {
		p.doneBytes.Add(rest) // the file shrank, or the read failed: account for it all
	}
	if err != nil {
		return err
	}
	return waitCached(ctx, f.path, p.o.settle)
}

// readThrough reads a file to its end through the mount, with the kernel's
// page cache for it dropped before and after.
func readThrough(ctx context.Context, path string, add func(int)) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fd := int(f.Fd())
	_ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED)
	defer func() { _ = unix.Fadvise(fd, 0, 0, unix.FADV_DONTNEED) }()
	buf := make([]byte, 1<<20)
	var total int64
	for {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		n, err := f.Read(buf)
		total += int64(n)
		add(n)
		if errors.Is(err, io.EOF) {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// waitCached waits until s3.cached says the whole file is on disk, for as
// long as it keeps growing and at most timeout without growth.
func waitCached(ctx context.Context, path string, timeout time.Duration) error {
	last := int64(-1)
	deadline := time.Now().Add(timeout)
	for {
		c, err := readCached(path)
		if err != nil {
			return fmt.Errorf("s3.cached: %w", err)
		}
		if c.complete() {
			return nil
		}
		if c.note != "" {
			return errors.New(c.note)
		}
		if c.kept > last {
			last, deadline = c.kept, time.Now().Add(timeout)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("read, but only %d of %d bytes reached the disk cache (full, or the object changed? see the mount's log)", c.kept, c.size)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// show draws the bar (every 200 ms) or prints lines (every interval)
// until stop is closed, then the last state.
func (p *progress) show(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	if p.o.progress == "none" {
		<-stop
		return
	}
	every := p.o.interval
	if p.bar {
		every = 200 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			if p.bar {
				fmt.Fprintf(p.w, "\r%s\n", p.line(true))
			}
			return
		case <-t.C:
			if p.bar {
				fmt.Fprintf(p.w, "\r%s", p.line(true))
			} else {
				fmt.Fprintf(p.w, "s3mount prefetch: %s\n", p.line(false))
			}
		}
	}
}

// line describes the progress: bytes, files, rate, time left.
func (p *progress) line(bar bool) string {
	done, read := p.doneBytes.Load(), p.readBytes.Load()
	elapsed := time.Since(p.start)
	rate := float64(read) / max(elapsed.Seconds(), 1e-3)
	frac := 1.0
	if p.totalBytes > 0 {
		frac = min(1, float64(done)/float64(p.totalBytes))
	}
	left := "?"
	if rate > 0 {
		left = time.Duration(float64(p.totalBytes-done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	text := fmt.Sprintf("%3.0f%% %s of %s, %d of %d files, %s/s, %s left",
		100*frac, humanBytes(done), humanBytes(p.totalBytes), p.doneFiles.Load(), p.totalFiles, humanBytes(int64(rate)), left)
	if n := p.failedN.Load(); n > 0 {
		text += fmt.Sprintf(", %d failed", n)
	}
	if !bar {
		return text
	}
	const width = 30
	full := int(frac * width)
	return "[" + strings.Repeat("#", full) + strings.Repeat(".", width-full) + "] " + text + "  "
}

func (p *progress) summary(w io.Writer, failed int) {
	elapsed := time.Since(p.start)
	fmt.Fprintf(w, "s3mount prefetch: %d files, %s in %s (%s/s read): %d read into the cache, %d already cached, %d failed\n",
		p.totalFiles, humanBytes(p.totalBytes), elapsed.Round(10*time.Millisecond), humanBytes(int64(float64(p.readBytes.Load())/max(elapsed.Seconds(), 1e-3))),
		p.totalFiles-int(p.skipped.Load())-int(p.failedN.Load()), p.skipped.Load(), failed)
}
