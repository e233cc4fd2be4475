package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
)

// ignoredMountOptions are the generic options mount(8) and fstab pass to
// every helper; they mean nothing to s3mount.
var ignoredMountOptions = map[string]bool{
	"defaults": true, "auto": true, "noauto": true, "user": true, "users": true, "nouser": true,
	"_netdev": true, "nofail": true, "dev": true, "nodev": true, "suid": true, "nosuid": true,
	"exec": true, "noexec": true, "atime": true, "noatime": true, "relatime": true,
	"strictatime": true, "nodiratime": true, "sync": true, "async": true, "rw": true,
	"default_permissions": true, // always on
	"ssl_verify_hostname": true, // TLS always verifies; use --ca-bundle for private CAs
}

// s3fsAliases map s3fs's -o names to s3mount flags.
var s3fsAliases = map[string]string{
	"ro":                     "read-only",
	"allow_other":            "allow-other",
	"allow_root":             "allow-root",
	"nonempty":               "allow-non-empty",
	"url":                    "endpoint-url",
	"endpoint":               "region", // s3fs's "endpoint" is the region
	"use_path_request_style": "force-path-style",
	"passwd_file":            "passwd-file",
	"use_cache":              "cache-dir",
}

// secretOptions are refused: a secret on a command line is readable by
// every user through ps.
var secretOptions = map[string]bool{
	"secret_access_key": true, "access_key_id": true, "aws_secret_access_key": true,
	"aws_access_key_id": true, "secret-access-key": true, "access-key-id": true, "session_token": true,
}

// applyMountOptions applies one -o argument: comma-separated names, each
// an s3mount flag (underscores or hyphens), an s3fs name, or a generic
// mount option.
func applyMountOptions(fs *pflag.FlagSet, o *Options, v *flagValues, arg string) error {
	for _, opt := range strings.Split(arg, ",") {
		if opt == "" {
			continue
		}
		name, value, hasValue := strings.Cut(opt, "=")
		switch {
		case ignoredMountOptions[name], strings.HasPrefix(name, "x-systemd."), strings.HasPrefix(name, "comment="), name == "comment":
			continue
		case secretOptions[name]:
			return fmt.Errorf("-o %s: secrets are not accepted on the command line; use --passwd-file, --credentials-command, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or ~/.aws/credentials", name)
		case name == "umask":
			m, err := strconv.ParseUint(value, 8, 32)
			if !hasValue || err != nil || m > 0o777 {
				return fmt.Errorf("-o umask=%s: want octal bits such as 022", value)
			}
			v.fileMode = strconv.FormatUint(0o666&^m, 8)
			v.dirMode = strconv.FormatUint(0o777&^m, 8)
			continue
		}
		flagName := name
		if alias, ok := s3fsAliases[name]; ok {
			flagName = alias
		}
		flagName = strings.ReplaceAll(flagName, "_", "-")
		f := fs.Lookup(flagName)
		if f == nil || f.Hidden || flagName == "options" || flagName == "help" || flagName == "version" {
			return fmt.Errorf("-o %s: unknown mount option", name)
		}
		isBool := f.Value.Type() == "bool"
		switch {
		case isBool && !hasValue:
			value = "true"
		case !isBool && !hasValue:
			return fmt.Errorf("-o %s: needs a value (%s=...)", name, name)
		}
		if err := fs.Set(flagName, value); err != nil {
			return fmt.Errorf("-o %s: %w", opt, err)
		}
	}
	_ = o
	return nil
}
