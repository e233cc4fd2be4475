package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"

	"github.com/s3mount/s3mount/credcmd"
	"github.com/s3mount/s3mount/fs"
	"github.com/s3mount/s3mount/s3io"
)

// userPasswdName is a user's own password file in their home, as s3fs
// names it.
const userPasswdName = ".passwd-s3fs"

// maxUserPasswd bounds what is read of a user's password file.
const maxUserPasswd = 64 << 10

// userKeys returns where user u's keys come from: their ~/.passwd-s3fs
// when they have one (read again whenever S3 rejects the keys), else the
// site's credentials command run as them. A password file that exists but
// is refused is not passed over for the command: its owner meant it.
func userKeys(opts *Options, u fs.User) (s3io.CredentialsSource, error) {
	if u.Home != "" {
		path := filepath.Join(u.Home, userPasswdName)
		_, err := readUserPasswd(path, u.UID)
		switch {
		case err == nil:
			return func(context.Context) (s3io.Credentials, error) { return readUserPasswd(path, u.UID) }, nil
		case !errors.Is(err, os.ErrNotExist):
			return nil, err
		}
	}
	if opts.CredentialsCommand == "" {
		return nil, fmt.Errorf("no keys: no ~/%s (home %q) and no --credentials-command", userPasswdName, u.Home)
	}
	return userCommand(opts.CredentialsCommand, u).Fetch, nil
}

// userCommand is the credentials command as u runs it: their uid, gid and
// groups, their home as working directory and HOME, their USER and
// LOGNAME, and nothing of the daemon's environment but PATH and the
// locale (the daemon's may hold its own AWS variables).
func userCommand(line string, u fs.User) *credcmd.Command {
	env := []string{"HOME=" + u.Home, "USER=" + u.Name, "LOGNAME=" + u.Name}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/local/bin:/usr/bin:/bin"
	}
	env = append(env, "PATH="+path)
	for _, name := range []string{"LANG", "LC_ALL", "TZ"} {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	dir := "/"
	if st, err := os.Stat(u.Home); err == nil && st.IsDir() {
		dir = u.Home
	}
	return &credcmd.Command{
		Line:       line,
		Env:        env,
		Dir:        dir,
		Credential: &syscall.Credential{Uid: u.UID, Gid: u.GID, Groups: u.Groups},
	}
}

// readUserPasswd reads a user's own password file as root, safely: the
// file is opened without following a symbolic link (nor blocking on a
// FIFO), and what was opened is checked, not the path: a regular file,
// owned by the user, readable by nobody else (s3fs's rule). A hard link to
// somebody else's file is then refused too (its owner is not the user).
// Only an ACCESS:SECRET line counts: a per-user mount has no bucket of its
// own for BUCKET:ACCESS:SECRET lines.
func readUserPasswd(path string, uid uint32) (s3io.Credentials, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return s3io.Credentials{}, fmt.Errorf("password file %s is a symbolic link: refused", path)
		}
		if errors.Is(err, os.ErrNotExist) {
			return s3io.Credentials{}, err
		}
		return s3io.Credentials{}, fmt.Errorf("password file: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return s3io.Credentials{}, fmt.Errorf("password file: %w", err)
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	switch {
	case !st.Mode().IsRegular():
		return s3io.Credentials{}, fmt.Errorf("password file %s is not a regular file: refused", path)
	case !ok || sys.Uid != uid:
		return s3io.Credentials{}, fmt.Errorf("password file %s is not owned by the user (uid %d): refused", path, uid)
	case st.Mode().Perm()&0o077 != 0:
		return s3io.Credentials{}, fmt.Errorf("password file %s is readable by group or others (mode %04o): refused; chmod 600 it", path, st.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, maxUserPasswd+1))
	if err != nil {
		return s3io.Credentials{}, fmt.Errorf("password file: %w", err)
	}
	defer clear(data)
	if len(data) > maxUserPasswd {
		return s3io.Credentials{}, fmt.Errorf("password file %s is larger than %d bytes: refused", path, maxUserPasswd)
	}
	c, err := parsePasswd(bytes.NewReader(data), path, "")
	if err != nil {
		return s3io.Credentials{}, err
	}
	return s3io.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}, nil
}
