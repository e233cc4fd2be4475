package main

import (
	"fmt"
	"io"
)

const usageHead = `s3mount mounts an S3 bucket as a file system.

Usage:
  s3mount [flags] BUCKET[:PREFIX] MOUNTPOINT   mount one bucket (or the keys under PREFIX)
  s3mount [flags] MOUNTPOINT                   mount every bucket the credentials can list
  s3mount sync MOUNTPOINT|DIRECTORY...         wait until every closed file is in S3 (--async-upload)
  s3mount status MOUNTPOINT                    uploads, failed uploads, cache and S3 requests of a mount
                                               (only its owner and root may ask)
  s3mount prefetch MOUNTPOINT [PATH...]        read files into the --cache-dir of a mount
                                               (s3mount prefetch --help; a bucket named
                                               prefetch mounts as "prefetch:")

Without --foreground, s3mount returns once the mount is ready and keeps
serving in the background. Unmount with: fusermount3 -u MOUNTPOINT

Flags:
`

const usageTail = `
Mount options (-o name[=value],...): every flag above by name (hyphens or
underscores), and the s3fs names ro, rw, allow_other, allow_root, nonempty,
uid=, gid=, umask=, url= (endpoint URL), endpoint= (region),
use_path_request_style, passwd_file=. Generic fstab options (defaults,
_netdev, nofail, noauto, x-systemd.*, ...) are accepted and ignored.

Credentials, first found wins: --passwd-file (ACCESS: for an empty secret);
--credentials-command (run at mount, before its keys expire and when S3
rejects them); --no-sign-request; the standard AWS chain
(AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, the secret may be set empty,
--profile or AWS_PROFILE in ~/.aws/credentials and ~/.aws/config, web
identity, instance metadata). Secrets are never accepted as flags.

One mount for every user of a node (run by root):
  s3mount --per-user --allow-other [--credentials-command CMD] MOUNTPOINT
Each user sees only MOUNTPOINT/$USER (0700, theirs): the buckets their own
keys can list, signed with their keys, from their ~/.passwd-s3fs (0600,
theirs), else CMD run as them. -o per_user works too.

/etc/fstab:
  mybucket /mnt/data fuse.s3mount _netdev,allow_other,endpoint-url=https://s3.example.org,force-path-style 0 0

Exit codes:
  0  mounted (or --help, --version)
  1  other error
  2  usage error (flags, options, arguments)
  3  mount point missing, not a directory, or not empty
  4  credentials rejected, access denied, or the credentials command failed
  5  bucket not found
  6  endpoint unreachable (network, DNS, TLS)
  7  the FUSE mount itself failed
`

func writeUsage(w io.Writer) {
	var o Options
	var v flagValues
	fmt.Fprint(w, usageHead)
	fmt.Fprint(w, newFlagSet(&o, &v).FlagUsages())
	fmt.Fprint(w, usageTail)
}
