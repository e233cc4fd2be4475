package versitygwtest

import (
	"bytes"
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
	"time"

	"github.com/s3mount/s3mount/internal/testproc"
)

// region is the region the gateway runs in; clients sign for it.
const region = "us-east-1"

// startTimeout bounds how long Launch waits for a gateway to answer.
// versitygw starts in a few tens of milliseconds; a loaded 2-core CI box
// is slower.
const startTimeout = 60 * time.Second

// Options configure Launch. The zero value starts a plain-HTTP gateway in
// a new temporary directory.
type Options struct {
	// Binary is the versitygw executable; empty means FindBinary.
	Binary string
	// Dir holds the gateway's buckets, certificate and log. Empty means a
	// new temporary directory that Stop removes.
	Dir string
	// CertFile and KeyFile, when set, make the gateway speak HTTPS with
	// this certificate (PEM) and key (PEM).
	CertFile, KeyFile string
}

// Gateway is a running versitygw with its posix backend.
type Gateway struct {
	Endpoint  string // http://127.0.0.1:PORT, or https://… with TLS
	AccessKey string
	SecretKey string
	Region    string
	// Version is the gateway's version: what `versitygw --version` says,
	// or, for a build that does not know it, the install script's marker
	// or the module version recorded in the binary.
	Version string
	// CertFile is the certificate clients must trust for an HTTPS
	// gateway, empty for plain HTTP.
	CertFile string
	// LogFile receives the gateway's stdout and stderr: its banner, one
	// line per request (status, method, path) and any fatal error.
	LogFile string

	dataDir  string // the posix backend's root: one subdirectory per bucket
	removeOn string // directory Stop removes, when Launch created it
	client   *http.Client

	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been reaped
	stopped bool
}

// Launch starts a gateway and waits until it answers a ListBuckets signed
// with its credentials. The caller must call Stop. A port lost to another
// process between choosing and binding it is retried on a new port.
func Launch(opts Options) (*Gateway, error) {
	if opts.Binary == "" {
		bin, err := FindBinary()
		if err != nil {
			return nil, err
		}
		opts.Binary = bin
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("TLS needs both a certificate and a key file")
	}
	// Every path must be absolute: versitygw chdirs into the posix root
	// before it opens the certificate, and the process starts in Dir.
	var err error
	if !strings.ContainsRune(opts.Binary, filepath.Separator) {
		if opts.Binary, err = exec.LookPath(opts.Binary); err != nil {
			return nil, err
		}
	}
	if opts.Binary, err = filepath.Abs(opts.Binary); err != nil {
		return nil, err
	}
	for _, p := range []*string{&opts.CertFile, &opts.KeyFile} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	version := binaryVersion(opts.Binary)
	removeOn := ""
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "versitygwtest-")
		if err != nil {
			return nil, err
		}
		opts.Dir, removeOn = dir, dir
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	return testproc.Launch(removeOn, func(try int) (*Gateway, error) {
		g, err := launchOnce(opts, try)
		if err != nil {
			return nil, err
		}
		g.Version = version
		g.removeOn = removeOn
		return g, nil
	})
}

func launchOnce(opts Options, try int) (*Gateway, error) {
	// Each try gets its own directory so a half-started gateway cannot
	// leave state behind for the next.
	base := filepath.Join(opts.Dir, fmt.Sprintf("versitygw%d", try))
	dataDir := filepath.Join(base, "data")
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, err
	}
	g := &Gateway{
		AccessKey: "s3mount-" + testproc.RandomHex(4),
		SecretKey: testproc.RandomHex(16),
		Region:    region,
		LogFile:   filepath.Join(base, "versitygw.log"),
		dataDir:   dataDir,
		client: &http.Client{
			Timeout: 5 * time.Second,
			Transport: &http.Transport{
				// Readiness and test set-up only: the random credentials,
				// not the certificate, prove that the gateway is ours.
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test helper, see above
			},
		},
	}
	port, err := pickPort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)

	// Global options come before the backend's name, the backend's after.
	// --keep-alive because versitygw otherwise closes the connection after
	// every response, and a mount under test makes thousands of requests:
	// each would cost a handshake and leave a socket in TIME_WAIT. Request
	// logging stays on (no --quiet): one line per request is what a failed
	// test's LogTail should show.
	args := []string{"--port", addr, "--region", region, "--keep-alive"}
	scheme := "http"
	if opts.CertFile != "" {
		certFile, keyFile, err := installCert(base, opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, err
		}
		args = append(args, "--cert", certFile, "--key", keyFile)
		scheme = "https"
		g.CertFile = certFile
	}
	args = append(args, "posix", dataDir)
	g.Endpoint = scheme + "://" + addr

	cmd := exec.Command(opts.Binary, args...)
	// From scratch: versitygw reads every option from VGW_* variables too,
	// so the caller's environment must not reach it. The keys travel here
	// rather than in argv, where every user's ps would show them.
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + base,
		"ROOT_ACCESS_KEY_ID=" + g.AccessKey,
		"ROOT_SECRET_ACCESS_KEY=" + g.SecretKey,
	}
	cmd.Dir = base
	g.mu.Lock()
	err = g.runLocked(cmd)
	exited := g.exited
	g.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if err := g.waitReady(exited); err != nil {
		g.kill()
		tail := g.LogTail(2048)
		if strings.Contains(tail, "address already in use") {
			return nil, fmt.Errorf("%w: %s", testproc.ErrPortTaken, addr)
		}
		return nil, fmt.Errorf("versitygw at %s: %w\n%s", addr, err, tail)
	}
	return g, nil
}

// waitReady polls until a signed ListBuckets succeeds. Only our process
// knows the random credentials, so success also proves the port is ours.
func (g *Gateway) waitReady(exited <-chan struct{}) error {
	// A probe must not outlive the process: on a port that another
	// program holds, it would wait for an answer that never comes.
	alive, died := context.WithTimeout(context.Background(), startTimeout)
	defer died()
	go func() {
		select {
		case <-exited:
			died()
		case <-alive.Done():
		}
	}()
	var lastErr error
	for alive.Err() == nil {
		ctx, cancel := context.WithTimeout(alive, 2*time.Second)
		resp, err := g.do(ctx, http.MethodGet, "/", nil)
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
		select {
		case <-alive.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-exited:
		return errors.New("exited during startup")
	default:
	}
	return fmt.Errorf("not ready after %v: %v", startTimeout, lastErr)
}

// Stop kills the gateway, waits for it to exit, and removes the directory
// Launch created. It is safe to call more than once.
func (g *Gateway) Stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	g.stopped = true
	// The data is throw-away: there is nothing to shut down cleanly.
	g.killLocked()
	if g.removeOn != "" {
		os.RemoveAll(g.removeOn)
	}
}

func (g *Gateway) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.killLocked()
}

func (g *Gateway) killLocked() {
	if g.cmd != nil && g.cmd.Process != nil {
		_ = g.cmd.Process.Kill()
		<-g.exited
	}
}

// Restart kills the gateway and starts it again on the same address, with
// the same buckets, objects and credentials, after pause: what clients see
// when a gateway is restarted under them.
func (g *Gateway) Restart(pause time.Duration) error {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return errors.New("restart: the gateway has been stopped")
	}
	old := g.cmd
	g.killLocked()
	time.Sleep(pause)
	cmd := exec.Command(old.Path, old.Args[1:]...)
	cmd.Env, cmd.Dir = old.Env, old.Dir
	g.appendLog(fmt.Sprintf("--- versitygwtest: killed, restarting after %v ---\n", pause))
	err := g.runLocked(cmd)
	exited := g.exited
	g.mu.Unlock()
	if err != nil {
		return err
	}
	if err := g.waitReady(exited); err != nil {
		return fmt.Errorf("restart versitygw at %s: %w\n%s", g.Endpoint, err, g.LogTail(2048))
	}
	return nil
}

// LogTail returns up to the last n bytes of the gateway's log, starting at
// a line.
func (g *Gateway) LogTail(n int) string {
	b, err := os.ReadFile(g.LogFile)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}

func (g *Gateway) appendLog(line string) {
	f, err := os.OpenFile(g.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	f.WriteString(line)
	f.Close()
}

// runLocked starts cmd as the gateway's process, logging to its log file.
func (g *Gateway) runLocked(cmd *exec.Cmd) error {
	logf, err := os.OpenFile(g.LogFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = testproc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	g.cmd = cmd
	exited := make(chan struct{})
	g.exited = exited
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	return nil
}

// installCert copies the certificate and key into the gateway's directory,
// so that the gateway and its CertFile outlive the caller's copies.
func installCert(base, certFile, keyFile string) (cert, key string, err error) {
	cert = filepath.Join(base, "cert.pem")
	key = filepath.Join(base, "key.pem")
	for src, dst := range map[string]string{certFile: cert, keyFile: key} {
		b, err := os.ReadFile(src)
		if err != nil {
			return "", "", err
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			return "", "", err
		}
	}
	return cert, key, nil
}

// pickPort is freePort, replaced by a test that loses the race on purpose.
var pickPort = freePort

// freePort returns a loopback port that was free a moment ago.
func freePort() (int, error) {
	ports, err := testproc.FreePorts(1)
	if err != nil {
		return 0, err
	}
	return ports[0], nil
}
