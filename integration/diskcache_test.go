package integration

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/s3io/storetest"
)

// newCacheDir returns a fresh --cache-dir path (not yet made: s3mount
// makes it 0700).
func newCacheDir(t *testing.T) string { return filepath.Join(t.TempDir(), "cache") }

// cachedBytes reads s3.cached: bytes kept and the file's size.
func cachedBytes(t *testing.T, path string) (kept, size int64) {
	t.Helper()
	v, err := getXattr(path, "s3.cached")
	if err != nil {
		t.Fatalf("getfattr s3.cached %s: %v", path, err)
	}
	var pct int
	if _, err := fmt.Sscanf(v, "%d of %d bytes (%d%%)", &kept, &size, &pct); err != nil {
		t.Fatalf("s3.cached %q: %v", v, err)
	}
	if want := int(kept * 100 / max(size, 1)); size > 0 && pct != want {
		t.Fatalf("s3.cached %q: percent %d, want %d", v, pct, want)
	}
	return kept, size
}

// waitCached waits until at least want bytes of path are in the disk
// cache (the blocks are written in the background).
func waitCached(t *testing.T, path string, want int64) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		kept, _ := cachedBytes(t, path)
		if kept >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d bytes in the disk cache after 20 s, want %d", path, kept, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// readPrefix reads the first n bytes of path.
func readPrefix(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b := make([]byte, n)
	_, err = io.ReadFull(f, b)
	return b, err
}

// blockFiles returns the block files under a cache directory.
func blockFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "v1", "??", "*", "*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// The cached part of a file is read from disk by the next mount, after the
// daemon that read it was killed, with the server stopped; the part never
// read fails, as it must without a server.
func TestDiskCacheServesTheNextMountAfterACrashWithTheServerStopped(t *testing.T) {
	srv := stoppableServer(t)
	s := serverSession(t, srv)
	big := randomBytes(60, 32<<20)
	small := randomBytes(61, 100<<10)
	s.put("big", big)
	s.put("dir/small", small)
	cache := newCacheDir(t)
	flags := []string{"--cache-dir", cache, "--block-size", "1MiB", "--metadata-ttl", "1h"}
	s.mnt = s.mountOn(srv, flags...)

	if got, err := readPrefix(s.path("big"), 8<<20); err != nil || !bytes.Equal(got, big[:8<<20]) {
		t.Fatalf("first 8 MiB through the first mount: %v, or wrong bytes", err)
	}
	if got, err := os.ReadFile(s.path("dir/small")); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("small file: %v, or wrong bytes", err)
	}
	waitCached(t, s.path("big"), 8<<20)
	waitCached(t, s.path("dir/small"), int64(len(small)))
	if st, err := os.Stat(cache); err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache directory: %v, mode %v; want 0700", err, st.Mode().Perm())
	}
	for _, f := range blockFiles(t, cache) {
		if st, _ := os.Stat(f); st.Mode().Perm() != 0o600 {
			t.Fatalf("block file %s has mode %04o, want 0600", f, st.Mode().Perm())
		}
	}

	// A crash: the daemon is killed, its dead mount cleaned up.
	for _, pid := range daemonsOf(s.mnt) {
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
	}
	unmount(t, s.mnt)
	s.mnt = s.mountOn(srv, flags...)
	// The lookups need the server; the reads must not.
	for _, name := range []string{"big", "dir/small"} {
		if _, err := os.Stat(s.path(name)); err != nil {
			t.Fatal(err)
		}
	}
	srv.Stop()
	got, err := readPrefix(s.path("big"), 8<<20)
	if err != nil || !bytes.Equal(got, big[:8<<20]) {
		t.Fatalf("cached 8 MiB with the server stopped: %v, or wrong bytes", err)
	}
	if got, err := os.ReadFile(s.path("dir/small")); err != nil || !bytes.Equal(got, small) {
		t.Fatalf("cached small file with the server stopped: %v, or wrong bytes", err)
	}
	f, err := os.Open(s.path("big"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.ReadAt(make([]byte, 4096), 31<<20); err == nil {
		t.Fatal("a block never read was served with the server stopped")
	}
}

// An object replaced by another client, with the same size, is read anew
// once the TTL has passed, by the same mount and by the next one: never
// from the old version's blocks on disk.
func TestDiskCacheNeverServesAnObjectReplacedElsewhereAfterTheTTL(t *testing.T) {
	s := newBucketSession(t)
	v1, v2 := randomBytes(62, 3<<20+5), randomBytes(63, 3<<20+5)
	s.put("f", v1)
	flags := []string{"--cache-dir", newCacheDir(t), "--block-size", "1MiB", "--metadata-ttl", "1s"}
	s.mnt = s.mount(s.bucket, flags...)
	if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, v1) {
		t.Fatalf("first version: %v, or wrong bytes", err)
	}
	waitCached(t, s.path("f"), int64(len(v1)))
	s.put("f", v2)
	time.Sleep(1500 * time.Millisecond)
	if kept, _ := cachedBytes(t, s.path("f")); kept != 0 {
		t.Fatalf("s3.cached of the new version says %d bytes are cached", kept)
	}
	if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, v2) {
		t.Fatalf("after the TTL the mount read %v, old bytes: %v", err, bytes.Equal(got, v1))
	}
	waitCached(t, s.path("f"), int64(len(v2)))
	s.put("f", v1[:len(v1)-5]) // another size, another ETag
	s.put("f", v1)             // the first version's bytes again: its blocks are right again
	s.put("f", v2[:100])
	s.remount(flags...)
	if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, v2[:100]) {
		t.Fatalf("next mount: %v, or the old version's bytes", err)
	}
}

// A cache at its size limit evicts the least recently used blocks, and
// stays within the limit.
func TestFullDiskCacheEvictsLeastRecentlyUsed(t *testing.T) {
	s := newBucketSession(t)
	files := map[string][]byte{}
	for i, name := range []string{"a", "b", "c"} {
		files[name] = randomBytes(int64(64+i), 4<<20)
		s.put(name, files[name])
	}
	cache := newCacheDir(t)
	s.mnt = s.mount(s.bucket, "--cache-dir", cache, "--cache-dir-size", "6MiB", "--block-size", "1MiB")
	for _, name := range []string{"a", "b", "c"} {
		if got, err := os.ReadFile(s.path(name)); err != nil || !bytes.Equal(got, files[name]) {
			t.Fatalf("%s: %v, or wrong bytes", name, err)
		}
		waitCached(t, s.path(name), 4<<20)
	}
	var used int64
	for _, f := range blockFiles(t, cache) {
		st, err := os.Stat(f)
		if err == nil {
			used += (st.Size() + 4095) &^ 4095
		}
	}
	if used > 6<<20 {
		t.Fatalf("block files take %d bytes, over the 6 MiB limit", used)
	}
	if kept, _ := cachedBytes(t, s.path("a")); kept != 0 {
		t.Fatalf("%d bytes of a, the least recently read, are still cached", kept)
	}
	if kept, _ := cachedBytes(t, s.path("c")); kept != 4<<20 {
		t.Fatalf("only %d bytes of c, the last read, are cached", kept)
	}
	s.remount("--cache-dir", cache, "--cache-dir-size", "6MiB", "--block-size", "1MiB")
	if got, err := os.ReadFile(s.path("a")); err != nil || !bytes.Equal(got, files["a"]) {
		t.Fatalf("evicted a read again: %v, or wrong bytes", err)
	}
}

// A block file damaged on disk (a flipped byte, a truncation) is never
// served: the block is fetched from S3 again, exactly those blocks.
func TestDamagedDiskCacheFilesAreFetchedAgain(t *testing.T) {
	s, p := faultSession(t)
	data := randomBytes(66, 4<<20)
	s.put("f", data)
	cache := newCacheDir(t)
	flags := []string{"--endpoint-url", p.URL(), "--cache-dir", cache, "--block-size", "1MiB"}
	s.remount(flags...)
	if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("first read: %v, or wrong bytes", err)
	}
	waitCached(t, s.path("f"), int64(len(data)))
	unmount(t, s.mnt)

	files := blockFiles(t, cache)
	if len(files) != 4 {
		t.Fatalf("%d block files, want 4: %v", len(files), files)
	}
	byIndex := map[string]string{}
	for _, f := range files {
		byIndex[filepath.Base(f)] = f
	}
	flip, err := os.OpenFile(byIndex["1"], os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	flip.ReadAt(b, 300000)
	b[0] ^= 1
	flip.WriteAt(b, 300000)
	flip.Close()
	st, _ := os.Stat(byIndex["3"])
	if err := os.Truncate(byIndex["3"], st.Size()-4096); err != nil {
		t.Fatal(err)
	}

	before := getsOf(p.Requests(), s.bucket, "f")
	addr := metricsAddr(t)
	s.mnt = s.mount(s.bucket, append(flags, "--metrics-addr", addr)...)
	if kept, _ := cachedBytes(t, s.path("f")); kept != 3<<20 {
		t.Fatalf("s3.cached counts %d bytes, want 3 MiB (the truncated block not counted)", kept)
	}
	if got, err := os.ReadFile(s.path("f")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("read over damaged block files: %v, or wrong bytes", err)
	}
	if gets := getsOf(p.Requests(), s.bucket, "f") - before; gets != 2 {
		t.Fatalf("%d GETs after the damage, want 2 (blocks 1 and 3)", gets)
	}
	waitCached(t, s.path("f"), int64(len(data)))
	// What the disk cache did is in the metrics and in s3mount status.
	m := scrape(t, addr)
	if hits, corrupt := metric(m, "s3mount_disk_cache_hits_total"), metric(m, "s3mount_disk_cache_corrupt_total"); hits < 2 || corrupt != 2 {
		t.Errorf("metrics: %v disk cache hits (want the 2 good blocks at least), %v corrupt (want 2: the flipped and the truncated block)", hits, corrupt)
	}
	if b, n := metric(m, "s3mount_disk_cache_bytes"), metric(m, "s3mount_disk_cache_blocks"); b < 4<<20 || n != 4 {
		t.Errorf("metrics: disk cache holds %v bytes in %v blocks, want the whole 4 MiB again, in 4", b, n)
	}
	if st := status(t, s.mnt); !strings.Contains(st, "disk cache "+cache+": ") || !strings.Contains(st, " in 4 blocks") || !strings.Contains(st, "2 corrupt") {
		t.Errorf("s3mount status does not tell the disk cache's state:\n%s", st)
	}
}

func TestDiskCacheDirectoryOpenToOthersOrInUseIsRefused(t *testing.T) {
	s := newBucketSession(t)
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o750); err != nil {
		t.Fatal(err)
	}
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	args := append(baseArgs(), "--staging-dir", s.staging, "--cache-dir", open, s.bucket, mnt)
	out, code := runS3mount(t, args...)
	if code != 2 || !strings.Contains(out, "chmod 700") || !strings.Contains(out, "unencrypted") {
		t.Fatalf("mount with a 0750 cache directory: exit %d: %s; want 2 and the chmod to run", code, out)
	}
	if isMounted(mnt) {
		unmount(t, mnt)
		t.Fatal("mounted anyway")
	}

	cache := newCacheDir(t)
	s.mnt = s.mount(s.bucket, "--cache-dir", cache)
	args = append(baseArgs(), "--staging-dir", s.staging, "--cache-dir", cache, s.bucket, mnt)
	out, code = runS3mount(t, args...)
	if code != 2 || !strings.Contains(out, "in use by another s3mount") {
		t.Fatalf("second mount on one cache directory: exit %d: %s; want 2, in use", code, out)
	}
	if isMounted(mnt) {
		unmount(t, mnt)
		t.Fatal("second mount mounted anyway")
	}
	// Once the first is gone the directory is free again.
	unmount(t, s.mnt)
	s.mnt = s.mount(s.bucket, "--cache-dir", cache)
}

// prefetch runs `s3mount prefetch ARGS` and returns its stdout, stderr and
// exit code.
func prefetch(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(env.bin, append([]string{"prefetch"}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return o.String(), e.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), 0
}

func TestPrefetchStagesTreesAndFilesWithProgressAndNamesFailures(t *testing.T) {
	s, p := faultSession(t)
	tree := map[string][]byte{
		"ref/genome.fa":       randomBytes(67, 9<<20+3),
		"ref/idx/a.bin":       randomBytes(68, 1<<20),
		"ref/idx/b.bin":       randomBytes(69, 5000),
		"ref/idx/empty":       nil,
		"weights/model.bin":   randomBytes(70, 2<<20),
		"other/not-asked-for": randomBytes(71, 1000),
	}
	for k, v := range tree {
		s.put(k, v)
	}
	// Without a disk cache, prefetch says what it needs.
	if _, errOut, code := prefetch(t, s.mnt, "ref"); code != 2 || !strings.Contains(errOut, "--cache-dir") {
		t.Fatalf("prefetch on a mount without --cache-dir: exit %d: %s", code, errOut)
	}
	cache := newCacheDir(t)
	flags := []string{"--endpoint-url", p.URL(), "--cache-dir", cache, "--block-size", "1MiB", "--metadata-ttl", "1h"}
	s.remount(flags...)
	list := filepath.Join(t.TempDir(), "list")
	os.WriteFile(list, []byte("# inputs\nweights/model.bin\n\n"+s.path("ref/idx/b.bin")+"\n"), 0o644)

	out, errOut, code := prefetch(t, "--progress-interval", "20ms", "--jobs", "3", s.mnt, "ref")
	if code != 0 {
		t.Fatalf("prefetch ref: exit %d\n%s%s", code, out, errOut)
	}
	// The empty file is complete without a read.
	if !strings.Contains(out, "4 files") || !strings.Contains(out, "3 read into the cache, 1 already cached") || !strings.Contains(errOut, "of 4 files") {
		t.Fatalf("prefetch ref: want a summary of 4 files and progress lines:\n%s%s", out, errOut)
	}
	for k := range tree {
		kept, size := cachedBytes(t, s.path(k))
		if strings.HasPrefix(k, "ref/") != (kept == size) {
			t.Errorf("%s: %d of %d bytes cached after prefetch of ref", k, kept, size)
		}
	}
	out, errOut, code = prefetch(t, "--from-file", list, "--progress", "bar", s.mnt)
	if code != 0 || !strings.Contains(out, "2 files") || !strings.Contains(out, "1 already cached") {
		t.Fatalf("prefetch --from-file: exit %d\n%s%s", code, out, errOut)
	}
	// The bar (what a terminal gets) is redrawn in place and ends with a
	// newline.
	if !strings.Contains(errOut, "\r[") || !strings.Contains(errOut, "100% ") || !strings.HasSuffix(errOut, "\n") {
		t.Fatalf("prefetch --progress bar drew no bar: %q", errOut)
	}

	// A remount whose GETs all fail reads every staged byte from disk.
	s.remount(flags...)
	for k := range tree {
		if k != "other/not-asked-for" {
			os.Stat(s.path(k))
		}
	}
	p.Add(faultproxy.Rule{Match: faultproxy.IsGet, Action: faultproxy.Status(503, "ServiceUnavailable")})
	for k, v := range tree {
		if k == "other/not-asked-for" {
			continue
		}
		if got, err := os.ReadFile(s.path(k)); err != nil || !bytes.Equal(got, v) {
			t.Fatalf("staged %s with every GET refused: %v, or wrong bytes", k, err)
		}
	}
	// What cannot be fetched is named, and the exit status says so.
	out, errOut, code = prefetch(t, s.mnt, "other", "missing")
	if code != 1 || !strings.Contains(errOut, s.path("other/not-asked-for")) || !strings.Contains(errOut, s.path("missing")) {
		t.Fatalf("prefetch with GETs refused and a missing path: exit %d, want 1 naming both\n%s%s", code, out, errOut)
	}
	if _, errOut, code := prefetch(t, s.mnt, "/etc"); code != 2 || !strings.Contains(errOut, "not under the mount point") {
		t.Fatalf("prefetch of a path outside the mount: exit %d: %s", code, errOut)
	}
	if _, errOut, code := prefetch(t, t.TempDir()); code != 2 || !strings.Contains(errOut, "not an s3mount mount point") {
		t.Fatalf("prefetch of a directory that is no mount: exit %d: %s", code, errOut)
	}
}

// Objects read with an SSE-C key stay off the disk cache (it would hold
// them decrypted) unless --cache-sse-c says otherwise; s3.cached says why.
func TestSSECObjectsStayOffTheDiskCacheUnlessAskedFor(t *testing.T) {
	srv := sseServer(t, needSSEC)
	if lacks(t, storetest.SSE) {
		t.Logf("%s ignores encryption: nothing to keep off the cache", srv.Kind)
		return
	}
	s := serverSession(t, srv)
	key := newKey(t)
	data := randomBytes(72, 3<<20)
	s.ssecPut("secret", data, key)
	cache := newCacheDir(t)
	keyFlags := []string{"--sse-c-key-file", keyFile(t, key, 0o600), "--cache-dir", cache, "--block-size", "1MiB"}
	s.mnt = s.mountOn(srv, keyFlags...)
	if got, err := os.ReadFile(s.path("secret")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("SSE-C read: %v, or wrong bytes", err)
	}
	v, err := getXattr(s.path("secret"), "s3.cached")
	if err != nil || !strings.HasPrefix(v, "0 of 3145728 bytes (0%)") || !strings.Contains(v, "--cache-sse-c") {
		t.Fatalf("s3.cached of an SSE-C object: %q, %v; want 0 bytes and why", v, err)
	}
	if files := blockFiles(t, cache); len(files) != 0 {
		t.Fatalf("block files of an SSE-C object written without --cache-sse-c: %v", files)
	}
	s.remountOn(srv, append(keyFlags, "--cache-sse-c")...)
	if got, err := os.ReadFile(s.path("secret")); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("SSE-C read with --cache-sse-c: %v, or wrong bytes", err)
	}
	waitCached(t, s.path("secret"), int64(len(data)))
	// A mount without the key finds none of those blocks.
	s.remountOn(srv, "--cache-dir", cache, "--block-size", "1MiB")
	if _, err := os.ReadFile(s.path("secret")); !errors.Is(err, syscall.EACCES) {
		t.Fatalf("read without the key over a cache holding the object decrypted: %v, want EACCES", err)
	}
}
