package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// The POSIX suite does what pjdfstest does, with a local directory as the
// oracle instead of hand-written expectations: every case builds the same
// fixture on the mount and in a local directory, runs one system call as
// root or as another user (uid 65534) on both, and compares the errno and
// the attributes of the paths it touched. The exceptions are what S3
// cannot do, each listed in SEMANTICS.md.

// posixOpEnv names the operation a re-executed test binary runs as
// another user (see runPosixOpFromEnv).
const posixOpEnv = "S3MOUNT_POSIX_OP"

// posixOp is one system call on paths under a root.
type posixOp struct {
	Name string   `json:"name"`
	Args []string `json:"args"` // paths (relative to the root) and numbers
	Mode uint32   `json:"mode"`
	N    int64    `json:"n"` // size, uid, device or flags
	M    int64    `json:"m"` // gid
}

func (o posixOp) String() string { return fmt.Sprintf("%s%v", o.Name, o.Args) }

// do runs the operation under root and returns its errno (0 on success).
func (o posixOp) do(root string) syscall.Errno {
	p := func(i int) string { return filepath.Join(root, o.Args[i]) }
	var err error
	switch o.Name {
	case "chmod":
		err = syscall.Chmod(p(0), o.Mode)
	case "chown":
		err = syscall.Chown(p(0), int(o.N), int(o.M))
	case "lchown":
		err = syscall.Lchown(p(0), int(o.N), int(o.M))
	case "mkdir":
		err = syscall.Mkdir(p(0), o.Mode)
	case "mkfifo":
		err = syscall.Mkfifo(p(0), o.Mode)
	case "mknod":
		err = syscall.Mknod(p(0), o.Mode, int(o.N))
	case "open":
		var fd int
		fd, err = syscall.Open(p(0), int(o.N), o.Mode)
		if err == nil {
			err = syscall.Close(fd)
		}
	case "rename":
		err = syscall.Rename(p(0), p(1))
	case "rmdir":
		err = syscall.Rmdir(p(0))
	case "symlink":
		err = syscall.Symlink(o.Args[0], p(1))
	case "truncate":
		err = syscall.Truncate(p(0), o.N)
	case "unlink":
		err = syscall.Unlink(p(0))
	case "utimes": // explicit times (N seconds), or UTIME_NOW when N is 0
		ts := []unix.Timespec{{Sec: o.N}, {Sec: o.N}}
		if o.N == 0 {
			ts = []unix.Timespec{{Nsec: unix.UTIME_NOW}, {Nsec: unix.UTIME_NOW}}
		}
		err = unix.UtimesNanoAt(unix.AT_FDCWD, p(0), ts, unix.AT_SYMLINK_NOFOLLOW)
	case "link":
		err = syscall.Link(p(0), p(1))
	case "write":
		var fd int
		fd, err = syscall.Open(p(0), syscall.O_WRONLY|syscall.O_APPEND, 0)
		if err == nil {
			_, err = syscall.Write(fd, []byte("more"))
			err = errors.Join(err, syscall.Close(fd))
		}
	case "read":
		_, err = os.ReadFile(p(0))
	default:
		panic("unknown posix op " + o.Name)
	}
	var errno syscall.Errno
	if err == nil {
		return 0
	}
	if errors.As(err, &errno) {
		return errno
	}
	return syscall.EIO
}

// runPosixOpFromEnv runs the operation a parent test asked for, as the
// user it was started as, prints its errno and reports whether it ran.
func runPosixOpFromEnv() bool {
	spec := os.Getenv(posixOpEnv)
	if spec == "" {
		return false
	}
	var req struct {
		Root string  `json:"root"`
		Op   posixOp `json:"op"`
	}
	if err := json.Unmarshal([]byte(spec), &req); err != nil {
		fmt.Println("bad request:", err)
		os.Exit(2)
	}
	fmt.Println(int(req.Op.do(req.Root)))
	return true
}

// posixRunner runs operations as root in this process, or as uid 65534
// in a copy of the test binary that user can execute.
type posixRunner struct {
	t   *testing.T
	bin string
}

func newPosixRunner(t *testing.T) *posixRunner {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "s3mount-posix-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	bin := filepath.Join(dir, "posix-op")
	in, err := os.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	out.Close()
	return &posixRunner{t: t, bin: bin}
}

func (r *posixRunner) run(asNobody bool, root string, op posixOp) syscall.Errno {
	if !asNobody {
		return op.do(root)
	}
	spec, _ := json.Marshal(map[string]any{"root": root, "op": op})
	cmd := exec.Command(r.bin, "-test.run=^$")
	cmd.Env = append(os.Environ(), posixOpEnv+"="+string(spec))
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	var n int
	if _, serr := fmt.Sscan(strings.TrimSpace(string(out)), &n); err != nil || serr != nil {
		r.t.Fatalf("%v as uid 65534: %v %s", op, err, out)
	}
	return syscall.Errno(n)
}

// posixFixture is the tree every case starts from, made by root:
//
//	f      0644 root, "hello"      priv   0600 root
//	d/     0755 root, holding d/g  open/  0777 root
//	own    0644 nobody             sub/   0755 root, holding sub/x/y
//	sticky/ 1777 root: mine (nobody's file), theirs (root's file), theirdir/
//	ln -> f (a symlink)
func posixFixture(t *testing.T, root string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("fixture in %s: %v", root, err)
		}
	}
	p := func(n string) string { return filepath.Join(root, n) }
	for _, d := range []string{"d", "open", "sub", "sub/x", "sticky", "sticky/theirdir"} {
		must(os.Mkdir(p(d), 0o755))
	}
	must(os.Chmod(p("open"), 0o777))
	must(os.Chmod(p("sticky"), 0o1777))
	for _, f := range []string{"f", "priv", "d/g", "own", "sub/x/y", "sticky/mine", "sticky/theirs"} {
		must(os.WriteFile(p(f), []byte("hello"), 0o644))
	}
	must(os.Chmod(p("priv"), 0o600))
	must(os.Chown(p("own"), 65534, 65534))
	must(os.Chown(p("sticky/mine"), 65534, 65534))
	must(os.Symlink("f", p("ln")))
	// One mtime in both trees: a case that compares the time of a file it
	// did not change must not see the second the fixture was made in.
	made := time.Unix(1_000_000_000, 0)
	for _, n := range []string{"f", "priv", "d/g", "own", "sub/x/y", "sticky/mine", "sticky/theirs",
		"d", "open", "sub/x", "sub", "sticky/theirdir", "sticky"} {
		must(os.Chtimes(p(n), made, made))
	}
}

// posixState describes a path after an operation: type, mode, owner and
// size (directories: no size); mtime when asked.
func posixState(root, name string, withTime bool) string {
	var st syscall.Stat_t
	if err := syscall.Lstat(filepath.Join(root, name), &st); err != nil {
		return name + ": " + err.Error()
	}
	size := st.Size
	if st.Mode&syscall.S_IFMT == syscall.S_IFDIR {
		size = 0
	}
	s := fmt.Sprintf("%s: mode %o uid %d gid %d size %d", name, st.Mode, st.Uid, st.Gid, size)
	if st.Mode&syscall.S_IFMT == syscall.S_IFCHR {
		s += fmt.Sprintf(" rdev %d", st.Rdev)
	}
	if withTime {
		s += fmt.Sprintf(" mtime %d", st.Mtim.Sec)
	}
	return s
}

type posixCase struct {
	nobody bool
	op     posixOp
	check  []string // paths whose state is compared afterwards
	times  bool     // compare mtimes too
	// mountErrno, when set, is what the mount gives instead of the local
	// result: something S3 cannot do, listed in SEMANTICS.md.
	mountErrno syscall.Errno
}

func posixCases() []posixCase {
	op := func(name string, args ...string) posixOp { return posixOp{Name: name, Args: args} }
	withMode := func(o posixOp, mode uint32) posixOp { o.Mode = mode; return o }
	withN := func(o posixOp, n, m int64) posixOp { o.N, o.M = n, m; return o }
	root, nobody := false, true
	return []posixCase{
		// chmod
		{root, withMode(op("chmod", "f"), 0), []string{"f"}, false, 0},
		{root, withMode(op("chmod", "f"), 0o4755), []string{"f"}, false, 0},
		{root, withMode(op("chmod", "d"), 0o1700), []string{"d"}, false, 0},
		{root, withMode(op("chmod", "missing"), 0o644), nil, false, 0},
		{root, withMode(op("chmod", "f/x"), 0o644), nil, false, 0},
		{nobody, withMode(op("chmod", "f"), 0o666), []string{"f"}, false, 0},
		{nobody, withMode(op("chmod", "own"), 0o600), []string{"own"}, false, 0},
		// chown
		{root, withN(op("chown", "f"), 123, 456), []string{"f"}, false, 0},
		{root, withN(op("chown", "d"), 123, 456), []string{"d"}, false, 0},
		{nobody, withN(op("chown", "f"), 65534, 65534), []string{"f"}, false, 0},
		{nobody, withN(op("chown", "own"), 0, 0), []string{"own"}, false, 0},
		{nobody, withN(op("chown", "own"), -1, 65534), []string{"own"}, false, 0},
		// mkdir
		{root, withMode(op("mkdir", "new"), 0o700), []string{"new"}, false, 0},
		{root, withMode(op("mkdir", "d"), 0o755), nil, false, 0},
		{root, withMode(op("mkdir", "missing/new"), 0o755), nil, false, 0},
		{root, withMode(op("mkdir", "f/new"), 0o755), nil, false, 0},
		{root, withMode(op("mkdir", strings.Repeat("n", 256)), 0o755), nil, false, 0},
		{nobody, withMode(op("mkdir", "d/new"), 0o755), []string{"d/new"}, false, 0},
		{nobody, withMode(op("mkdir", "open/new"), 0o750), []string{"open/new"}, false, 0},
		// mkfifo, mknod
		{root, withMode(op("mkfifo", "fifo"), 0o640), []string{"fifo"}, false, 0},
		{root, withMode(op("mkfifo", "f"), 0o640), nil, false, 0},
		{root, withN(withMode(op("mknod", "null"), syscall.S_IFCHR|0o666), int64(unix.Mkdev(1, 3)), 0), []string{"null"}, false, 0},
		{nobody, withN(withMode(op("mknod", "open/null"), syscall.S_IFCHR|0o666), int64(unix.Mkdev(1, 3)), 0), []string{"open/null"}, false, 0},
		{nobody, withMode(op("mkfifo", "open/fifo"), 0o600), []string{"open/fifo"}, false, 0},
		// open
		{root, withN(withMode(op("open", "f"), 0o644), syscall.O_CREAT|syscall.O_EXCL|syscall.O_WRONLY, 0), nil, false, 0},
		{root, withN(op("open", "missing"), syscall.O_RDONLY, 0), nil, false, 0},
		{root, withN(op("open", "d"), syscall.O_WRONLY, 0), nil, false, 0},
		{root, withN(op("open", "f"), syscall.O_RDONLY|syscall.O_DIRECTORY, 0), nil, false, 0},
		{root, withN(withMode(op("open", "made"), 0o640), syscall.O_CREAT|syscall.O_WRONLY, 0), []string{"made"}, false, 0},
		{nobody, withN(op("open", "priv"), syscall.O_RDONLY, 0), nil, false, 0},
		{nobody, withN(op("open", "f"), syscall.O_WRONLY|syscall.O_TRUNC, 0), []string{"f"}, false, 0},
		{nobody, withN(withMode(op("open", "d/made"), 0o644), syscall.O_CREAT|syscall.O_WRONLY, 0), []string{"d/made"}, false, 0},
		{nobody, withN(withMode(op("open", "open/made"), 0o600), syscall.O_CREAT|syscall.O_WRONLY, 0), []string{"open/made"}, false, 0},
		{nobody, op("read", "f"), nil, false, 0},
		{nobody, op("read", "priv"), nil, false, 0},
		{nobody, op("write", "f"), []string{"f"}, false, 0},
		{nobody, op("write", "own"), []string{"own"}, false, 0},
		// rename
		{root, op("rename", "f", "f2"), []string{"f", "f2"}, false, 0},
		{root, op("rename", "f", "priv"), []string{"f", "priv"}, false, 0},
		{root, op("rename", "d", "sub"), []string{"d", "sub/x"}, false, 0},
		{root, op("rename", "f", "d"), []string{"f", "d"}, false, 0},
		{root, op("rename", "d", "f"), []string{"f", "d"}, false, 0},
		{root, op("rename", "sub", "sub/x/in"), []string{"sub"}, false, 0},
		{root, op("rename", "d", "d2"), []string{"d", "d2", "d2/g"}, false, 0},
		{nobody, op("rename", "f", "open/f"), []string{"f", "open/f"}, false, 0},
		{nobody, op("rename", "sticky/theirs", "sticky/taken"), []string{"sticky/theirs"}, false, 0},
		{nobody, op("rename", "sticky/mine", "sticky/moved"), []string{"sticky/mine", "sticky/moved"}, false, 0},
		// rmdir
		{root, op("rmdir", "sub"), []string{"sub"}, false, 0},
		{root, op("rmdir", "f"), nil, false, 0},
		{root, op("rmdir", "missing"), nil, false, 0},
		{root, op("rmdir", "sub/x/y"), nil, false, 0},
		{nobody, op("rmdir", "sticky/theirdir"), []string{"sticky/theirdir"}, false, 0},
		// symlink
		{root, op("symlink", "some/where", "sl"), []string{"sl"}, false, 0},
		{root, op("symlink", "f", "f"), nil, false, 0},
		{nobody, op("symlink", "f", "d/sl"), []string{"d/sl"}, false, 0},
		{nobody, op("symlink", "f", "open/sl"), []string{"open/sl"}, false, 0},
		// truncate
		{root, withN(op("truncate", "f"), 100000, 0), []string{"f"}, false, 0},
		{root, withN(op("truncate", "f"), 2, 0), []string{"f"}, false, 0},
		{root, withN(op("truncate", "d"), 0, 0), nil, false, 0},
		{nobody, withN(op("truncate", "f"), 0, 0), []string{"f"}, false, 0},
		{nobody, withN(op("truncate", "own"), 1, 0), []string{"own"}, false, 0},
		// unlink
		{root, op("unlink", "f"), []string{"f"}, false, 0},
		{root, op("unlink", "d"), []string{"d"}, false, 0},
		{root, op("unlink", "missing"), nil, false, 0},
		{root, op("unlink", "ln"), []string{"ln", "f"}, false, 0},
		{nobody, op("unlink", "d/g"), []string{"d/g"}, false, 0},
		{nobody, op("unlink", "sticky/theirs"), []string{"sticky/theirs"}, false, 0},
		{nobody, op("unlink", "sticky/mine"), []string{"sticky/mine"}, false, 0},
		// utimensat
		{root, withN(op("utimes", "f"), 981173106, 0), []string{"f"}, true, 0},
		{root, withN(op("utimes", "d"), 981173106, 0), []string{"d"}, true, 0},
		{nobody, withN(op("utimes", "f"), 981173106, 0), []string{"f"}, true, 0},
		{nobody, withN(op("utimes", "own"), 981173106, 0), []string{"own"}, true, 0},
		{nobody, op("utimes", "f"), []string{"f"}, false, 0},
		// lchown of a symlink
		{root, withN(op("lchown", "ln"), 7, 8), []string{"ln", "f"}, false, 0},
		// What S3 cannot do (SEMANTICS.md): hard links.
		{root, op("link", "f", "hard"), []string{"hard"}, false, syscall.EPERM},
	}
}

// TestPOSIXSuiteAgainstALocalDirectory is the pjdfstest-style suite: each
// case on the mount must give what the same call gives in a local
// directory, as root and as another user, sticky directories included.
func TestPOSIXSuiteAgainstALocalDirectory(t *testing.T) {
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "the POSIX suite switches users and chowns: it needs root")
	}
	s := newBucketSession(t)
	mnt := openMountPoint(t)
	mountAt(t, s, mnt, "--allow-other")
	t.Cleanup(func() { unmount(t, mnt) })
	localParent, err := os.MkdirTemp("", "s3mount-posix-local-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(localParent) })
	os.Chmod(localParent, 0o755)
	runner := newPosixRunner(t)
	cases := posixCases()
	failed := 0
	for i, c := range cases {
		who := "root"
		if c.nobody {
			who = "uid 65534"
		}
		name := fmt.Sprintf("%02d %s as %s", i, c.op, who)
		ok := t.Run(name, func(t *testing.T) {
			dir := fmt.Sprintf("case%02d", i)
			local, mounted := filepath.Join(localParent, dir), filepath.Join(mnt, dir)
			for _, root := range []string{local, mounted} {
				if err := os.Mkdir(root, 0o755); err != nil {
					t.Fatal(err)
				}
				posixFixture(t, root)
			}
			want := runner.run(c.nobody, local, c.op)
			got := runner.run(c.nobody, mounted, c.op)
			if c.mountErrno != 0 {
				want = c.mountErrno
			}
			if got != want {
				t.Fatalf("errno: mount %v (%d), local %v (%d)", got, int(got), want, int(want))
			}
			if c.mountErrno != 0 {
				return
			}
			// The kernel and the mount may cache: look again after the
			// attribute cache could have expired, too, by checking twice.
			for _, p := range c.check {
				if w, g := posixState(local, p, c.times), posixState(mounted, p, c.times); w != g {
					t.Errorf("after the call: mount %q, local %q", g, w)
				}
			}
		})
		if !ok {
			failed++
		}
	}
	if failed == 0 {
		// And after a remount: what the calls stored is what S3 holds.
		unmount(t, mnt)
		mountAt(t, s, mnt, "--allow-other")
		time.Sleep(0)
		for i, c := range cases {
			if c.mountErrno != 0 || c.times && c.op.N == 0 {
				continue
			}
			dir := fmt.Sprintf("case%02d", i)
			for _, p := range c.check {
				w, g := posixState(filepath.Join(localParent, dir), p, c.times), posixState(filepath.Join(mnt, dir), p, c.times)
				if w != g {
					t.Errorf("case %02d %s after a remount: mount %q, local %q", i, c.op, g, w)
				}
			}
		}
	}
	t.Logf("%d cases, %d failed", len(cases), failed)
}
