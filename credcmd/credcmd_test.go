package credcmd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFetchRunsTheCommandThroughTheShell(t *testing.T) {
	c := &Command{Line: `printf '%s %s\n' AK "$(echo SK)"`}
	got, err := c.Fetch(context.Background())
	if err != nil || got.AccessKeyID != "AK" || got.SecretAccessKey != "SK" {
		t.Fatalf("Fetch = %#v, %v", got, err)
	}
}

func TestAFailingCommandSaysWhyAndKeepsItsStderrApart(t *testing.T) {
	c := &Command{Line: `echo 'AK leaked-on-stdout'; echo 'noise' >&2; echo 's3info: not logged in (run kinit)' >&2; exit 3`}
	_, err := c.Fetch(context.Background())
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("Fetch = %v, want an *Error", err)
	}
	if err.Error() != "credentials command: exit status 3" {
		t.Errorf("Error() = %q", err.Error())
	}
	if e.Stderr != "s3info: not logged in (run kinit)" {
		t.Errorf("Stderr = %q, want its last line", e.Stderr)
	}
	if strings.Contains(err.Error(), "leaked") || strings.Contains(e.Stderr, "leaked") {
		t.Errorf("stdout shows in the error")
	}
}

func TestAHangingCommandIsKilledWithItsChildren(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// The child keeps stdout open: the whole group must die.
	c := &Command{Line: `sleep 60 & echo $! > ` + pidFile + `; wait`, Timeout: 300 * time.Millisecond}
	start := time.Now()
	_, err := c.Fetch(context.Background())
	if err == nil || !strings.Contains(err.Error(), "timed out after 300ms") {
		t.Fatalf("Fetch = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Fetch returned after %v", d)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("the error does not wrap DeadlineExceeded: %v", err)
	}
	b, _ := os.ReadFile(pidFile)
	pid := strings.TrimSpace(string(b))
	deadline := time.Now().Add(3 * time.Second)
	for {
		st, err := os.ReadFile("/proc/" + pid + "/stat")
		if err != nil || strings.Contains(string(st), ") Z ") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the command's child %s still runs", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestTheCommandGetsNoSecretsAndNoStdin(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
	t.Setenv("AWS_SESSION_TOKEN", "env-token")
	t.Setenv("AWS_PROFILE", "site")
	c := &Command{Line: `env > "$OUT"; cat > "$OUT.stdin"; echo AK SK`}
	out := filepath.Join(t.TempDir(), "env")
	t.Setenv("OUT", out)
	if _, err := c.Fetch(context.Background()); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(out)
	if strings.Contains(string(env), "env-secret") || strings.Contains(string(env), "env-token") {
		t.Errorf("the command's environment holds a secret:\n%s", env)
	}
	if !strings.Contains(string(env), "AWS_PROFILE=site") {
		t.Errorf("the command lost the rest of the environment:\n%s", env)
	}
	if in, _ := os.ReadFile(out + ".stdin"); len(in) != 0 {
		t.Errorf("the command read %q from stdin", in)
	}
}

func TestOutputErrorsAndHugeOutput(t *testing.T) {
	for line, says := range map[string]string{
		`echo onlyone`:                         "1 words",
		`true`:                                 "printed nothing",
		`head -c 100000 /dev/zero | tr '\0' a`: "more than",
	} {
		_, err := (&Command{Line: line}).Fetch(context.Background())
		if err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s: %v, want %q", line, err, says)
		}
	}
}
