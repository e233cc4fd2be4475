package integration

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// get returns an object's bytes as the SDK sees them.
func (s *session) get(key string) []byte {
	s.t.Helper()
	out, err := s.client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		s.t.Fatalf("get %q: %v", key, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		s.t.Fatalf("get %q: %v", key, err)
	}
	return b
}

// metadata returns an object's user metadata as the SDK sees it.
func (s *session) metadata(key string) map[string]string {
	s.t.Helper()
	out, err := s.client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(s.bucket), Key: aws.String(key)})
	if err != nil {
		s.t.Fatalf("head %q: %v", key, err)
	}
	return out.Metadata
}

// remount unmounts the session's bucket and mounts it again, so that
// nothing is answered from s3mount's or the kernel's memory.
func (s *session) remount(flags ...string) {
	s.t.Helper()
	unmount(s.t, s.mnt)
	s.mnt = s.mount(s.bucket, flags...)
}

func (s *session) path(name string) string { return filepath.Join(s.mnt, name) }

// sync runs `s3mount sync` on the session's mount: what is written
// behind (directory attributes; uploads in asynchronous mode) is in S3
// when it returns.
func (s *session) sync() {
	s.t.Helper()
	if out, code := runOn(s.t, s.srv, "sync", s.mnt); code != 0 {
		s.t.Fatalf("s3mount sync: exit %d: %s", code, out)
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

// sh runs a shell command line in dir.
func sh(t *testing.T, dir, script string) string {
	t.Helper()
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh -c %q: %v\n%s", script, err, out)
	}
	return string(out)
}

func TestCpOneGiBInAndOut(t *testing.T) {
	s := newSession(t, nil)
	src := filepath.Join(t.TempDir(), "big.bin")
	f, err := os.Create(src)
	if err != nil {
		t.Fatal(err)
	}
	chunk := randomBytes(1, 1<<20)
	for i := 0; i < 1024; i++ {
		chunk[0] = byte(i)
		f.Write(chunk)
	}
	f.Close()
	run(t, "cp", src, s.path("big.bin"))
	want := sha(t, src)
	s.remount()
	back := filepath.Join(t.TempDir(), "back.bin")
	run(t, "cp", s.path("big.bin"), back)
	if got := sha(t, back); got != want {
		t.Fatalf("copied out %s, copied in %s", got, want)
	}
	if ups := s.multipartUploads(); len(ups) != 0 {
		t.Fatalf("multipart uploads left over: %v", ups)
	}
}

// multipartUploads lists incomplete multipart uploads in the bucket.
func (s *session) multipartUploads() []string {
	s.t.Helper()
	out, err := s.client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(s.bucket)})
	if err != nil {
		s.t.Fatalf("list multipart uploads: %v", err)
	}
	var keys []string
	for _, u := range out.Uploads {
		keys = append(keys, aws.ToString(u.Key))
	}
	return keys
}

func TestDdNotruncIntoMiddleOfLargeFile(t *testing.T) {
	s := newSession(t, nil)
	data := randomBytes(2, 200<<20)
	s.put("big.bin", data)
	local := filepath.Join(t.TempDir(), "big.bin")
	if err := os.WriteFile(local, data, 0o644); err != nil {
		t.Fatal(err)
	}
	patch := filepath.Join(t.TempDir(), "patch")
	if err := os.WriteFile(patch, randomBytes(3, 300<<10), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{local, s.path("big.bin")} {
		run(t, "dd", "if="+patch, "of="+target, "bs=4096", "seek=25601", "conv=notrunc", "status=none")
	}
	s.remount()
	if got, want := sha(t, s.path("big.bin")), sha(t, local); got != want {
		t.Fatal("the mounted file differs from the local copy after the same dd")
	}
	if got := s.get("big.bin"); int64(len(got)) != 200<<20 {
		t.Fatalf("object is %d bytes after dd conv=notrunc", len(got))
	}
}

func goSource(t *testing.T) string {
	src := filepath.Join(runtime.GOROOT(), "src")
	if _, err := os.Stat(filepath.Join(src, "os")); err != nil {
		t.Fatalf("Go's source tree is needed: %v", err)
	}
	return src
}

func TestTarExtractMatchesAfterRemount(t *testing.T) {
	s := newSession(t, nil)
	src := goSource(t)
	tarball := filepath.Join(t.TempDir(), "src.tar")
	run(t, "tar", "-cf", tarball, "-C", src, "os", "go/ast", "go/token")
	if err := os.Mkdir(s.path("tree"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "tar", "-xf", tarball, "-C", s.path("tree"))
	s.remount()
	for _, dir := range []string{"os", "go/ast", "go/token"} {
		run(t, "diff", "-r", filepath.Join(src, dir), s.path("tree/"+dir))
	}
}

func TestRsyncInThenChecksumDryRunFindsNothing(t *testing.T) {
	s := newSession(t, nil)
	src := filepath.Join(goSource(t), "go", "token") + "/"
	run(t, "rsync", "-a", src, s.path("r")+"/")
	s.remount()
	if out := run(t, "rsync", "-rlc", "--dry-run", "--itemize-changes", src, s.path("r")+"/"); strings.TrimSpace(out) != "" {
		t.Fatalf("rsync -c --dry-run after rsync -a finds work:\n%s", out)
	}
}

func TestMvFilesAndDirectories(t *testing.T) {
	s := newSession(t, map[string]string{"a.txt": "A", "d/x": "X", "d/sub/y": "Y"})
	run(t, "mv", s.path("a.txt"), s.path("b.txt"))
	run(t, "mv", s.path("d"), s.path("e"))
	keys := s.list("")
	sort.Strings(keys)
	if got := strings.Join(keys, " "); got != "b.txt e/sub/y e/x" {
		t.Fatalf("keys after mv: %s", got)
	}
	if string(s.get("e/sub/y")) != "Y" {
		t.Fatal("moved file lost its bytes")
	}
	if err := os.WriteFile(s.path("c.txt"), []byte("C"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(t, "mv", "-f", s.path("c.txt"), s.path("b.txt"))
	if string(s.get("b.txt")) != "C" {
		t.Fatal("mv over an existing file did not replace it")
	}
}

func TestRmRecursiveRemovesEveryKey(t *testing.T) {
	s := newSession(t, map[string]string{"d/a": "1", "d/b/c": "2", "d/b/e/f": "3", "keep": "k"})
	if err := os.Mkdir(s.path("d/empty"), 0o755); err != nil {
		t.Fatal(err)
	}
	run(t, "rm", "-r", s.path("d"))
	if keys := s.list(""); len(keys) != 1 || keys[0] != "keep" {
		t.Fatalf("keys after rm -r: %v", keys)
	}
}

func TestShellToolsEditFiles(t *testing.T) {
	s := newSession(t, map[string]string{"conf": "name = foo\nsize = 1\n"})
	sh(t, s.mnt, "echo one >> log; echo two >> log")
	if got := string(s.get("log")); got != "one\ntwo\n" {
		t.Fatalf(">> twice: %q", got)
	}
	run(t, "sed", "-i", "s/foo/bar/", s.path("conf"))
	if got := string(s.get("conf")); got != "name = bar\nsize = 1\n" {
		t.Fatalf("sed -i: %q", got)
	}
	run(t, "truncate", "-s", "3", s.path("log"))
	if got := string(s.get("log")); got != "one" {
		t.Fatalf("truncate -s 3: %q", got)
	}
	run(t, "truncate", "-s", "1M", s.path("log"))
	if got := s.get("log"); len(got) != 1<<20 || !bytes.Equal(got[:4], []byte("one\x00")) {
		t.Fatalf("truncate -s 1M: %d bytes", len(got))
	}
	run(t, "touch", s.path("new-empty"))
	if got := s.get("new-empty"); len(got) != 0 {
		t.Fatal("touch of a new file did not make an empty object")
	}
}

func TestSqliteDatabaseSurvivesRemount(t *testing.T) {
	s := newSession(t, nil)
	db := s.path("test.db")
	var script strings.Builder
	script.WriteString("create table t (id integer primary key, v text);\n")
	for tx := 0; tx < 5; tx++ {
		script.WriteString("begin;\n")
		for i := 0; i < 100; i++ {
			fmt.Fprintf(&script, "insert into t (v) values ('row %d-%d');\n", tx, i)
		}
		script.WriteString("commit;\n")
	}
	cmd := exec.Command("sqlite3", db)
	cmd.Stdin = strings.NewReader(script.String())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sqlite3: %v\n%s", err, out)
	}
	s.remount()
	db = s.path("test.db") // a remount has a new mount point
	if out := run(t, "sqlite3", db, "select count(*), max(v) from t;"); strings.TrimSpace(out) != "500|row 4-99" {
		t.Fatalf("after remount: %q", out)
	}
	if out := run(t, "sqlite3", db, "pragma integrity_check;"); strings.TrimSpace(out) != "ok" {
		t.Fatalf("integrity check: %q", out)
	}
}

func TestChmodChownTouchSurviveRemount(t *testing.T) {
	s := newSession(t, map[string]string{"f": "data"})
	run(t, "chmod", "0750", s.path("f"))
	run(t, "chown", "1234:5678", s.path("f"))
	run(t, "touch", "-m", "-d", "2001-02-03 04:05:06.5 UTC", s.path("f"))
	s.remount()
	out := run(t, "stat", "-c", "%a %u %g %y", s.path("f"))
	if got := strings.TrimSpace(out); got != "750 1234 5678 2001-02-03 04:05:06.500000000 +0000" {
		t.Fatalf("stat after remount: %q", got)
	}
	if string(s.get("f")) != "data" {
		t.Fatal("metadata changes altered the bytes")
	}
}

func TestSymlinkIsStoredAsS3fsDoes(t *testing.T) {
	s := newSession(t, nil)
	if err := os.Symlink("some/target", s.path("link")); err != nil {
		t.Fatal(err)
	}
	if string(s.get("link")) != "some/target" || s.metadata("link")["mode"] != "41471" {
		t.Fatalf("symlink object %q, metadata %v; s3fs stores the target as the body and mode 0120777", s.get("link"), s.metadata("link"))
	}
	s.remount()
	if got, err := os.Readlink(s.path("link")); err != nil || got != "some/target" {
		t.Fatalf("readlink after remount: %q, %v", got, err)
	}
}

func TestFullStagingDiskGivesENOSPCAndKeepsTheOldObject(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "mounting a small tmpfs as the staging directory needs root")
	}
	s := newBucketSession(t)
	s.put("f", []byte("old contents"))
	small := filepath.Join(t.TempDir(), "small")
	os.Mkdir(small, 0o755)
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", small).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("umount", "-l", small).Run() })
	s.staging = small
	s.mnt = s.mount(s.bucket)
	// conv=notrunc: dd truncates otherwise, and its close uploads that.
	out, err := exec.Command("dd", "if=/dev/zero", "of="+s.path("f"), "bs=1M", "count=8", "conv=notrunc").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No space left on device") {
		t.Fatalf("dd onto a full staging disk: %v: %s; want ENOSPC", err, out)
	}
	if got := string(s.get("f")); got != "old contents" {
		t.Fatalf("object after the failed write: %q, want the old contents", got)
	}
	// The kernel releases the file just after dd exits.
	waitFor(t, 10*time.Second, "staging space not freed", func() bool {
		left, _ := filepath.Glob(filepath.Join(small, "mount-*", "*.data"))
		return len(left) == 0
	})
}

// --max-staging-size bounds the staging files: a write past it fails with
// ENOSPC and one log line, the old object stays, and once the space is
// free again (the refused file closed) writes work.
func TestStagingBudgetGivesENOSPCAndKeepsTheOldObject(t *testing.T) {
	s := newBucketSession(t)
	s.put("f", []byte("old contents"))
	logFile := filepath.Join(t.TempDir(), "s3mount.log")
	s.mnt = s.mount(s.bucket, "--max-staging-size", "4MiB", "--log-file", logFile)
	out, err := exec.Command("dd", "if=/dev/zero", "of="+s.path("f"), "bs=1M", "count=10", "conv=notrunc").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "No space left on device") {
		t.Fatalf("dd of 10 MiB past a 4 MiB staging budget: %v: %s; want ENOSPC", err, out)
	}
	if got := string(s.get("f")); got != "old contents" {
		t.Fatalf("object after the refused write: %q, want the old contents", got)
	}
	logged, _ := os.ReadFile(logFile)
	if n := strings.Count(string(logged), "staging space exhausted"); n != 1 {
		t.Fatalf("%d log lines for the refusal, want 1:\n%s", n, logged)
	}
	// The kernel releases the refused file just after dd exits.
	waitFor(t, 10*time.Second, "the refused file's staging file stayed", func() bool { return len(stagedData(t, s)) == 0 })
	small := randomBytes(7, 3<<20)
	if err := os.WriteFile(s.path("g"), small, 0o644); err != nil {
		t.Fatalf("write within the budget after the refusal: %v", err)
	}
	if !bytes.Equal(s.get("g"), small) {
		t.Fatal("g differs from what was written")
	}
}

// A program that forks and execs while writing (a build tool running a
// compiler, a shell running a command) closes its inherited descriptor in
// the child: that close is not the program's, and must not publish the
// half-written file.
func TestForkAndExecWhileWritingPublishesNothing(t *testing.T) {
	s := newBucketSession(t)
	s.mnt = s.mount(s.bucket)
	fh, err := os.Create(s.path("f"))
	if err != nil {
		t.Fatal(err)
	}
	first := randomBytes(61, 300<<10)
	if _, err := fh.Write(first); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("true").CombinedOutput(); err != nil {
		t.Fatalf("true: %v %s", err, out)
	}
	if keys := s.list("f"); len(keys) != 0 {
		t.Fatalf("a child's exec published the half-written file: %v", keys)
	}
	rest := randomBytes(62, 100<<10)
	if _, err := fh.Write(rest); err != nil {
		t.Fatal(err)
	}
	if err := fh.Close(); err != nil {
		t.Fatal(err)
	}
	if got := s.get("f"); !bytes.Equal(got, append(first, rest...)) {
		t.Fatalf("after the program's close S3 has %d bytes, want %d", len(got), len(first)+len(rest))
	}
}
