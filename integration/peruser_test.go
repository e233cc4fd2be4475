package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
	"github.com/s3mount/s3mount/internal/s3test"
)

// localUser is a real user of this machine, made by the test.
type localUser struct {
	name     string
	uid, gid uint32
	home     string
}

// addLocalUser makes a local user (useradd -M) with a home of its own,
// and removes both when the test ends. It skips without root or useradd
// (and fails then under S3MOUNT_TEST_REQUIRE=1).
func addLocalUser(t *testing.T, role string) localUser {
	t.Helper()
	if os.Geteuid() != 0 {
		miniotest.SkipOrFail(t, "making local users needs root")
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		miniotest.SkipOrFail(t, "making local users needs useradd: "+err.Error())
	}
	name := fmt.Sprintf("s3mt-%s-%d", role, os.Getpid())
	home, err := os.MkdirTemp("", name+"-home-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	_ = exec.Command("userdel", name).Run() // left by a killed run
	if out, err := exec.Command("useradd", "-M", "-d", home, "-s", "/bin/sh", "-U", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd %s: %v: %s", name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("userdel", name).CombinedOutput(); err != nil {
			t.Errorf("userdel %s: %v: %s", name, err, out)
		}
	})
	id := func(flag string) uint32 {
		out, err := exec.Command("id", flag, name).Output()
		if err != nil {
			t.Fatalf("id %s %s: %v", flag, name, err)
		}
		n, err := strconv.ParseUint(strings.TrimSpace(string(out)), 10, 32)
		if err != nil {
			t.Fatal(err)
		}
		return uint32(n)
	}
	u := localUser{name: name, uid: id("-u"), gid: id("-g"), home: home}
	if err := os.Chown(home, int(u.uid), int(u.gid)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(home, 0o755); err != nil {
		t.Fatal(err)
	}
	return u
}

// writeFileAs writes a file of u's (mode 0600) in their home.
func (u localUser) writeFile(t *testing.T, name, content string) {
	t.Helper()
	p := filepath.Join(u.home, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(p, int(u.uid), int(u.gid)); err != nil {
		t.Fatal(err)
	}
}

// run runs a tool as u; it returns stdout, and stderr joined to the
// error when it fails.
func (u localUser) run(name string, args ...string) (string, error) {
	cmd := exec.Command(name, args...)
	cmd.Dir = "/"
	cmd.Env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + u.home, "USER=" + u.name, "LC_ALL=C"}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: u.uid, Gid: u.gid}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	out, err := cmd.Output()
	if err != nil {
		return string(out), fmt.Errorf("%s %s as %s: %v: %s", name, strings.Join(args, " "), u.name, err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}

func (u localUser) must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := u.run(name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// mustFail checks that the tool fails as u with "Permission denied" (or
// want, when given) in its stderr.
func (u localUser) mustFail(t *testing.T, want string, name string, args ...string) {
	t.Helper()
	out, err := u.run(name, args...)
	if err == nil {
		t.Fatalf("%s %s as %s succeeded (%q), want %q", name, strings.Join(args, " "), u.name, out, want)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("%v; want %q", err, want)
	}
}

// sharedTempDir is a directory every user can read (t.TempDir's parent is
// root's only).
func sharedTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "s3mt-shared-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// perUserMount mounts srv with --per-user (as root, with no keys of its
// own), staging in staging, and returns the mount point and the log file.
func perUserMount(t *testing.T, srv *s3test.Server, staging string, flags ...string) (mnt, logFile string) {
	t.Helper()
	mnt = sharedTempDir(t)
	logFile = filepath.Join(t.TempDir(), "s3mount.log")
	args := append(serverArgs(srv), "--staging-dir", staging, "--log-file", logFile, "--per-user", "--allow-other")
	args = append(append(args, flags...), mnt)
	cmd := exec.Command(env.bin, args...)
	cmd.Env = keylessEnv(t)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("s3mount %s: %v: %s", strings.Join(args, " "), err, out)
	}
	t.Cleanup(func() { unmount(t, mnt) })
	return mnt, logFile
}

// bucketPolicy is an IAM policy document of statements (action list,
// resource list).
func bucketPolicy(statements ...[2][]string) string {
	var parts []string
	for _, s := range statements {
		parts = append(parts, fmt.Sprintf(`{"Effect":"Allow","Action":["%s"],"Resource":["%s"]}`,
			strings.Join(s[0], `","`), strings.Join(s[1], `","`)))
	}
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(parts, ",") + `]}`
}

// TestPerUserMountIsolatesUsers mounts one --per-user tree for three real
// local users: alice (keys in ~/.passwd-s3fs, readwrite on bucket A), bob
// (keys from the site's credentials command run as him; may read A's pub/
// only, readwrite on B), carol (no keys: the command fails for her) and
// dave (a ~/.passwd-s3fs others may read: refused). Each reads, writes, lists and
// signs with their own keys only, including right after another user has
// read the same object through the same mount.
func TestPerUserMountIsolatesUsers(t *testing.T) {
	srv := rotationServer(t)
	alice, bob, carol := addLocalUser(t, "alice"), addLocalUser(t, "bob"), addLocalUser(t, "carol")
	dave := addLocalUser(t, "dave") // keys in a password file others may read
	a, b := serverSession(t, srv), serverSession(t, srv)
	a.put("priv.txt", []byte("alice's secret"))
	a.put("pub/x", []byte("public in A"))
	b.put("bobs.txt", []byte("bob's file"))

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	tag := strconv.Itoa(os.Getpid())
	arn := func(bucket, key string) string { return "arn:aws:s3:::" + bucket + key }
	policies := map[string]string{
		"pu-alice-" + tag: bucketPolicy([2][]string{{"s3:*"}, {arn(a.bucket, ""), arn(a.bucket, "/*")}}),
		"pu-bob-" + tag: bucketPolicy(
			[2][]string{{"s3:ListBucket", "s3:GetBucketLocation"}, {arn(a.bucket, "")}},
			[2][]string{{"s3:GetObject"}, {arn(a.bucket, "/pub/*")}},
			[2][]string{{"s3:*"}, {arn(b.bucket, ""), arn(b.bucket, "/*")}}),
	}
	for name, doc := range policies {
		if err := srv.SetMinIOPolicy(ctx, name, doc); err != nil {
			t.Fatal(err)
		}
	}
	aliceKey, bobKey := "pualice"+tag, "pubob"+tag
	if err := srv.SetMinIOUser(ctx, aliceKey, "alice-secret-"+tag, "pu-alice-"+tag); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetMinIOUser(ctx, bobKey, "bob-secret-"+tag, "pu-bob-"+tag); err != nil {
		t.Fatal(err)
	}
	alice.writeFile(t, ".passwd-s3fs", aliceKey+":alice-secret-"+tag+"\n")
	dave.writeFile(t, ".passwd-s3fs", aliceKey+":alice-secret-"+tag+"\n")
	if err := os.Chmod(filepath.Join(dave.home, ".passwd-s3fs"), 0o644); err != nil {
		t.Fatal(err)
	}
	bob.writeFile(t, ".site-keys", bobKey+" bob-secret-"+tag+"\n")
	// The site's command: it notes who ran it, then prints the keys in the
	// user's home (carol has none: it fails for her).
	shared := sharedTempDir(t)
	site := filepath.Join(shared, "site-keys")
	script := "#!/bin/sh\necho \"$(id -u) $(id -g) $USER $LOGNAME $HOME $(pwd)\" > \"$HOME/ran\"\nexec cat \"$HOME/.site-keys\"\n"
	if err := os.WriteFile(site, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(t.TempDir(), "staging")
	mnt, logFile := perUserMount(t, srv, staging, "--credentials-command", site)
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(logFile)
			t.Logf("log:\n%s", b)
		}
	})
	home := func(u localUser, rel string) string { return filepath.Join(mnt, u.name, rel) }
	// A user's objects may carry any mode and owner (s3fs metadata): a
	// setuid-root file in one's own bucket must not make root.
	if opts := mountOptionsOf(t, mnt); !strings.Contains(","+opts+",", ",nosuid,") || !strings.Contains(","+opts+",", ",nodev,") {
		t.Fatalf("the per-user mount's options are %q, want nosuid and nodev", opts)
	}

	// The root lists each user their own directory only, and nothing to
	// a user without keys.
	if got := alice.must(t, "ls", mnt); got != alice.name+"\n" {
		t.Fatalf("ls %s as alice: %q, want only her directory", mnt, got)
	}
	if got := bob.must(t, "ls", mnt); got != bob.name+"\n" {
		t.Fatalf("ls %s as bob: %q, want only his directory", mnt, got)
	}
	if got := carol.must(t, "ls", mnt); got != "" {
		t.Fatalf("ls %s as carol (no keys): %q, want nothing", mnt, got)
	}
	if got := alice.must(t, "stat", "-c", "%a %U", filepath.Join(mnt, alice.name)); got != "700 "+alice.name+"\n" {
		t.Fatalf("alice's directory: %q, want 700 and hers", got)
	}
	if got := bob.must(t, "cat", filepath.Join(bob.home, "ran")); got != fmt.Sprintf("%d %d %s %s %s %s\n", bob.uid, bob.gid, bob.name, bob.name, bob.home, bob.home) {
		t.Fatalf("the credentials command ran as %q, want bob's uid, gid, USER, LOGNAME, HOME and working directory", got)
	}

	// Listings: each sees the buckets of their own keys.
	if got := alice.must(t, "ls", filepath.Join(mnt, alice.name)); got != a.bucket+"\n" {
		t.Fatalf("alice's buckets: %q, want only %s", got, a.bucket)
	}
	if got := bob.must(t, "ls", filepath.Join(mnt, bob.name)); got != a.bucket+"\n"+b.bucket+"\n" && got != b.bucket+"\n"+a.bucket+"\n" {
		t.Fatalf("bob's buckets: %q, want %s and %s", got, a.bucket, b.bucket)
	}
	alice.mustFail(t, "No such file", "ls", home(alice, b.bucket))

	// Reads, through the cache: alice reads her private file; bob, right
	// after, is refused it (his keys may not read it).
	if got := alice.must(t, "cat", home(alice, a.bucket+"/priv.txt")); got != "alice's secret" {
		t.Fatalf("alice reads %q", got)
	}
	bob.mustFail(t, "Permission denied", "cat", home(bob, a.bucket+"/priv.txt"))
	bob.mustFail(t, "Permission denied", "getfattr", "-n", "s3.etag", home(bob, a.bucket+"/priv.txt"))
	for _, u := range []localUser{bob, alice} {
		if got := u.must(t, "cat", home(u, a.bucket+"/pub/x")); got != "public in A" {
			t.Fatalf("%s reads pub/x: %q", u.name, got)
		}
	}
	ia := alice.must(t, "stat", "-c", "%i", home(alice, a.bucket+"/pub/x"))
	ib := bob.must(t, "stat", "-c", "%i", home(bob, a.bucket+"/pub/x"))
	if ia == ib {
		t.Fatalf("alice's and bob's pub/x share inode %s: the kernel would share its page cache", ia)
	}

	// Root gets nothing of what alice's keys fetched, even with the kernel
	// holding her entries (it would let root through her 0700 directory).
	for _, p := range []string{filepath.Join(mnt, alice.name), home(alice, a.bucket)} {
		if _, err := os.ReadDir(p); !errors.Is(err, os.ErrPermission) {
			t.Errorf("root lists %s: %v, want EACCES", p, err)
		}
	}
	for _, p := range []string{home(alice, a.bucket+"/priv.txt"), home(alice, a.bucket+"/pub/x")} {
		if _, err := os.ReadFile(p); !errors.Is(err, os.ErrPermission) {
			t.Errorf("root reads %s: %v, want EACCES", p, err)
		}
	}
	if _, err := exec.Command("getfattr", "-n", "s3.etag", home(alice, a.bucket+"/priv.txt")).Output(); err == nil {
		t.Error("root reads an xattr of alice's priv.txt")
	}
	if ents, err := os.ReadDir(mnt); err != nil || len(ents) != 0 {
		t.Errorf("root lists the mount's root: %v, %v; want nothing", ents, err)
	}

	// Another user's directory, and carol's own, are refused.
	bob.mustFail(t, "Permission denied", "ls", filepath.Join(mnt, alice.name))
	alice.mustFail(t, "Permission denied", "cat", home(bob, b.bucket+"/bobs.txt"))
	carol.mustFail(t, "Permission denied", "ls", filepath.Join(mnt, carol.name))
	carol.mustFail(t, "Permission denied", "ls", filepath.Join(mnt, carol.name))
	carol.mustFail(t, "Permission denied", "ls", filepath.Join(mnt, alice.name))
	dave.mustFail(t, "Permission denied", "ls", filepath.Join(mnt, dave.name))

	// Writes: each as their policy allows.
	src := filepath.Join(shared, "src")
	if err := os.WriteFile(src, []byte("written"), 0o644); err != nil {
		t.Fatal(err)
	}
	alice.must(t, "cp", src, home(alice, a.bucket+"/by-alice"))
	bob.must(t, "cp", src, home(bob, b.bucket+"/by-bob"))
	bob.mustFail(t, "ermission denied", "cp", src, home(bob, a.bucket+"/by-bob"))
	if got := string(a.get("by-alice")); got != "written" {
		t.Fatalf("S3 has %q for alice's file", got)
	}
	if got := string(b.get("by-bob")); got != "written" {
		t.Fatalf("S3 has %q for bob's file", got)
	}
	if keys := a.list(""); strings.Contains(strings.Join(keys, " "), "by-bob") {
		t.Fatalf("bob's refused write reached A: %q", keys)
	}
	st, err := os.Stat(filepath.Join(staging, "uid-"+strconv.Itoa(int(alice.uid))))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("alice's staging directory: %v, %v; want one of mode 0700", st, err)
	}

	// Presigned URLs are signed with the user's keys.
	for _, c := range []struct {
		u   localUser
		key string
		rel string
	}{{alice, aliceKey, a.bucket + "/priv.txt"}, {bob, bobKey, a.bucket + "/pub/x"}} {
		url := c.u.must(t, "getfattr", "--only-values", "-n", "s3.presigned_url", home(c.u, c.rel))
		if !strings.Contains(url, "X-Amz-Credential="+c.key+"%2F") {
			t.Fatalf("%s's presigned URL is not signed with their key %s: %s", c.u.name, c.key, url)
		}
		want := map[string]string{a.bucket + "/priv.txt": "alice's secret", a.bucket + "/pub/x": "public in A"}[c.rel]
		if got := string(presignedGet(t, httpClientFor(t, srv), strings.TrimSpace(url))); got != want {
			t.Fatalf("%s's presigned URL served %q", c.u.name, got)
		}
	}

	// s3mount status: root sees who has a tree, no key names; users see
	// nothing.
	out, err := exec.Command(env.bin, "status", mnt).CombinedOutput()
	if err != nil || !strings.Contains(string(out), alice.name) || !strings.Contains(string(out), bob.name) ||
		strings.Contains(string(out), carol.name) || strings.Contains(string(out), "priv.txt") {
		t.Errorf("s3mount status as root: %v\n%s\nwant alice's and bob's trees, not carol's, and no key", err, out)
	}
	alice.mustFail(t, "permission denied (only the user who mounted it and root", env.bin, "status", mnt)

	// Carol's refusals gave one log line naming her and why.
	log, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := map[string][]string{}
	for _, l := range strings.Split(string(log), "\n") {
		for _, u := range []localUser{alice, bob, carol, dave} {
			if strings.Contains(l, "user has no tree") && strings.Contains(l, "user="+u.name+" ") {
				lines[u.name] = append(lines[u.name], l)
			}
		}
	}
	if len(lines) != 2 || len(lines[carol.name]) != 1 || !strings.Contains(lines[carol.name][0], "credentials command") ||
		len(lines[dave.name]) != 1 || !strings.Contains(lines[dave.name][0], "readable by group or others") {
		t.Fatalf("log lines on users without keys: %q, want one for carol (the command failed) and one for dave (his file is readable by others)", lines)
	}
	if strings.Contains(string(log), "alice-secret") || strings.Contains(string(log), "bob-secret") {
		t.Fatal("the log holds a secret")
	}
}

// minioUserWithPolicy makes MinIO user key (secret secret) whose policy
// allows everything on bucket only.
func minioUserWithPolicy(t *testing.T, srv *s3test.Server, key, secret, bucket string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	doc := bucketPolicy([2][]string{{"s3:*"}, {"arn:aws:s3:::" + bucket, "arn:aws:s3:::" + bucket + "/*"}})
	if err := srv.SetMinIOPolicy(ctx, "pu-"+key, doc); err != nil {
		t.Fatal(err)
	}
	if err := srv.SetMinIOUser(ctx, key, secret, "pu-"+key); err != nil {
		t.Fatal(err)
	}
}

// TestPerUserCrashRecoveryUploadsWithTheUsersKeys: a file alice closed
// (--async-upload: staged, its upload failing) when the daemon was killed
// is uploaded by the next mount at once, before alice comes back, from her
// own staging directory with her keys (the daemon has none of its own).
func TestPerUserCrashRecoveryUploadsWithTheUsersKeys(t *testing.T) {
	srv := rotationServer(t)
	alice := addLocalUser(t, "ralice")
	a := serverSession(t, srv)
	key := "purec" + strconv.Itoa(os.Getpid())
	minioUserWithPolicy(t, srv, key, "secret-"+key, a.bucket)
	alice.writeFile(t, ".passwd-s3fs", key+":secret-"+key+"\n")
	p, err := faultproxy.Start(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	removeFault := p.Add(faultproxy.Rule{
		Match:  func(r *http.Request) bool { return r.Method == http.MethodPut || r.Method == http.MethodPost },
		Action: faultproxy.Status(503, "SlowDown"),
	})
	staging := filepath.Join(t.TempDir(), "staging")
	mnt, _ := perUserMount(t, srv, staging, "--endpoint-url", p.URL(), "--async-upload", "--max-retries", "1")
	src := filepath.Join(sharedTempDir(t), "src")
	if err := os.WriteFile(src, []byte("staged by alice"), 0o644); err != nil {
		t.Fatal(err)
	}
	alice.must(t, "cp", src, filepath.Join(mnt, alice.name, a.bucket, "crashed"))
	killDaemons(t, mnt)
	lazyUnmount(t, mnt)
	if _, ok := tryGet(t, a, "crashed"); ok {
		t.Fatal("the file reached S3 through a proxy that refuses every PUT")
	}
	removeFault()

	_, logFile := perUserMount(t, srv, staging, "--endpoint-url", p.URL())
	deadline := time.Now().Add(30 * time.Second)
	for {
		if got, ok := tryGet(t, a, "crashed"); ok {
			if string(got) != "staged by alice" {
				t.Fatalf("S3 has %q", got)
			}
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logFile)
			t.Fatalf("alice's staged file was not uploaded by the recovering mount; its log:\n%s", b)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// mountOptionsOf returns the mount options of the mount at mnt, from
// /proc/self/mountinfo.
func mountOptionsOf(t *testing.T, mnt string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) > 5 && f[4] == mnt {
			return f[5]
		}
	}
	t.Fatalf("%s is not mounted", mnt)
	return ""
}
