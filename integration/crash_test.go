package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
)

// crashPoints is how many times the crash test kills the daemon:
// $S3MOUNT_CRASH_POINTS (make soak sets it), else a few.
func crashPoints(t *testing.T) int {
	if v := os.Getenv("S3MOUNT_CRASH_POINTS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("S3MOUNT_CRASH_POINTS=%q: want a positive number", v)
		}
		return n
	}
	return 5
}

// crashSeed is $S3MOUNT_CRASH_SEED, to repeat a run, else the clock.
func crashSeed(t *testing.T) int64 {
	if v := os.Getenv("S3MOUNT_CRASH_SEED"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("S3MOUNT_CRASH_SEED=%q: %v", v, err)
		}
		return n
	}
	return time.Now().UnixNano()
}

// The daemon is killed (kill -9) at random moments while cp copies a big
// file in, tar -x unpacks a small tree, dd conv=notrunc patches an
// existing object, sqlite3 runs transactions and a Go writer writes files
// (some of whose uploads the proxy fails), and the next mount starts on
// the same staging directory. Through the SDK, never the mount: every file
// whose close returned 0 is in S3 byte for byte, and so is every file whose
// close failed (the next mount uploaded it); no file whose close had not
// returned is published unless whole (what its close was uploading); the
// database passes its integrity check with every committed transaction;
// no incomplete multipart upload is left once the recovering mount runs.
func TestCrashKeepsClosedFilesAndPublishesNoHalfWrittenOne(t *testing.T) {
	runCrashTest(t)
}

// The same crash test with --async-upload: a close returns with the bytes
// staged (not fsynced), so every file whose close returned must reach S3
// through the next mount's recovery.
func TestCrashInAsyncModeLosesNothingWhoseCloseReturned(t *testing.T) {
	runCrashTest(t, "--async-upload")
}

func runCrashTest(t *testing.T, flags ...string) {
	s := newBucketSession(t)
	for _, tool := range []string{"cp", "tar", "dd", "sqlite3"} {
		if _, err := exec.LookPath(tool); err != nil {
			miniotest.SkipOrFail(t, tool+" is missing (make tools installs it)")
		}
	}
	p, err := faultproxy.Start(env.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	seed := crashSeed(t)
	t.Logf("seed %d (S3MOUNT_CRASH_SEED=%d repeats the kill moments)", seed, seed)
	rng := rand.New(rand.NewSource(seed))
	src := newCrashSources(t)
	logs := t.TempDir()
	mountNo := 0
	remount := func() {
		mountNo++
		s.mnt = s.mount(s.bucket, append([]string{"--endpoint-url", p.URL(), "--max-retries", "2",
			"--log-file", filepath.Join(logs, fmt.Sprintf("mount-%d.log", mountNo))}, flags...)...)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i := 1; i <= mountNo; i++ {
				b, _ := os.ReadFile(filepath.Join(logs, fmt.Sprintf("mount-%d.log", i)))
				t.Logf("log of mount %d (last 3000 bytes):\n%s", i, b[max(0, len(b)-3000):])
			}
			kept, _ := filepath.Glob(filepath.Join(s.staging, "kept", "*.json"))
			for _, k := range kept {
				b, _ := os.ReadFile(k)
				t.Logf("kept manifest %s:\n%s", k, b)
			}
		}
	})
	remount()
	points := crashPoints(t)
	start := time.Now()
	var recoveries time.Duration
	for i := range points {
		r := startCrashRound(t, s, p, src, fmt.Sprintf("r%02d/", i), rng)
		// One kill in three comes early, where dd's commit and the first
		// parts of cp and the Go writer are.
		after := time.Duration(20+rng.Intn(1500)) * time.Millisecond
		if rng.Intn(3) == 0 {
			after = time.Duration(20+rng.Intn(200)) * time.Millisecond
		}
		time.Sleep(after)
		killDaemons(t, s.mnt)
		r.wait(t)
		lazyUnmount(t, s.mnt)
		r.removeFault()
		began := time.Now()
		remount() // recovery runs before the mount reports ready
		took := time.Since(began)
		recoveries += took
		r.check(t, s)
		if ups := s.multipartUploads(); len(ups) != 0 {
			t.Fatalf("kill point %d: incomplete multipart uploads after the recovering mount started: %v", i, ups)
		}
		t.Logf("kill point %d after %v: %s; remount with recovery %v", i, after, r.summary(), took.Round(time.Millisecond))
	}
	t.Logf("%d kill points in %v; remounts with recovery %v on average", points,
		time.Since(start).Round(time.Millisecond), (recoveries / time.Duration(points)).Round(time.Millisecond))
}

// crashSources are the local files the tools copy in.
type crashSources struct {
	dir   string
	big   []byte            // cp's file
	tree  map[string][]byte // tar's files, by path in the archive
	patch []byte            // dd's bytes
}

func newCrashSources(t *testing.T) *crashSources {
	t.Helper()
	c := &crashSources{dir: t.TempDir(), big: randomBytes(90, 64<<20), tree: map[string][]byte{},
		patch: randomBytes(91, 2<<20)}
	write := func(name string, b []byte) {
		path := filepath.Join(c.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("big.bin", c.big)
	write("patch.bin", c.patch)
	r := rand.New(rand.NewSource(92))
	for d := range 3 {
		for f := range 12 {
			name := fmt.Sprintf("tree/d%d/f%02d", d, f)
			c.tree[name] = randomBytes(int64(100*d+f), r.Intn(64<<10))
			write(name, c.tree[name])
		}
	}
	c.tree["tree/large"] = randomBytes(93, 3<<20)
	write("tree/large", c.tree["tree/large"])
	run(t, "tar", "-c", "-f", filepath.Join(c.dir, "tree.tar"), "-C", c.dir, "tree")
	return c
}

// goFile is a file of the Go writer and how far its writing got.
type goFile struct {
	data  []byte
	state string // as the writer said: writing, closing, closed, failed (EIO), cut
}

// crashRound is the work of one kill point, under its own prefix.
type crashRound struct {
	prefix string
	src    *crashSources
	wg     sync.WaitGroup

	mu                   sync.Mutex
	cpErr, tarErr, ddErr error
	ddOld, ddNew         []byte
	sqlStarted, sqlDone  int // transactions begun, and ended with exit 0
	files                map[string]*goFile
	writerErr            error
	removeFault          func()
}

func startCrashRound(t *testing.T, s *session, p *faultproxy.Proxy, src *crashSources, prefix string, rng *rand.Rand) *crashRound {
	t.Helper()
	r := &crashRound{prefix: prefix, src: src, files: map[string]*goFile{}}
	// Put before the mount looks at the prefix: it may trust what it
	// saw for the metadata TTL.
	r.ddOld = randomBytes(rng.Int63(), 12<<20)
	s.put(prefix+"dd.bin", r.ddOld)
	r.ddNew = bytes.Clone(r.ddOld)
	copy(r.ddNew[5<<20:], src.patch)
	for _, d := range []string{"go", "sql"} {
		if err := os.Mkdir(s.path(prefix+d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Uploads of the Go writer's fail-* files fail: their closes give EIO
	// and the data must reach S3 through the next mount.
	r.removeFault = p.Add(faultproxy.Rule{
		Match: func(req *http.Request) bool {
			return strings.Contains(req.URL.Path, "/"+prefix+"go/fail-") &&
				(faultproxy.IsPutObject(req) || faultproxy.IsUploadPart(req))
		},
		Action: faultproxy.Status(500, "InternalError"),
	})
	mnt := s.mnt
	tool := func(dst *error, name string, args ...string) {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			out, err := exec.Command(name, args...).CombinedOutput()
			if err != nil {
				err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(out))
			}
			r.mu.Lock()
			*dst = err
			r.mu.Unlock()
		}()
	}
	tool(&r.cpErr, "cp", filepath.Join(src.dir, "big.bin"), filepath.Join(mnt, prefix+"big.bin"))
	tool(&r.tarErr, "tar", "-x", "-f", filepath.Join(src.dir, "tree.tar"), "-C", filepath.Join(mnt, prefix))
	tool(&r.ddErr, "dd", "if="+filepath.Join(src.dir, "patch.bin"), "of="+filepath.Join(mnt, prefix+"dd.bin"),
		"bs=1M", "seek=5", "conv=notrunc", "status=none")
	r.wg.Add(1)
	go r.sqlite(filepath.Join(mnt, prefix+"sql", "db"))
	r.goWriter(t, mnt, rng.Int63())
	return r
}

// sqlite runs one transaction per sqlite3 process until one fails (the
// mount is gone): an exit status of 0 means committed.
func (r *crashRound) sqlite(db string) {
	defer r.wg.Done()
	for n := 1; n <= 500; n++ {
		r.mu.Lock()
		r.sqlStarted = n
		r.mu.Unlock()
		sql := fmt.Sprintf("create table if not exists t (id integer primary key, v text); "+
			"begin; insert into t (v) values ('tx %d'); insert into t (v) values ('tx %d, second row'); commit;", n, n)
		if err := exec.Command("sqlite3", db, sql).Run(); err != nil {
			return
		}
		r.mu.Lock()
		r.sqlDone = n
		r.mu.Unlock()
	}
}

// goWriter runs the writer process and notes what it reports of each
// file until it exits (the mount is gone).
func (r *crashRound) goWriter(t *testing.T, mnt string, seed int64) {
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s,%s,%d", crashWriterEnv, mnt, r.prefix, seed))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var event, name string
			var seed int64
			var size int
			if _, err := fmt.Sscan(sc.Text(), &event, &name, &seed, &size); err != nil {
				r.mu.Lock()
				r.writerErr = fmt.Errorf("writer said %q: %w", sc.Text(), err)
				r.mu.Unlock()
				continue
			}
			r.mu.Lock()
			f := r.files[name]
			if f == nil {
				f = &goFile{data: randomBytes(seed, size)}
				r.files[name] = f
			}
			f.state = event
			r.mu.Unlock()
		}
		if err := cmd.Wait(); err != nil {
			r.mu.Lock()
			r.writerErr = fmt.Errorf("writer: %w: %s", err, stderr.Bytes())
			r.mu.Unlock()
		}
	}()
}

// crashWriterEnv, set to MOUNTPOINT,PREFIX,SEED, makes the test binary
// the crash test's writer. It runs apart from the test process, which
// forks the tools: a fork's exec closes the inherited descriptors, and
// each close is a flush that would upload a file in mid-write.
const crashWriterEnv = "S3MOUNT_CRASH_WRITER"

func crashWriterWanted() bool { return os.Getenv(crashWriterEnv) != "" }

// crashWriter writes files under MOUNTPOINT/PREFIX/go, printing for each
// "writing", "closing", then "closed", "failed" (close gave EIO) or "cut"
// (any other error: the mount is gone), with the file's name, the seed of
// its bytes and its size, until the mount is gone. Every third file's
// upload is failed by the test's proxy.
func crashWriter() int {
	var mnt, prefix string
	var seed int64
	parts := strings.Split(os.Getenv(crashWriterEnv), ",")
	if len(parts) != 3 {
		fmt.Fprintln(os.Stderr, "crash writer: want MOUNTPOINT,PREFIX,SEED")
		return 2
	}
	mnt, prefix = parts[0], parts[1]
	seed, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		fmt.Fprintln(os.Stderr, "crash writer:", err)
		return 2
	}
	rng := rand.New(rand.NewSource(seed))
	sizes := []int{0, 3 << 10, 300 << 10, 6 << 20, 13 << 20}
	for n := 0; n < 200; n++ {
		name := fmt.Sprintf("%sgo/f%03d", prefix, n)
		if n%3 == 2 {
			name = fmt.Sprintf("%sgo/fail-%03d", prefix, n)
		}
		fseed, size := rng.Int63(), sizes[rng.Intn(len(sizes))]
		say := func(event string) { fmt.Printf("%s %s %d %d\n", event, name, fseed, size) }
		data := randomBytes(fseed, size)
		say("writing")
		fh, err := os.Create(filepath.Join(mnt, name))
		if err != nil {
			return 0
		}
		for off := 0; off < len(data) && err == nil; off += 128 << 10 {
			_, err = fh.Write(data[off:min(off+128<<10, len(data))])
		}
		if err != nil {
			fh.Close()
			return 0
		}
		say("closing")
		switch err := fh.Close(); {
		case err == nil:
			say("closed")
		case errors.Is(err, syscall.EIO):
			say("failed")
		default:
			say("cut")
			return 0
		}
	}
	return 0
}

// wait waits for the round's programs, which fail once the daemon is dead.
func (r *crashRound) wait(t *testing.T) {
	t.Helper()
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("programs still running 60 s after the daemon was killed")
	}
}

// check compares S3, read through the SDK, with what the programs were
// told before the kill.
func (r *crashRound) check(t *testing.T, s *session) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	p := r.prefix
	// cp: whole once it exited 0; otherwise absent or whole (the kill
	// came while its close was completing the upload).
	got, ok := tryGet(t, s, p+"big.bin")
	switch {
	case r.cpErr == nil && (!ok || !bytes.Equal(got, r.src.big)):
		t.Fatalf("%sbig.bin: cp exited 0 but S3 has %d bytes (present %v), want the %d copied", p, len(got), ok, len(r.src.big))
	case ok && !bytes.Equal(got, r.src.big):
		t.Fatalf("%sbig.bin: cp never finished (%v) and S3 has %d bytes of the %d: a half-written file was published",
			p, r.cpErr, len(got), len(r.src.big))
	}
	// tar: every file in S3 is whole; all of them once tar exited 0.
	inS3 := map[string]bool{}
	for _, key := range s.list(p + "tree/") {
		if strings.HasSuffix(key, "/") {
			continue // a directory marker
		}
		name := strings.TrimPrefix(key, p)
		want, known := r.src.tree[name]
		got, _ := tryGet(t, s, key)
		if !known || !bytes.Equal(got, want) {
			t.Fatalf("%s: %d bytes in S3, want the %d bytes of the archive's %s (tar: %v): a half-written file was published",
				key, len(got), len(want), name, r.tarErr)
		}
		inS3[name] = true
	}
	if r.tarErr == nil && len(inS3) != len(r.src.tree) {
		t.Fatalf("%stree: tar exited 0 but S3 has %d of its %d files", p, len(inS3), len(r.src.tree))
	}
	// dd conv=notrunc: the old object or the patched one, the patched
	// one once dd exited 0.
	got, _ = tryGet(t, s, p+"dd.bin")
	switch {
	case bytes.Equal(got, r.ddNew):
	case r.ddErr == nil:
		t.Fatalf("%sdd.bin: dd exited 0 but S3 does not have the patched object (%d bytes; the old one: %v)",
			p, len(got), bytes.Equal(got, r.ddOld))
	case !bytes.Equal(got, r.ddOld):
		t.Fatalf("%sdd.bin: neither the old object nor the patched one (%d bytes; dd: %v)", p, len(got), r.ddErr)
	}
	r.checkSqlite(t, s)
	// The Go writer: a close that returned 0 or EIO (the data kept, for
	// the next mount) means whole in S3; a close that never returned
	// means absent, or whole if the kill came as it completed; a file
	// never closed is absent.
	if r.writerErr != nil {
		t.Fatal(r.writerErr)
	}
	for key, f := range r.files {
		got, ok := tryGet(t, s, key)
		whole := ok && bytes.Equal(got, f.data)
		switch {
		case f.state == "closed" && !whole:
			t.Fatalf("%s: close returned 0 but S3 has %d bytes (present %v), want %d", key, len(got), ok, len(f.data))
		case f.state == "failed" && !whole:
			t.Fatalf("%s: close failed with EIO and the next mount did not upload the kept data: S3 has %d bytes (present %v), want %d",
				key, len(got), ok, len(f.data))
		case f.state == "writing" && ok:
			t.Fatalf("%s: published (%d bytes of %d) although its program never closed it", key, len(got), len(f.data))
		case ok && !whole:
			t.Fatalf("%s: close never returned (%s) and S3 has %d bytes of the %d: a half-written file was published",
				key, f.state, len(got), len(f.data))
		}
	}
}

// checkSqlite opens the database as S3 has it (with its hot journal, if
// one is there) in a local directory: intact, with every transaction
// whose sqlite3 exited 0 and none that was never begun.
func (r *crashRound) checkSqlite(t *testing.T, s *session) {
	t.Helper()
	dir := t.TempDir()
	db, ok := tryGet(t, s, r.prefix+"sql/db")
	if !ok {
		if r.sqlDone > 0 {
			t.Fatalf("%ssql/db: absent after %d committed transactions", r.prefix, r.sqlDone)
		}
		return
	}
	if err := os.WriteFile(filepath.Join(dir, "db"), db, 0o644); err != nil {
		t.Fatal(err)
	}
	if journal, ok := tryGet(t, s, r.prefix+"sql/db-journal"); ok {
		if err := os.WriteFile(filepath.Join(dir, "db-journal"), journal, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	local := filepath.Join(dir, "db")
	if out := strings.TrimSpace(run(t, "sqlite3", local, "pragma integrity_check;")); out != "ok" {
		t.Fatalf("%ssql/db: integrity check: %s", r.prefix, out)
	}
	// The first transaction's process creates the table: a kill before it
	// committed can leave a database without one.
	query := "select count(*) from sqlite_master where name = 't';"
	if strings.TrimSpace(run(t, "sqlite3", local, query)) == "1" {
		query = "select count(*) from t;"
	}
	rows := strings.TrimSpace(run(t, "sqlite3", local, query))
	n, err := strconv.Atoi(rows)
	if err != nil {
		t.Fatalf("%ssql/db: count: %q", r.prefix, rows)
	}
	if query != "select count(*) from t;" {
		n = 0
	}
	if n%2 != 0 || n/2 < r.sqlDone || n/2 > r.sqlStarted {
		t.Fatalf("%ssql/db: %d rows, want two per transaction, for between %d (committed) and %d (begun) transactions",
			r.prefix, n, r.sqlDone, r.sqlStarted)
	}
}

// summary says what each program got done before the kill.
func (r *crashRound) summary() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	states := map[string]int{}
	for _, f := range r.files {
		states[f.state]++
	}
	status := func(err error) string {
		if err == nil {
			return "done"
		}
		return "killed"
	}
	return fmt.Sprintf("cp %s, tar %s, dd %s, sqlite %d of %d transactions committed, Go writer: %d closed, %d close failed, %d close cut, %d closing, %d writing",
		status(r.cpErr), status(r.tarErr), status(r.ddErr), r.sqlDone, r.sqlStarted,
		states["closed"], states["failed"], states["cut"], states["closing"], states["writing"])
}

// tryGet reads an object through the SDK; ok is false when it is absent.
func tryGet(t *testing.T, s *session, key string) (data []byte, ok bool) {
	t.Helper()
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	var missing *types.NoSuchKey
	if errors.As(err, &missing) {
		return nil, false
	}
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("get %q: %v", key, err)
	}
	return b, true
}

// killDaemons kills the daemon of mnt as a crash would (SIGKILL: no
// unmount, no cleanup) and waits until it is gone.
func killDaemons(t *testing.T, mnt string) {
	t.Helper()
	pids := daemonsOf(mnt)
	if len(pids) == 0 {
		t.Fatalf("no daemon serves %s", mnt)
	}
	for _, pid := range pids {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatalf("kill -9 %d: %v", pid, err)
		}
	}
	waitExited(t, pids)
}

// lazyUnmount detaches the dead mount (fusermount3 -uz), as a person
// would after a crash; files still open on it keep failing with ENOTCONN.
func lazyUnmount(t *testing.T, mnt string) {
	t.Helper()
	if out, err := exec.Command("fusermount3", "-u", "-z", mnt).CombinedOutput(); err != nil {
		t.Logf("fusermount3 -uz %s: %v: %s; detaching it directly", mnt, err, out)
		if err := syscall.Unmount(mnt, syscall.MNT_DETACH); err != nil {
			t.Fatalf("unmount %s: %v", mnt, err)
		}
	}
}
