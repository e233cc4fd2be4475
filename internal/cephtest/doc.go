// Package cephtest runs a throw-away one-node Ceph cluster with a RADOS
// Gateway (RGW, Ceph's S3 server) for tests: one monitor, one OSD and no
// manager, all on loopback, on free ports, with a fresh fsid, fresh random
// S3 keys and a directory of its own.
//
// Launch starts it (about 1.3 s on a 2-core machine) and returns a Gateway
// once RGW has answered; the caller calls Stop. FindBinaries says which
// Debian packages (ceph-mon, ceph-osd, radosgw) are missing, for a test
// that must then skip.
//
// Invariants: a Gateway returned ready has answered a ListBuckets signed
// with its own keys, so it is ours and not some other process that won a
// race for the port. Every Ceph command runs with -c and $CEPH_CONF naming
// the cluster's own ceph.conf, which puts every path (monitor store, OSD
// data, sockets, logs, crash dumps) inside the directory, and with an
// environment built from scratch: nothing reads or writes /etc/ceph,
// /var/lib/ceph or /var/log/ceph, and the caller's CEPH_* settings do not
// reach the cluster. Daemons run in the foreground under Pdeathsig, so a
// killed test binary leaves none behind (only its directory). Ceph's own
// authentication is off; S3 requests are signed as usual.
//
// Costs: the OSD stores objects with bluestore in a sparse 8 GiB file in
// the directory, so the disk holds what the tests wrote (up to their peak)
// and the three daemons stay near 250 MB of RAM, however much is stored.
// On a file system without O_DIRECT (tmpfs before Linux 6.6) the OSD uses
// memstore instead, which keeps objects in RAM at about twice their size.
// Deleted objects' data is freed by RGW's garbage collection a minute or
// two later. The data lives as long as the OSD: Restart restarts RGW only
// and keeps it; Stop kills everything and loses it.
//
// RGW speaks HTTPS when Options name a certificate and key. SSE-C works
// over plain HTTP (rgw_crypt_require_ssl is off), and SSE-KMS works with
// the key KMSKeyID of RGW's testing KMS.
package cephtest
