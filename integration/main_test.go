package integration

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
	"github.com/s3mount/s3mount/s3io/storetest"
)

// env is what every test of the package shares: one binary, one S3
// server (chosen by $S3MOUNT_TEST_SERVER; MinIO unless told).
var env struct {
	bin     string // the s3mount binary
	srv     *s3test.Server
	skipWhy string // a missing precondition, when there is one
}

func TestMain(m *testing.M) {
	if crashWriterWanted() {
		os.Exit(crashWriter()) // the crash test's writer process
	}
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	if runPosixOpFromEnv() { // a POSIX suite call as another user
		return 0
	}
	flag.Parse()
	if testing.Short() {
		env.skipWhy = "-short: no integration tests"
		return m.Run()
	}
	if why := missingPrecondition(); why != "" {
		env.skipWhy = why
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "s3mount-it-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env.bin = os.Getenv("S3MOUNT_BIN")
	if env.bin == "" {
		env.bin = filepath.Join(dir, "s3mount")
		build := exec.Command("go", "build", "-o", env.bin, "github.com/s3mount/s3mount/cmd/s3mount")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "build s3mount:", err)
			return 1
		}
	}
	kind, _ := s3test.Selected() // checked by missingPrecondition
	start := time.Now()
	srv, err := s3test.Launch(kind, s3test.Options{KMS: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer srv.Stop()
	fmt.Fprintf(os.Stderr, "integration: %s %s at %s, ready in %v\n", kind, srv.Version, srv.Endpoint, time.Since(start).Round(time.Millisecond))
	env.srv = srv
	return m.Run()
}

// missingPrecondition names what the machine lacks for real mounts.
func missingPrecondition() string {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return "no /dev/fuse: " + err.Error()
	}
	if _, err := exec.LookPath("fusermount3"); err != nil && os.Geteuid() != 0 {
		return "neither root nor fusermount3 (Debian package fuse3)"
	}
	kind, err := s3test.Selected()
	if err != nil {
		return err.Error()
	}
	if err := s3test.Missing(kind); err != nil {
		return err.Error()
	}
	return ""
}

// requireEnv skips (or, under S3MOUNT_TEST_REQUIRE=1, fails) a test that
// cannot run here, naming the reason.
func requireEnv(t *testing.T) {
	t.Helper()
	if env.skipWhy == "" {
		return
	}
	if testing.Short() {
		t.Skip(env.skipWhy)
	}
	miniotest.SkipOrFail(t, env.skipWhy)
}

// lacks reports whether the test server lacks feature f (the one list is
// internal/s3test/lacks.go). A test that meets such a server checks what
// s3mount does about it (the documented refusal) instead of the feature.
func lacks(t *testing.T, f storetest.Feature) bool {
	t.Helper()
	if env.srv != nil && env.srv.Lacks(f) {
		t.Logf("%s lacks %s: checking s3mount's documented answer instead", env.srv.Kind, f)
		return true
	}
	return false
}
