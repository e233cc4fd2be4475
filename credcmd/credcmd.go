package credcmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/s3mount/s3mount/s3io"
)

// DefaultTimeout bounds one run of the command. It is below the mount-time
// probe's 30 s, so that a hanging command is reported as such.
const DefaultTimeout = 20 * time.Second

const (
	maxStdout = 64 << 10 // credential_process JSON is a few hundred bytes
	maxStderr = 4 << 10
	// maxStderrLine bounds the part of stderr shown to the user.
	maxStderrLine = 200
)

// secretEnv are the variables the command does not inherit: it has no use
// for this process's keys, and a command that leaks its environment (into
// a log, a child, a crash report) must not leak them.
var secretEnv = []string{"AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"}

// Command is a credentials command.
type Command struct {
	// Line is run with /bin/sh -c.
	Line string
	// Timeout bounds one run; zero means DefaultTimeout.
	Timeout time.Duration
	// Env is the command's environment; nil means this process's
	// environment without secretEnv.
	Env []string
	// Credential, when set, runs the command as that user (uid, gid and
	// supplementary groups): a --per-user mount runs it for each user as
	// them. Dir is its working directory ("": this process's).
	Credential *syscall.Credential
	Dir        string
}

// Error is a run that gave no keys. Error() says why without quoting the
// command's output; Stderr is the last line of what it wrote to stderr
// when it failed (exit status, signal, timeout), for the user who started
// the mount, and never belongs in a log line.
type Error struct {
	Reason string
	Stderr string
	Err    error
}

func (e *Error) Error() string { return "credentials command: " + e.Reason }
func (e *Error) Unwrap() error { return e.Err }

// Fetch runs the command once and returns the keys it printed.
func (c *Command) Fetch(ctx context.Context) (s3io.Credentials, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	runCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "/bin/sh", "-c", c.Line)
	cmd.Env = c.Env
	if cmd.Env == nil {
		cmd.Env = withoutSecrets(os.Environ())
	}
	stdout := &capped{max: maxStdout}
	stderr := &capped{max: maxStderr, tail: true}
	cmd.Stdout, cmd.Stderr = stdout, stderr // stdin: /dev/null
	// A shell's children may hold stdout open after it is killed: kill the
	// whole group, and stop waiting for the pipes soon after.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.Credential}
	cmd.Dir = c.Dir
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	defer clear(stdout.buf) // best effort: no copy of the secret left in this buffer

	if err != nil {
		e := &Error{Err: err, Stderr: lastLine(stderr.buf)}
		var ee *exec.ExitError
		switch {
		case ctx.Err() != nil:
			e.Reason, e.Err = ctx.Err().Error(), ctx.Err()
		case runCtx.Err() != nil:
			e.Reason, e.Err = fmt.Sprintf("timed out after %v", timeout), context.DeadlineExceeded
		case errors.As(err, &ee):
			e.Reason = ee.ProcessState.String() // "exit status 3", "signal: killed"
		case errors.Is(err, exec.ErrWaitDelay):
			// It exited 0 but left a child holding its output open.
			e.Reason = "exited but its output stayed open (a background child?)"
		default:
			e.Reason = err.Error()
		}
		return s3io.Credentials{}, e
	}
	if stdout.over {
		return s3io.Credentials{}, &Error{Reason: fmt.Sprintf("printed more than %d bytes", maxStdout)}
	}
	creds, err := Parse(stdout.buf)
	if err != nil {
		return s3io.Credentials{}, &Error{Reason: err.Error(), Err: err}
	}
	return creds, nil
}

func withoutSecrets(env []string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		secret := false
		for _, s := range secretEnv {
			secret = secret || name == s
		}
		if !secret {
			out = append(out, kv)
		}
	}
	return out
}

// lastLine is the last non-empty line of b, shortened, with control
// characters replaced, for a one-line message.
func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	s := strings.TrimSpace(lines[len(lines)-1])
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if len(s) > maxStderrLine {
		s = s[:maxStderrLine] + "…"
	}
	return s
}

// capped keeps at most max bytes, the first ones or (tail) the last ones,
// and notes whether more came.
type capped struct {
	buf  []byte
	max  int
	tail bool
	over bool
}

func (c *capped) Write(p []byte) (int, error) {
	n := len(p)
	if len(c.buf)+len(p) <= c.max {
		c.buf = append(c.buf, p...)
		return n, nil
	}
	c.over = true
	if !c.tail {
		c.buf = append(c.buf, p[:c.max-len(c.buf)]...)
		return n, nil
	}
	c.buf = append(c.buf, p...)
	c.buf = append(c.buf[:0], c.buf[len(c.buf)-c.max:]...)
	return n, nil
}
