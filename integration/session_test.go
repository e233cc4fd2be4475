package integration

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/s3mount/s3mount/internal/s3test"
)

// session is one test's bucket and mount.
type session struct {
	t      *testing.T
	srv    *s3test.Server
	bucket string
	mnt    string
	client *s3.Client
	// staging is the session's --staging-dir, kept across remounts.
	staging string
}

var bucketSeq atomic.Int64

// sdkClient is a plain SDK client on the test server.
func sdkClient() *s3.Client { return env.srv.SDK() }

// newBucketSession makes a fresh bucket on the test server without
// mounting it.
func newBucketSession(t *testing.T) *session {
	t.Helper()
	requireEnv(t)
	return serverSession(t, env.srv)
}

// serverSession makes a fresh bucket on srv, with an SDK client for it,
// without mounting it. The bucket and what it holds are deleted when the
// test ends, after its mounts are gone.
func serverSession(t *testing.T, srv *s3test.Server) *session {
	t.Helper()
	s := &session{t: t, srv: srv, client: srv.SDK(), staging: filepath.Join(t.TempDir(), "staging"),
		bucket: fmt.Sprintf("it-%d-%d", time.Now().UnixNano()%1e9, bucketSeq.Add(1))}
	if _, err := s.client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String(s.bucket)}); err != nil {
		t.Fatalf("create bucket: %v", err)
	}
	t.Cleanup(func() { srv.CleanupBucket(t, s.bucket) })
	return s
}

// newSession makes a fresh bucket, puts objects (key -> content) and mounts
// the bucket with extra flags.
func newSession(t *testing.T, objects map[string]string, flags ...string) *session {
	t.Helper()
	s := newBucketSession(t)
	for k, v := range objects {
		s.put(k, []byte(v))
	}
	s.mnt = s.mount(s.bucket, flags...)
	return s
}

// baseArgs are the flags every mount of the test server needs.
func baseArgs() []string { return serverArgs(env.srv) }

// serverArgs are the flags a mount of srv needs.
func serverArgs(srv *s3test.Server) []string {
	args := []string{"--endpoint-url", srv.Endpoint, "--force-path-style", "--region", srv.Region}
	if srv.CertFile != "" {
		args = append(args, "--ca-bundle", srv.CertFile)
	}
	return args
}

// mountEnv is the environment of s3mount: the test's, with the test
// server's keys.
func mountEnv() []string { return envFor(env.srv) }

// envFor is the environment of an s3mount of srv. No AWS configuration
// or instance metadata is ever consulted.
func envFor(srv *s3test.Server) []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID="+srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+srv.SecretKey,
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent", "AWS_EC2_METADATA_DISABLED=true")
}

// mount mounts source (BUCKET[:PREFIX], or "" for all buckets) in the
// background and unmounts it when the test ends.
func (s *session) mount(source string, flags ...string) string {
	s.t.Helper()
	mnt := filepath.Join(s.t.TempDir(), "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		s.t.Fatal(err)
	}
	args := append(serverArgs(s.srv), "--staging-dir", s.staging)
	args = append(args, flags...)
	if source != "" {
		args = append(args, source)
	}
	args = append(args, mnt)
	out, code := runOn(s.t, s.srv, args...)
	if code != 0 {
		s.t.Fatalf("s3mount %s: exit %d: %s", strings.Join(args, " "), code, out)
	}
	s.t.Cleanup(func() { unmount(s.t, mnt) })
	return mnt
}

// runS3mount runs the binary against the test server to completion and
// returns its stderr+stdout and exit code.
func runS3mount(t *testing.T, args ...string) (string, int) {
	t.Helper()
	return runOn(t, env.srv, args...)
}

// runOn runs s3mount with srv's keys in its environment.
func runOn(t *testing.T, srv *s3test.Server, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, env.bin, args...)
	cmd.Env = envFor(srv)
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatalf("run s3mount: %v", err)
	}
	return string(out), 0
}

// unmount unmounts mnt and waits until the kernel no longer lists it and
// its daemon has exited (it finishes its shutdown, its staging directory
// included, a moment after the kernel lets the mount go).
func unmount(t *testing.T, mnt string) {
	if !isMounted(mnt) {
		return
	}
	daemons := daemonsOf(mnt)
	defer waitExited(t, daemons)
	if out, err := exec.Command("fusermount3", "-u", mnt).CombinedOutput(); err != nil {
		t.Logf("fusermount3 -u %s: %v: %s; trying a lazy unmount", mnt, err, out)
		_ = syscall.Unmount(mnt, syscall.MNT_DETACH)
	}
	deadline := time.Now().Add(10 * time.Second)
	for isMounted(mnt) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
}

// isMounted reports whether mnt is a FUSE mount point now.
func isMounted(mnt string) bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && fields[4] == mnt {
			return true
		}
	}
	return false
}

func (s *session) put(key string, data []byte) {
	s.t.Helper()
	if err := s.tryPut(key, data); err != nil {
		s.t.Fatalf("put %q: %v", key, err)
	}
}

// list returns the keys under prefix, as the SDK sees them.
func (s *session) list(prefix string) []string {
	s.t.Helper()
	out, err := s.client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(s.bucket), Prefix: aws.String(prefix)})
	if err != nil {
		s.t.Fatalf("list %q: %v", prefix, err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (s *session) tryPut(key string, data []byte) error {
	_, err := s.client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(s.bucket), Key: aws.String(key), Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data))),
	})
	return err
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(seed int64, n int) []byte {
	b := make([]byte, n)
	rand.New(rand.NewSource(seed)).Read(b)
	return b
}

// run runs a tool and returns its stdout; a failure names the command,
// its exit status and its stderr.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\nstderr: %s", name, strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

// daemonsOf returns the PIDs of the s3mount processes serving mnt (their
// last argument).
func daemonsOf(mnt string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
		if len(args) > 1 && filepath.Base(args[0]) == filepath.Base(env.bin) && args[len(args)-1] == mnt {
			pids = append(pids, pid)
		}
	}
	return pids
}

// waitExited waits up to 10 s for the processes to exit.
func waitExited(t *testing.T, pids []int) {
	deadline := time.Now().Add(10 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Logf("s3mount %d still running 10 s after its unmount", pid)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// alive reports whether pid runs (a zombie has exited).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold spaces, so look past the last ')'.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}
