package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// daemonEnv tells the background process which file descriptor reports
// readiness to the waiting parent. It is internal, not a user setting.
const daemonEnv = "S3MOUNT_READY_FD"

func isDaemonChild() bool { return os.Getenv(daemonEnv) != "" }

// startDaemon starts this program again in the background, detached from
// the terminal, and returns only when it reports that the mount is ready
// (exit 0) or why it failed (its exit code). The arguments are passed
// unchanged: no secret is ever on a command line.
func startDaemon(ctx context.Context, stderr io.Writer) int {
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "s3mount: %v\n", err)
		return exitError
	}
	defer r.Close()
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "s3mount: cannot find own executable: %v\n", err)
		return exitError
	}
	devnull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "s3mount: %v\n", err)
		return exitError
	}
	defer devnull.Close()

	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = os.Args[0] // keep the mount-helper name, if that is how we were called
	cmd.Env = append(os.Environ(), daemonEnv+"=3")
	cmd.ExtraFiles = []*os.File{w}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = devnull, devnull, devnull
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		w.Close()
		fmt.Fprintf(stderr, "s3mount: starting the background process: %v\n", err)
		return exitError
	}
	w.Close()

	line, _ := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSuffix(line, "\n")
	if line == "ok" {
		_ = cmd.Process.Release()
		return exitOK
	}
	if rest, ok := strings.CutPrefix(line, "fail "); ok {
		codeStr, msg, _ := strings.Cut(rest, " ")
		code, err := strconv.Atoi(codeStr)
		if err != nil || code == 0 {
			code = exitError
		}
		fmt.Fprintf(stderr, "s3mount: %s\n", msg)
		_ = cmd.Wait()
		return code
	}
	err = cmd.Wait()
	fmt.Fprintf(stderr, "s3mount: the background process ended before mounting (%v)\n", err)
	return exitError
}

// readiness is the background process's end of the pipe to its parent; nil
// in the foreground.
type readiness struct{ f *os.File }

func readinessReporter() *readiness {
	v := os.Getenv(daemonEnv)
	if v == "" {
		return nil
	}
	os.Unsetenv(daemonEnv)
	fd, err := strconv.Atoi(v)
	if err != nil {
		return nil
	}
	return &readiness{f: os.NewFile(uintptr(fd), "ready")}
}

func (r *readiness) ok() {
	if r == nil || r.f == nil {
		return
	}
	fmt.Fprintln(r.f, "ok")
	r.f.Close()
	r.f = nil
}

func (r *readiness) failed(code int, err error) {
	if r == nil || r.f == nil {
		return
	}
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	fmt.Fprintf(r.f, "fail %d %s\n", code, msg)
	r.f.Close()
	r.f = nil
}
