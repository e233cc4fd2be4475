package main

import (
	"bufio"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/integration/internal/benchkit"
)

// markEvery is the granularity of the first- and last-window rates.
const markEvery = 1000

// row is one step of the report.
type row struct {
	step        string
	entries     int
	took, raw   time.Duration
	rawWhat     string
	first, last float64 // entries/s over the first and the last window; 0 when not measured
	window      int
	windowWhat  string // what the windows cover, for the report
	note        string // another rate, for information
	requests    map[string]float64
	hwm, rss    int64
	heap        heap
}

// marks records when each markEvery-th entry of a step was done, and the
// CPU the daemon and the server had used by then.
type marks struct {
	start time.Time
	at    []time.Time
	cpu   [][2]time.Duration // the daemon's and MinIO's, at each mark (index 0: the start)
	pids  [2]int
	n     atomic.Int64
}

func (s *scale) newMarks(d *daemon, total int) *marks {
	m := &marks{at: make([]time.Time, total/markEvery+1), cpu: make([][2]time.Duration, total/markEvery+1),
		pids: [2]int{d.Cmd.Process.Pid, s.env.Srv.Pid()}}
	m.restart()
	return m
}

// restart moves the start to now, for a subsequence that begins later.
func (m *marks) restart() { m.start, m.cpu[0] = time.Now(), m.cpuNow() }

// done counts one entry; safe from many goroutines (each mark is written
// by the one that reached it).
func (m *marks) done() {
	if n := m.n.Add(1); n%markEvery == 0 && int(n/markEvery) < len(m.at) {
		m.at[n/markEvery], m.cpu[n/markEvery] = time.Now(), m.cpuNow()
	}
}

func (m *marks) cpuNow() [2]time.Duration {
	return [2]time.Duration{processCPU(m.pids[0]), processCPU(m.pids[1])}
}

// cpuPerEntry is the daemon's and MinIO's CPU per entry over the first
// and the last window (zero when not measured): a fall of the rate with
// the CPU per entry of one of them rising is that one's.
func (m *marks) cpuPerEntry(window int) (first, last [2]time.Duration) {
	k := window / markEvery
	full := int(m.n.Load() / markEvery)
	if k == 0 || full < 2*k {
		return first, last
	}
	for i := range 2 {
		first[i] = (m.cpu[k][i] - m.cpu[0][i]) / time.Duration(window)
		last[i] = (m.cpu[full][i] - m.cpu[full-k][i]) / time.Duration(window)
	}
	return first, last
}

// cpuNote says what cpuPerEntry found, for the report.
func (m *marks) cpuNote(window int) string {
	first, last := m.cpuPerEntry(window)
	if first[0] == 0 {
		return ""
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	return fmt.Sprintf("CPU per entry, first / last window: the daemon %.0f / %.0f us, MinIO %.0f / %.0f us",
		us(first[0]), us(last[0]), us(first[1]), us(last[1]))
}

func joinNotes(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "; " + b
}

// processCPU is the user and system time pid has used, 0 when unknown.
func processCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// After the command's closing parenthesis: utime and stime are the
	// 12th and 13th fields, in clock ticks (100 a second on Linux).
	_, rest, ok := strings.Cut(string(b), ") ")
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

// rates are the entries/s of the first and of the last window entries.
func (m *marks) rates(window int) (first, last float64) {
	k := window / markEvery
	full := int(m.n.Load() / markEvery) // marks 1..full are set
	if k == 0 || full < 2*k {
		return 0, 0
	}
	first = float64(window) / m.at[k].Sub(m.start).Seconds()
	last = float64(window) / m.at[full].Sub(m.at[full-k]).Seconds()
	return first, last
}

func (s *scale) window() int { return windowOf(s.l.total()) }

// windowOf is the window for a step of n entries: 100,000, or a tenth of
// them when there are fewer than a million.
func windowOf(n int) int {
	w := min(100000, n/10)
	return w / markEvery * markEvery
}

func (s *scale) measure(ctx context.Context) ([]row, [2]heap, error) {
	var heaps [2]heap
	d, err := s.mount()
	if err != nil {
		return nil, heaps, err
	}
	defer d.unmount()
	if _, err := os.ReadDir(d.dir); err != nil {
		return nil, heaps, err
	}
	fmt.Println("start: waiting for the daemon's first garbage collection (at the latest 2 minutes after start)")
	if heaps[0], _, err = d.heapAfterGC(); err != nil {
		return nil, heaps, err
	}
	s.startRSS = d.proc("VmRSS:")
	fmt.Printf("start: live heap %.1f MiB, RSS %d MiB\n", heaps[0].live, s.startRSS>>20)
	steps := []struct {
		name string
		run  func(*daemon) (row, error)
	}{
		{"find", s.find},
		{"ls -l big/", s.lsBig},
		{"stat", s.stat},
		{"mv ren/", s.mv},
	}
	var rows []row
	for _, st := range steps {
		before, err := d.requests()
		if err != nil {
			return nil, heaps, err
		}
		r, err := st.run(d)
		if err != nil {
			return nil, heaps, fmt.Errorf("%s: %w", st.name, err)
		}
		after, err := d.requests()
		if err != nil {
			return nil, heaps, err
		}
		r.requests = map[string]float64{}
		for op, n := range after {
			if n -= before[op]; n > 0 {
				r.requests[op] = n
			}
		}
		r.hwm, r.rss = d.proc("VmHWM:"), d.proc("VmRSS:")
		if r.heap, err = d.heap(); err != nil {
			return nil, heaps, err
		}
		fmt.Printf("%s: %d entries in %s (raw %s: %s); first/last %d (%s): %.0f / %.0f per s; requests %s; VmHWM %d MiB, VmRSS %d MiB, live heap %.1f MiB at GC %d, %d inodes held\n",
			r.step, r.entries, r.took.Round(time.Millisecond), r.rawWhat, r.raw.Round(time.Millisecond), r.window, r.windowWhat, r.first, r.last,
			requestText(r.requests), r.hwm>>20, r.rss>>20, r.heap.live, r.heap.cycles, r.heap.held)
		if r.note != "" {
			fmt.Printf("%s: %s\n", r.step, r.note)
		}
		rows = append(rows, r)
	}
	if err := dropCaches(2); err != nil {
		return nil, heaps, err
	}
	time.Sleep(3 * time.Second) // the kernel's FORGETs reach the daemon
	fmt.Println("after drop_caches 2: waiting for the daemon's next garbage collection")
	h, waited, err := d.heapAfterGC()
	if err != nil {
		return nil, heaps, err
	}
	heaps[1] = h
	fmt.Printf("after drop_caches 2: live heap %.1f MiB (GC %d, %s later), VmRSS %d MiB\n", h.live, h.cycles, waited.Round(time.Second), d.proc("VmRSS:")>>20)
	return rows, heaps, nil
}

func requestText(req map[string]float64) string {
	var ops []string
	total := 0.0
	for op, n := range req {
		ops = append(ops, fmt.Sprintf("%s %.0f", op, n))
		total += n
	}
	sort.Strings(ops)
	if len(ops) == 0 {
		return "0"
	}
	return fmt.Sprintf("%.0f (%s)", total, strings.Join(ops, ", "))
}

// find lists everything through the mount; raw: a listing of every key.
// Its rate windows are both within tree/ (directories of 100 files, each
// listed with a HEAD of its marker): find walks big/ (one flat directory)
// first, and a window over big/ against one over tree/ compares layouts,
// not the first entries with the last. big/'s rate is a note.
func (s *scale) find(d *daemon) (row, error) {
	treeEntries := s.l.tree + s.l.dirs() - 3 // tree/'s files and directories below it
	r := row{step: "find over everything", rawWhat: "ListObjectsV2 of the bucket, metadata=true, no delimiter",
		window: windowOf(treeEntries), windowWhat: "entries under tree/, directories of 100 files"}
	want := s.l.total() + s.l.dirs() + 1
	m := s.newMarks(d, want)
	tree := s.newMarks(d, treeEntries)
	bigStart, bigEnd := time.Time{}, time.Time{}
	bigDir, treeDir := filepath.Join(d.dir, "big"), filepath.Join(d.dir, "tree")
	// find writes to a pipe in 4 KiB blocks: a line's time would be its
	// block's, and a directory's name would come with its entries, after
	// they are read. Line by line, each entry's time is its own.
	cmd := exec.Command("find", d.dir)
	if stdbuf, err := exec.LookPath("stdbuf"); err == nil {
		cmd = exec.Command(stdbuf, "-oL", "find", d.dir)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return r, err
	}
	if err := cmd.Start(); err != nil {
		return r, err
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		m.done()
		switch line := sc.Text(); {
		case line == bigDir:
			bigStart = time.Now()
		case strings.HasPrefix(line, bigDir+"/"):
			bigEnd = time.Now()
		case line == treeDir:
			tree.restart() // find prints a directory, then what is in it
		case strings.HasPrefix(line, treeDir+"/"):
			tree.done()
		}
	}
	if err := cmd.Wait(); err != nil {
		return r, fmt.Errorf("find: %w", err)
	}
	if !bigStart.IsZero() && bigEnd.After(bigStart) {
		r.note = fmt.Sprintf("big/ (%d files in one directory): %.0f per s", s.l.big, float64(s.l.big)/bigEnd.Sub(bigStart).Seconds())
	}
	r.note = joinNotes(r.note, tree.cpuNote(r.window))
	r.took, r.entries = time.Since(m.start), int(m.n.Load())
	if r.entries != want {
		return r, fmt.Errorf("find printed %d entries, want %d", r.entries, want)
	}
	if n := int(tree.n.Load()); n != treeEntries {
		return r, fmt.Errorf("find printed %d entries under tree/, want %d", n, treeEntries)
	}
	r.first, r.last = tree.rates(r.window)
	n, raw, err := s.rawList(context.Background(), "", "")
	if err != nil {
		return r, err
	}
	if n != s.l.total() {
		return r, fmt.Errorf("raw listing found %d keys, want %d", n, s.l.total())
	}
	r.raw = raw
	return r, nil
}

// lsBig is ls -l of big/; raw: its listing with metadata, as s3mount asks.
func (s *scale) lsBig(d *daemon) (row, error) {
	r := row{step: fmt.Sprintf("ls -l of big/ (%d keys)", s.l.big), rawWhat: "ListObjectsV2 of big/, metadata=true"}
	start := time.Now()
	out, err := exec.Command("ls", "-l", filepath.Join(d.dir, "big")).Output()
	r.took = time.Since(start)
	if err != nil {
		return r, fmt.Errorf("ls -l: %w", err)
	}
	if r.entries = strings.Count(string(out), "\n") - 1; r.entries != s.l.big {
		return r, fmt.Errorf("ls -l listed %d entries, want %d", r.entries, s.l.big)
	}
	n, raw, err := s.rawList(context.Background(), "big/", "/")
	if err != nil {
		return r, err
	}
	if n != s.l.big {
		return r, fmt.Errorf("raw listing of big/ found %d keys", n)
	}
	r.raw = raw
	return r, nil
}

// stat stats every file by its path, c.workers at once. Right after find
// the kernel still holds every entry (for --metadata-ttl) and would answer
// alone: it is made to forget them first, so that each stat is a lookup in
// the daemon.
func (s *scale) stat(d *daemon) (row, error) {
	r := row{step: fmt.Sprintf("stat of %d distinct files in a shuffled order, %d at once, after drop_caches 2", s.l.total(), s.c.workers),
		rawWhat: "ListObjectsV2 of the bucket, metadata=true (the same listing)", window: s.window(),
		windowWhat: "stats in a shuffled order: both the same mix of big/, ren/ and tree/"}
	if err := dropCaches(2); err != nil {
		return r, err
	}
	time.Sleep(3 * time.Second) // the kernel's FORGETs reach the daemon
	// In a shuffled order, so that the first and the last window are the
	// same mix of big/, ren/ and tree/: a fall between them is the
	// daemon's, not the layout's.
	order := rand.New(rand.NewSource(1)).Perm(s.l.total())
	m := s.newMarks(d, s.l.total())
	err := eachAtOnce(len(order), s.c.workers, func(i int) error {
		if _, err := os.Lstat(filepath.Join(d.dir, s.l.key(order[i]))); err != nil {
			return err
		}
		m.done()
		return nil
	})
	if err != nil {
		return r, err
	}
	r.took, r.entries = time.Since(m.start), int(m.n.Load())
	r.first, r.last = m.rates(r.window)
	_, raw, err := s.rawList(context.Background(), "", "")
	r.raw = raw
	if err != nil || r.window == 0 {
		return r, err
	}
	// The server's share of a fall: the requests a forgotten name costs
	// the daemon (a HEAD and a one-key listing of "name/"), sent raw for
	// the names of the first and of the last window, in the same order.
	first, err := s.rawLookups(order[:r.window])
	if err != nil {
		return r, err
	}
	last, err := s.rawLookups(order[len(order)-r.window:])
	r.note = fmt.Sprintf("raw HEAD and one-key listing of the same names afterwards, %d at once: %.0f / %.0f per s for the first / last window's names",
		s.c.workers, first, last)
	r.note = joinNotes(r.note, m.cpuNote(r.window))
	return r, err
}

// rawLookups sends, c.workers at once, what a lookup of each forgotten
// name of order costs the daemon, and returns the names per second.
func (s *scale) rawLookups(order []int) (float64, error) {
	ctx := context.Background()
	start := time.Now()
	err := eachAtOnce(len(order), s.c.workers, func(i int) error {
		key := s.l.key(order[i])
		_, err := s.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err == nil {
			_, err = s.client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket),
				Prefix: aws.String(key + "/"), Delimiter: aws.String("/"), MaxKeys: aws.Int32(1)}, benchkit.ListMetadata)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return float64(len(order)) / time.Since(start).Seconds(), nil
}

// eachAtOnce runs do(0) ... do(n-1), workers at once, and stops at the
// first error, which it returns.
func eachAtOnce(n, workers int, do func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := do(i); err != nil {
					errs <- err
					next.Store(int64(n))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// mv renames ren/ through the mount; raw: the same copies and deletes,
// 16 at once, of what the listing of the renamed directory finds.
func (s *scale) mv(d *daemon) (row, error) {
	r := row{step: fmt.Sprintf("mv of ren/ (%d keys)", s.l.ren), rawWhat: "list, CopyObject and DeleteObject of each key, 16 at once", entries: s.l.ren}
	start := time.Now()
	if out, err := exec.Command("mv", filepath.Join(d.dir, "ren"), filepath.Join(d.dir, "ren-moved")).CombinedOutput(); err != nil {
		return r, fmt.Errorf("mv: %v: %s", err, out)
	}
	r.took = time.Since(start)
	raw, err := s.rawRename(context.Background(), "ren-moved/", "ren-raw/")
	r.raw = raw
	return r, err
}

// rawList pages through a listing with metadata=true and counts its keys.
func (s *scale) rawList(ctx context.Context, prefix, delimiter string) (int, time.Duration, error) {
	start := time.Now()
	in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)}
	if delimiter != "" {
		in.Delimiter = aws.String(delimiter)
	}
	p := s3.NewListObjectsV2Paginator(s.client, in)
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx, benchkit.ListMetadata)
		if err != nil {
			return 0, 0, err
		}
		n += len(page.Contents)
	}
	return n, time.Since(start), nil
}

func (s *scale) rawRename(ctx context.Context, from, to string) (time.Duration, error) {
	start := time.Now()
	keys := make(chan string)
	var wg sync.WaitGroup
	var firstErr error
	var once sync.Once
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range keys {
				_, err := s.client.CopyObject(ctx, &s3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(to + strings.TrimPrefix(k, from)),
					CopySource: aws.String(bucket + "/" + k)})
				if err == nil {
					_, err = s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(k)})
				}
				if err != nil {
					once.Do(func() { firstErr = err })
				}
			}
		}()
	}
	p := s3.NewListObjectsV2Paginator(s.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(from)})
	n := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			once.Do(func() { firstErr = err })
			break
		}
		for _, o := range page.Contents {
			keys <- *o.Key
			n++
		}
	}
	close(keys)
	wg.Wait()
	if firstErr == nil && n != s.l.ren {
		firstErr = fmt.Errorf("raw rename found %d keys under %s, want %d (did mv move them?)", n, from, s.l.ren)
	}
	return time.Since(start), firstErr
}

func dropCaches(what int) error {
	return os.WriteFile("/proc/sys/vm/drop_caches", []byte(fmt.Sprint(what)), 0)
}
