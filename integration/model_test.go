package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/s3mount/s3mount/internal/faultproxy"
)

// The model test is an fsx for S3: long random sequences of file
// operations run on the mount and on a local directory at once, and every
// result (bytes and errno) must agree; at the end the whole tree, read
// back through a fresh mount, must equal the local one. Seeded: a failure
// prints the seed and the step, and S3MOUNT_MODEL_SEED replays it.
//
// What the model leaves out is what SEMANTICS.md says differs from POSIX:
// read-only opens are made only of files open for writing (a read-only
// handle opened before a writer reads the version it opened). Directories
// are renamed with files open under them. The fault variant fails
// namespace requests outright and checks that a failed rename or unlink
// changed nothing.

// modelOps is the number of operations per seed (S3MOUNT_MODEL_OPS).
func modelOps() int {
	if n, err := strconv.Atoi(os.Getenv("S3MOUNT_MODEL_OPS")); err == nil && n > 0 {
		return n
	}
	return 400
}

// modelSeeds are the seeds to run: S3MOUNT_MODEL_SEED alone, or 1 to
// S3MOUNT_MODEL_SEEDS, or 1 and 2.
func modelSeeds() []int64 {
	if s, err := strconv.ParseInt(os.Getenv("S3MOUNT_MODEL_SEED"), 10, 64); err == nil {
		return []int64{s}
	}
	n, err := strconv.Atoi(os.Getenv("S3MOUNT_MODEL_SEEDS"))
	if err != nil || n < 1 {
		n = 2
	}
	var seeds []int64
	for s := int64(1); s <= int64(n); s++ {
		seeds = append(seeds, s)
	}
	return seeds
}

func TestRandomOperationsMatchALocalDirectory(t *testing.T) {
	for _, seed := range modelSeeds() {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			runModel(t, newSession(t, nil, "--part-size", "5MiB"), seed, modelOps(), false, "--part-size", "5MiB")
		})
	}
}

// TestRandomOperationsInAsyncMode runs the model with --async-upload:
// every result must equal the local directory's as without it, and the
// tree after the (draining) remount too.
func TestRandomOperationsInAsyncMode(t *testing.T) {
	flags := []string{"--part-size", "5MiB", "--async-upload"}
	runModel(t, newSession(t, nil, flags...), 4, modelOps(), false, flags...)
}

// TestRandomOperationsUnderTransientFaults runs the model through a proxy
// that answers every 3rd write request (PutObject, UploadPart, copies,
// completions) with 503 SlowDown and resets every 4th GET mid-body. The
// promise under such faults, which retries absorb, is the same as without:
// every result equals the local directory's.
func TestRandomOperationsUnderTransientFaults(t *testing.T) {
	s := newBucketSession(t)
	p, err := faultproxy.Start(env.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var writes, gets atomic.Int64
	p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
		return (faultproxy.IsPutObject(r) || faultproxy.IsUploadPart(r) || faultproxy.IsCopy(r) ||
			faultproxy.IsCompleteMultipart(r)) && writes.Add(1)%3 == 0
	}, Action: faultproxy.Status(503, "SlowDown")})
	p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
		return faultproxy.IsGet(r) && gets.Add(1)%4 == 0
	}, Action: faultproxy.CutResponseBody(1000)})
	flags := []string{"--part-size", "5MiB", "--endpoint-url", p.URL()}
	s.mnt = s.mount(s.bucket, flags...)
	runModel(t, s, 1, min(modelOps(), 300), false, flags...)
	faults := 0
	for _, r := range p.Requests() {
		if r.Fault != "" {
			faults++
		}
	}
	if faults < 5 {
		t.Fatalf("only %d faults were injected: the test proves little", faults)
	}
	t.Logf("%d faults injected", faults)
}

// TestRandomOperationsWhenTheServerFailsNamespaceCalls runs the model
// against a server that fails every 2nd DELETE and CopyObject outright
// (500, one attempt): each rename, unlink and rmdir it fails must give EIO
// and change nothing, whatever is open.
func TestRandomOperationsWhenTheServerFailsNamespaceCalls(t *testing.T) {
	s := newBucketSession(t)
	p, err := faultproxy.Start(env.srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	var count atomic.Int64
	var afterCopy atomic.Bool // a rename's DELETE follows its copy: failing it cannot be undone
	p.Add(faultproxy.Rule{Match: func(r *http.Request) bool {
		switch {
		case faultproxy.IsCopy(r) && !strings.Contains(r.URL.RawQuery, "partNumber") && !faultproxy.IsCopyOntoItself(r):
			// A rename's copy; a copy onto itself is a metadata change
			// (chmod, or the close of a file whose bytes did not change).
			fail := count.Add(1)%2 == 0
			afterCopy.Store(!fail)
			return fail
		case r.Method == http.MethodDelete && !strings.Contains(r.URL.RawQuery, "uploadId"):
			fail := !afterCopy.Load() && count.Add(1)%2 == 0
			afterCopy.Store(false)
			return fail
		}
		return false
	}, Action: faultproxy.Status(500, "InternalError")})
	flags := []string{"--part-size", "5MiB", "--endpoint-url", p.URL(), "--max-retries", "1"}
	s.mnt = s.mount(s.bucket, flags...)
	seed := int64(3)
	if seeds := modelSeeds(); os.Getenv("S3MOUNT_MODEL_SEED") != "" {
		seed = seeds[0]
	}
	m := runModel(t, s, seed, 4*modelOps(), true, flags...)
	if m.nsFailed < 3 {
		t.Fatalf("the server failed only %d namespace calls: the test proves little", m.nsFailed)
	}
	t.Logf("%d namespace calls failed by the server", m.nsFailed)
}

func runModel(t *testing.T, s *session, seed int64, ops int, nsFaults bool, remountFlags ...string) *model {
	m := &model{t: t, s: s, local: t.TempDir(), rng: rand.New(rand.NewSource(seed)), seed: seed,
		fds: map[int]*modelFD{}, remountFlags: remountFlags, nsFaults: nsFaults}
	t.Cleanup(func() { // before the unmount, registered earlier
		for _, fd := range m.fds {
			fd.mount.Close()
			fd.want.Close()
		}
	})
	for step := 0; step < ops; step++ {
		m.step = step
		m.randomOp()
	}
	m.closeAll()
	m.compareTree()
	return m
}

type modelFD struct {
	name        string // path relative to the roots
	mount, want *os.File
	readOnly    bool
}

type model struct {
	t     *testing.T
	s     *session
	local string
	rng   *rand.Rand
	seed  int64
	step  int
	fds   map[int]*modelFD
	next  int
	log   []string // the last operations, for failure reports

	remountFlags []string
	// nsFaults: the server fails some DELETEs and copies; a rename or
	// unlink the mount fails with EIO is not done locally, and directories
	// are not renamed (a failed undo would leave keys behind).
	nsFaults bool
	nsFailed int // namespace calls the server failed
}

var modelDirs = []string{"", "d0", "d1", "d0/e"}

func (m *model) pick(list []string) string { return list[m.rng.Intn(len(list))] }

func (m *model) randomName() string {
	dir := m.pick(modelDirs)
	return filepath.Join(dir, "f"+strconv.Itoa(m.rng.Intn(4)))
}

func (m *model) note(format string, args ...any) {
	m.log = append(m.log, fmt.Sprintf("%d: ", m.step)+fmt.Sprintf(format, args...))
	if len(m.log) > 50 {
		m.log = m.log[1:]
	}
}

func (m *model) fail(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("seed %d step %d: %s\nreplay: S3MOUNT_MODEL_SEED=%d S3MOUNT_MODEL_OPS=%d\nlast operations:\n%s",
		m.seed, m.step, fmt.Sprintf(format, args...), m.seed, m.step+1, strings.Join(m.log, "\n"))
}

// errnoOf reduces an error to its errno (0 for nil).
func errnoOf(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.Errno(1 << 20) // not an errno: never equal to a real one
}

func (m *model) same(op string, got, want error) {
	m.t.Helper()
	if errnoOf(got) != errnoOf(want) {
		m.fail("%s: mount gives %v, local gives %v", op, got, want)
	}
}

func (m *model) randomFD() (int, *modelFD) {
	if len(m.fds) == 0 {
		return -1, nil
	}
	ids := make([]int, 0, len(m.fds))
	for id := range m.fds {
		ids = append(ids, id)
	}
	sort.Ints(ids)
	id := ids[m.rng.Intn(len(ids))]
	return id, m.fds[id]
}

func (m *model) randomOp() {
	switch r := m.rng.Intn(100); {
	case r < 15:
		m.open()
	case r < 40:
		m.write()
	case r < 55:
		m.read()
	case r < 60:
		m.truncate()
	case r < 64:
		m.fsync()
	case r < 78:
		m.closeOne()
	case r < 83:
		m.rename()
	case r < 88:
		m.unlink()
	case r < 91:
		m.mkdir()
	case r < 93:
		m.rmdir()
	default:
		m.readdir()
	}
}

func (m *model) open() {
	if len(m.fds) >= 6 {
		return
	}
	if m.rng.Intn(4) == 0 && m.openReader() {
		return
	}
	name := m.randomName()
	flags := os.O_RDWR
	if m.rng.Intn(2) == 0 {
		flags |= os.O_CREATE
	}
	if m.rng.Intn(6) == 0 {
		flags |= os.O_TRUNC
	}
	if m.rng.Intn(6) == 0 {
		flags |= os.O_APPEND
	}
	m.note("open %s %#o", name, flags)
	mf, merr := os.OpenFile(filepath.Join(m.s.mnt, name), flags, 0o644)
	lf, lerr := os.OpenFile(filepath.Join(m.local, name), flags, 0o644)
	m.same("open "+name, merr, lerr)
	if merr == nil {
		m.next++
		m.fds[m.next] = &modelFD{name: name, mount: mf, want: lf}
	}
}

// openReader opens, read-only, a file that is open for writing (cat or a
// backup agent during a write), when there is one.
func (m *model) openReader() bool {
	var writers []string
	for _, fd := range m.fds {
		if !fd.readOnly {
			writers = append(writers, fd.name)
		}
	}
	if len(writers) == 0 {
		return false
	}
	sort.Strings(writers)
	name := m.pick(writers)
	m.note("open %s O_RDONLY", name)
	mf, merr := os.Open(filepath.Join(m.s.mnt, name))
	lf, lerr := os.Open(filepath.Join(m.local, name))
	m.same("open "+name+" O_RDONLY", merr, lerr)
	if merr == nil {
		m.next++
		m.fds[m.next] = &modelFD{name: name, mount: mf, want: lf, readOnly: true}
	}
	return true
}

func (m *model) write() {
	_, fd := m.randomFD()
	if fd == nil {
		return
	}
	n := 1 + m.rng.Intn(64<<10)
	if m.rng.Intn(10) == 0 {
		n = 1 + m.rng.Intn(3<<20) // now and then past a part boundary
	}
	data := make([]byte, n)
	m.rng.Read(data)
	if m.rng.Intn(3) == 0 {
		m.note("write %s %d", fd.name, n)
		_, merr := fd.mount.Write(data)
		_, lerr := fd.want.Write(data)
		m.same("write "+fd.name, merr, lerr)
		return
	}
	off := m.rng.Int63n(7 << 20)
	m.note("pwrite %s %d at %d", fd.name, n, off)
	_, merr := fd.mount.WriteAt(data, off)
	_, lerr := fd.want.WriteAt(data, off)
	m.same("pwrite "+fd.name, merr, lerr)
}

func (m *model) read() {
	_, fd := m.randomFD()
	if fd == nil {
		return
	}
	n := m.rng.Intn(1 << 20)
	off := m.rng.Int63n(8 << 20)
	m.note("pread %s %d at %d", fd.name, n, off)
	got, want := make([]byte, n), make([]byte, n)
	gn, merr := fd.mount.ReadAt(got, off)
	wn, lerr := fd.want.ReadAt(want, off)
	if errors.Is(merr, io.EOF) {
		merr = nil
	}
	if errors.Is(lerr, io.EOF) {
		lerr = nil
	}
	m.same("pread "+fd.name, merr, lerr)
	if gn != wn || !bytes.Equal(got[:gn], want[:wn]) {
		m.fail("pread %s %d at %d: mount gives %d bytes, local %d, or different bytes", fd.name, n, off, gn, wn)
	}
}

func (m *model) truncate() {
	size := m.rng.Int63n(6 << 20)
	if _, fd := m.randomFD(); fd != nil && m.rng.Intn(2) == 0 {
		m.note("ftruncate %s %d", fd.name, size)
		m.same("ftruncate "+fd.name, fd.mount.Truncate(size), fd.want.Truncate(size))
		return
	}
	name := m.randomName()
	m.note("truncate %s %d", name, size)
	m.same("truncate "+name, os.Truncate(filepath.Join(m.s.mnt, name), size), os.Truncate(filepath.Join(m.local, name), size))
}

func (m *model) fsync() {
	if _, fd := m.randomFD(); fd != nil {
		m.note("fsync %s", fd.name)
		m.same("fsync "+fd.name, fd.mount.Sync(), fd.want.Sync())
	}
}

func (m *model) closeOne() {
	id, fd := m.randomFD()
	if fd == nil {
		return
	}
	m.note("close %s", fd.name)
	m.same("close "+fd.name, fd.mount.Close(), fd.want.Close())
	delete(m.fds, id)
}

func (m *model) closeAll() {
	for len(m.fds) > 0 {
		m.closeOne()
	}
}

// openUnder reports whether a file under dir (or dir itself) is open.
func (m *model) openUnder(dir string) bool {
	for _, fd := range m.fds {
		if fd.name == dir || strings.HasPrefix(fd.name, dir+"/") {
			return true
		}
	}
	return false
}

func (m *model) rename() {
	from, to := m.randomName(), m.randomName()
	if m.rng.Intn(4) == 0 {
		from, to = m.pick(modelDirs[1:]), m.pick([]string{"d2", "d0/g", "d1/h"})
		if m.nsFaults || strings.HasPrefix(to, from+"/") {
			return
		}
	}
	m.note("rename %s %s", from, to)
	merr := os.Rename(filepath.Join(m.s.mnt, from), filepath.Join(m.s.mnt, to))
	if m.serverFailed(merr) {
		return
	}
	lerr := os.Rename(filepath.Join(m.local, from), filepath.Join(m.local, to))
	m.same("rename "+from+" "+to, merr, lerr)
	if merr == nil {
		for _, fd := range m.fds {
			if fd.name == from {
				fd.name = to
			} else if strings.HasPrefix(fd.name, from+"/") {
				fd.name = to + strings.TrimPrefix(fd.name, from)
			}
		}
	}
}

func (m *model) unlink() {
	name := m.randomName()
	m.note("unlink %s", name)
	merr := os.Remove(filepath.Join(m.s.mnt, name))
	if m.serverFailed(merr) {
		return
	}
	m.same("unlink "+name, merr, os.Remove(filepath.Join(m.local, name)))
}

// serverFailed reports whether the mount's namespace call failed because
// the fault variant's server refused it (EIO): then it must have changed
// nothing, and the local directory is left as it is.
func (m *model) serverFailed(err error) bool {
	if !m.nsFaults || errnoOf(err) != syscall.EIO {
		return false
	}
	m.note("  failed by the server: %v", err)
	m.nsFailed++
	return true
}

func (m *model) mkdir() {
	dir := m.pick(append(modelDirs[1:], "d2", "d0/g"))
	m.note("mkdir %s", dir)
	m.same("mkdir "+dir, os.Mkdir(filepath.Join(m.s.mnt, dir), 0o755), os.Mkdir(filepath.Join(m.local, dir), 0o755))
}

func (m *model) rmdir() {
	dir := m.pick(append(modelDirs[1:], "d2", "d0/g"))
	if m.openUnder(dir) {
		return
	}
	m.note("rmdir %s", dir)
	merr := syscall.Rmdir(filepath.Join(m.s.mnt, dir))
	if m.serverFailed(merr) {
		return
	}
	lerr := syscall.Rmdir(filepath.Join(m.local, dir))
	m.same("rmdir "+dir, merr, lerr)
}

func (m *model) readdir() {
	dir := m.pick(modelDirs)
	m.note("readdir %s", dir)
	got, merr := readNames(filepath.Join(m.s.mnt, dir))
	want, lerr := readNames(filepath.Join(m.local, dir))
	m.same("readdir "+dir, merr, lerr)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		m.fail("readdir %s: mount has %v, local has %v", dir, got, want)
	}
}

func readNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		kind := "f"
		if e.IsDir() {
			kind = "d"
		}
		names = append(names, kind+":"+e.Name())
	}
	sort.Strings(names)
	return names, err
}

// compareTree remounts and compares every file and directory.
func (m *model) compareTree() {
	m.step = -1
	m.s.remount(m.remountFlags...)
	want := snapshot(m.t, m.local)
	got := snapshot(m.t, m.s.mnt)
	if len(got) != len(want) {
		m.fail("after a remount the mount has %d entries, local %d:\nmount %v\nlocal %v", len(got), len(want), keys(got), keys(want))
	}
	for name, w := range want {
		if g, ok := got[name]; !ok || g != w {
			m.fail("after a remount %s differs (mount %d bytes, local %d)", name, len(g), len(w))
		}
	}
}

func snapshot(t *testing.T, root string) map[string]string {
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("walk %s: %v", root, err)
	}
	return out
}

func keys(m map[string]string) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
