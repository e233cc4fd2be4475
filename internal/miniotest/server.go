package miniotest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/testproc"
)

// Region is the region MinIO runs in; clients sign for it.
const Region = "us-east-1"

// startTimeout bounds how long Launch waits for a server to answer. MinIO
// usually starts in well under a second; a loaded 2-core CI box is slower.
const startTimeout = 60 * time.Second

// Options configure Launch. The zero value starts a plain-HTTP server in a
// new temporary directory.
type Options struct {
	// Binary is the MinIO executable; empty means FindBinary.
	Binary string
	// Dir holds the server's data, certificates and log. Empty means a new
	// temporary directory that Stop removes.
	Dir string
	// CertFile and KeyFile, when set, make the server speak HTTPS with this
	// certificate (PEM) and key (PEM).
	CertFile, KeyFile string
	// Env adds MINIO_* settings, e.g. "MINIO_API_REQUESTS_MAX=10".
	Env []string
}

// Server is a running MinIO.
type Server struct {
	Endpoint  string // http://127.0.0.1:PORT, or https://… with TLS
	AccessKey string
	SecretKey string
	Region    string
	DataDir   string
	// CertFile is the certificate clients must trust for an HTTPS server,
	// empty for plain HTTP.
	CertFile string
	// LogFile receives the server's stdout and stderr.
	LogFile string

	cmd      *exec.Cmd
	exited   chan struct{} // closed when the process has been reaped
	removeOn string        // directory Stop removes, when Launch created it
	client   *http.Client
	stopOnce sync.Once
}

// Start launches a server for one test and stops it when the test ends.
// A missing binary skips the test (or fails it under
// S3MOUNT_TEST_REQUIRE=1); a server that will not start fails it.
func Start(t testing.TB) *Server {
	t.Helper()
	return StartWith(t, Options{})
}

// StartTLS is Start with HTTPS: certFile and keyFile (PEM) become MinIO's
// public.crt and private.key. GenerateCert makes a suitable pair.
func StartTLS(t testing.TB, certFile, keyFile string) *Server {
	t.Helper()
	return StartWith(t, Options{CertFile: certFile, KeyFile: keyFile})
}

// StartWith is Start with options (TLS, MINIO_* settings); Binary and Dir
// are chosen here.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	skipIfShort(t)
	bin, err := FindBinary()
	if err != nil {
		SkipOrFail(t, err.Error())
	}
	opts.Binary = bin
	opts.Dir = t.TempDir()
	srv, err := Launch(opts)
	if err != nil {
		t.Fatalf("start minio: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("minio log (last lines):\n%s", srv.LogTail(4096))
		}
		srv.Stop()
	})
	return srv
}

// skipIfShort skips under go test -short, which promises no servers.
func skipIfShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs a MinIO server")
	}
}

// Launch starts a server and waits until it answers a request signed with
// its credentials. The caller must call Stop. A port lost to another
// process between choosing and binding it is retried on a new port.
func Launch(opts Options) (*Server, error) {
	if opts.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	removeOn := ""
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "miniotest-")
		if err != nil {
			return nil, err
		}
		opts.Dir, removeOn = dir, dir
	}
	return testproc.Launch(removeOn, func(try int) (*Server, error) {
		srv, err := launchOnce(opts, try)
		if err != nil {
			return nil, err
		}
		srv.removeOn = removeOn
		return srv, nil
	})
}

func launchOnce(opts Options, try int) (*Server, error) {
	// Each try gets its own directory so a half-started server cannot leave
	// state behind for the next.
	base := filepath.Join(opts.Dir, fmt.Sprintf("minio%d", try))
	dataDir := filepath.Join(base, "data")
	certsDir := filepath.Join(base, "certs")
	for _, d := range []string{dataDir, certsDir} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	srv := &Server{
		AccessKey: "s3mount-" + testproc.RandomHex(4),
		SecretKey: testproc.RandomHex(16),
		Region:    Region,
		DataDir:   dataDir,
		LogFile:   filepath.Join(base, "minio.log"),
		exited:    make(chan struct{}),
	}
	scheme := "http"
	if opts.CertFile != "" {
		if err := installCert(certsDir, opts.CertFile, opts.KeyFile); err != nil {
			return nil, err
		}
		scheme = "https"
		srv.CertFile = filepath.Join(certsDir, "public.crt")
	}
	ports, err := testproc.FreePorts(2)
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	srv.Endpoint = scheme + "://" + addr
	srv.client = &http.Client{
		Timeout: 5 * time.Second,
		Transport: &http.Transport{
			// Readiness and bucket creation only: the random credentials,
			// not the certificate, prove that the server is ours.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test helper, see above
		},
	}

	// --certs-dir always points at our directory: otherwise MinIO would
	// pick up ~/.minio/certs and might speak TLS unasked.
	cmd := exec.Command(opts.Binary, "server",
		"--address", addr,
		"--console-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--certs-dir", certsDir,
		"--quiet",
		dataDir)
	cmd.Env = append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + base,
		"MINIO_ROOT_USER=" + srv.AccessKey,
		"MINIO_ROOT_PASSWORD=" + srv.SecretKey,
		"MINIO_BROWSER=off",
		"MINIO_UPDATE=off",
	}, opts.Env...)
	if err := srv.run(cmd); err != nil {
		return nil, err
	}
	if err := srv.waitReady(); err != nil {
		srv.Stop()
		tail := srv.LogTail(2048)
		if strings.Contains(tail, "already in use") {
			return nil, fmt.Errorf("%w: %s", testproc.ErrPortTaken, addr)
		}
		return nil, fmt.Errorf("minio at %s: %w\n%s", addr, err, tail)
	}
	return srv, nil
}

// waitReady polls until a signed ListBuckets succeeds. Only our process
// knows the random credentials, so success also proves the port is ours.
func (s *Server) waitReady() error {
	deadline := time.Now().Add(startTimeout)
	var lastErr error
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("exited during startup")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		resp, err := s.Do(ctx, http.MethodGet, "/", nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("ListBuckets: HTTP %d", resp.StatusCode)
		}
		cancel()
		lastErr = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("not ready after %v: %v", startTimeout, lastErr)
}

// Stop kills the server, waits for it to exit, and removes the directory
// Launch created. It is safe to call more than once.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd != nil && s.cmd.Process != nil {
			// The data is throw-away: there is nothing to shut down cleanly.
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if s.removeOn != "" {
			os.RemoveAll(s.removeOn)
		}
	})
}

// Pid is the server's process ID (0 before it runs), for benchmarks that
// account for its CPU.
func (s *Server) Pid() int {
	if s.cmd == nil || s.cmd.Process == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// LogTail returns up to the last n bytes of the server's log.
func (s *Server) LogTail(n int) string { return testproc.LogTail(s.LogFile, n) }

func installCert(certsDir, certFile, keyFile string) error {
	if keyFile == "" {
		return errors.New("TLS needs both a certificate and a key file")
	}
	for src, dst := range map[string]string{certFile: "public.crt", keyFile: "private.key"} {
		b, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(certsDir, dst), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// run starts cmd as the server's process, logging to its log file.
func (s *Server) run(cmd *exec.Cmd) error {
	logf, err := os.OpenFile(s.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = testproc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	s.cmd = cmd
	exited := make(chan struct{})
	s.exited = exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

// Restart kills the server and starts it again on the same address, with
// the same data and credentials, after pause: what clients see when a
// server is restarted under them.
func (s *Server) Restart(pause time.Duration) error {
	old := s.cmd
	_ = old.Process.Kill()
	<-s.exited
	time.Sleep(pause)
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.Env = old.Env
	if err := s.run(cmd); err != nil {
		return err
	}
	return s.waitReady()
}
