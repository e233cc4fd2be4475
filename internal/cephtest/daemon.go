package cephtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/s3mount/s3mount/internal/testproc"
)

// daemon is one Ceph process of the cluster.
type daemon struct {
	name    string // the command: ceph-mon, ceph-osd, radosgw
	logFile string
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has been reaped
	killed  atomic.Bool   // we killed it: its exit is no news
}

// start runs a daemon in the foreground (-d: no fork, log to stderr),
// with its output in log/NAME.out.
func (g *Gateway) start(name string, args ...string) (*daemon, error) {
	d := &daemon{name: name, logFile: filepath.Join(g.dir, "log", name+".out")}
	cmd := exec.Command(name, append([]string{"-c", g.conf, "-d"}, args...)...)
	if err := g.run(d, cmd); err != nil {
		return nil, err
	}
	return d, nil
}

// run starts cmd as d's process, logging to d's log file.
func (g *Gateway) run(d *daemon, cmd *exec.Cmd) error {
	logf, err := os.OpenFile(d.logFile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	defer logf.Close() // the child holds its own descriptor
	cmd.Env, cmd.Dir = g.env, g.dir
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = testproc.SysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("run %s: %w", cmd.Path, err)
	}
	d.cmd = cmd
	d.exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(d.exited)
		if !d.killed.Load() {
			g.deadOnce.Do(func() { close(g.dead) })
		}
	}()
	g.note(fmt.Sprintf("started %s, pid %d", strings.Join(cmd.Args, " "), cmd.Process.Pid))
	return nil
}

// tool runs a command to its end and returns its stdout. It gives up at
// startTimeout, or as soon as a daemon dies: radosgw-admin waiting for a
// dead OSD would otherwise wait for its whole timeout.
func (g *Gateway) tool(name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, append([]string{"-c", g.conf}, args...)...)
	cmd.Env, cmd.Dir = g.env, g.dir
	cmd.SysProcAttr = testproc.SysProcAttr()
	cmd.WaitDelay = time.Second // a killed tool's output pipe closes with it
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("run %s: %w", name, err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	var err error
	select {
	case err = <-waited:
	case <-g.dead:
		cancel()
		<-waited
		err = errors.New("a daemon exited while it ran")
	}
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("no answer after %v", startTimeout)
	}
	line := name + " " + strings.Join(args, " ")
	if name == "radosgw-admin" {
		line = name + " user create --uid=" + userID // keep the secret key out of the log
	}
	g.note(fmt.Sprintf("%s: %v in %v\n%s", line, errOrOK(err), time.Since(began).Round(time.Millisecond), stderr.Bytes()))
	if err != nil {
		return "", fmt.Errorf("%s: %w\n%s", line, err, testproc.LastLines(stderr.Bytes(), 2048))
	}
	return stdout.String(), nil
}

func errOrOK(err error) any {
	if err == nil {
		return "ok"
	}
	return err
}

// note appends a line to log/cephtest.log: what Launch ran, when, and how
// long it took, for whoever reads a failed or slow start.
func (g *Gateway) note(s string) {
	f, err := os.OpenFile(filepath.Join(g.dir, "log", "cephtest.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%s %s\n", time.Now().Format("15:04:05.000"), strings.TrimRight(s, "\n"))
}

// killAll sends SIGKILL to every daemon (gateway first, monitor last) and
// then waits for all of them.
func (g *Gateway) killAll() {
	g.mu.Lock()
	defer g.mu.Unlock()
	ds := g.daemonsLocked()
	for _, d := range ds {
		d.killed.Store(true)
		_ = d.cmd.Process.Kill()
	}
	for _, d := range ds {
		<-d.exited
	}
}

// daemonsLocked lists the started daemons, gateway first.
func (g *Gateway) daemonsLocked() []*daemon {
	var ds []*daemon
	for _, d := range []*daemon{g.rgw, g.osd, g.mon} {
		if d != nil {
			ds = append(ds, d)
		}
	}
	return ds
}

// pids returns the process ids of the daemons, for tests that check that
// Stop leaves none.
func (g *Gateway) pids() map[string]int {
	g.mu.Lock()
	defer g.mu.Unlock()
	m := map[string]int{}
	for _, d := range g.daemonsLocked() {
		m[d.name] = d.cmd.Process.Pid
	}
	return m
}

// logTail returns up to the last n bytes of a daemon's log. A daemon run
// with -d follows every entry with an empty line; those are dropped first
// so that they do not take half of n.
func logTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	for bytes.Contains(b, []byte("\n\n")) {
		b = bytes.ReplaceAll(b, []byte("\n\n"), []byte("\n"))
	}
	return testproc.LastLines(b, n)
}

func appendLine(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return
	}
	defer f.Close()
	f.WriteString(line + "\n")
}

// cleanEnv is the start of every command's environment, which is built
// from scratch: CEPH_ARGS, CEPH_CONF or a HOME with a ~/.ceph from the
// caller must not reach the cluster.
func cleanEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "LANG=C.UTF-8"}
}
