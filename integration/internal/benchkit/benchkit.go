// Package benchkit is what make bench and make bench-scale share: a work
// directory with the s3mount binary and a MinIO, s3mount mounts in the
// foreground, and the listing option both raw baselines use.
package benchkit

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// Env is a benchmark's work directory, s3mount binary and MinIO.
type Env struct {
	Work string
	Bin  string
	Srv  *miniotest.Server
}

// Start makes a work directory named after name, builds s3mount into it
// unless bin names one, starts MinIO there and prints a line about the
// machine. Close removes it all.
func Start(name, bin string) (*Env, error) {
	work, err := os.MkdirTemp("", "s3mount-"+name+"-")
	if err != nil {
		return nil, err
	}
	e := &Env{Work: work, Bin: bin}
	if e.Bin == "" {
		e.Bin = filepath.Join(work, "s3mount")
		build := exec.Command("go", "build", "-o", e.Bin, "github.com/s3mount/s3mount/cmd/s3mount")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			os.RemoveAll(work)
			return nil, fmt.Errorf("build s3mount: %w", err)
		}
	}
	if e.Srv, err = miniotest.Launch(miniotest.Options{Dir: filepath.Join(work, "minio")}); err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	describe, _ := exec.Command("git", "describe", "--always", "--dirty").Output()
	kernel, _ := exec.Command("uname", "-r").Output()
	load, _ := os.ReadFile("/proc/loadavg")
	fmt.Printf("s3mount %s: %s, %d cores, kernel %s, Go %s, MinIO on %s, load %s\n", name,
		strings.TrimSpace(string(describe)), runtime.NumCPU(), strings.TrimSpace(string(kernel)), runtime.Version(),
		e.Srv.Endpoint, strings.Join(strings.Fields(string(load))[:3], " "))
	return e, nil
}

// Close stops MinIO and removes the work directory.
func (e *Env) Close() {
	e.Srv.Stop()
	os.RemoveAll(e.Work)
}

// Daemon is a running s3mount in the foreground.
type Daemon struct {
	Dir string
	Cmd *exec.Cmd
}

// Mount mounts bucket at dir (made here) with flags, its log in the work
// directory and its stderr to stderr (nil: discarded), and waits until
// the kernel shows the mount.
func (e *Env) Mount(bucket, dir string, stderr io.Writer, flags ...string) (*Daemon, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, err
	}
	args := append([]string{"--log-file", filepath.Join(e.Work, "s3mount.log"), "--foreground",
		"--endpoint-url", e.Srv.Endpoint, "--force-path-style", "--region", "us-east-1",
		"--staging-dir", filepath.Join(e.Work, "staging")}, flags...)
	cmd := exec.Command(e.Bin, append(args, bucket, dir)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+e.Srv.AccessKey, "AWS_SECRET_ACCESS_KEY="+e.Srv.SecretKey,
		"AWS_EC2_METADATA_DISABLED=true")
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &Daemon{Dir: dir, Cmd: cmd}
	deadline := time.Now().Add(30 * time.Second)
	for !isMounted(dir) {
		if time.Now().After(deadline) {
			d.Unmount()
			return nil, fmt.Errorf("%s not mounted after 30s", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return d, nil
}

// Unmount unmounts and waits for the daemon (it uploads what is queued),
// killing it after 10 s.
func (d *Daemon) Unmount() {
	_ = exec.Command("fusermount3", "-u", d.Dir).Run()
	done := make(chan struct{})
	go func() { _ = d.Cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = d.Cmd.Process.Kill()
		_ = syscall.Unmount(d.Dir, syscall.MNT_DETACH)
	}
}

func isMounted(dir string) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 4 && f[4] == dir {
			return true
		}
	}
	return false
}

// ListMetadata makes a ListObjectsV2 call ask MinIO for each object's
// metadata (metadata=true, a MinIO extension), as s3mount does.
func ListMetadata(o *s3.Options) {
	o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
		return stack.Build.Add(middleware.BuildMiddlewareFunc("bench-list-metadata",
			func(ctx context.Context, in middleware.BuildInput, next middleware.BuildHandler) (middleware.BuildOutput, middleware.Metadata, error) {
				if req, ok := in.Request.(*smithyhttp.Request); ok {
					q := req.URL.Query()
					q.Set("metadata", "true")
					req.URL.RawQuery = q.Encode()
				}
				return next.HandleBuild(ctx, in)
			}), middleware.After)
	})
}

// ProcStatus is a size field of the daemon's /proc/PID/status ("VmHWM:",
// "VmRSS:") in bytes.
func (d *Daemon) ProcStatus(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", d.Cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, d.Cmd.Process.Pid)
}

// Client is a raw SDK client of the MinIO, with the same checksum settings
// as s3mount's (only where required), and opts applied.
func (e *Env) Client(opts ...func(*s3.Options)) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(e.Srv.Endpoint), UsePathStyle: true,
		Credentials:                credentials.NewStaticCredentialsProvider(e.Srv.AccessKey, e.Srv.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}, opts...)
}
