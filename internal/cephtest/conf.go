package cephtest

import (
	"fmt"
	"os"
	"strings"
	"text/template"
)

// confParams fill confTemplate.
type confParams struct {
	Dir       string // this cluster's directory; every path below is in it
	FSID      string
	MonPort   int
	Frontend  string // the value of rgw frontends
	KMSKey    string // base64 of the 32-byte key named KMSKeyID
	Asok      bool   // admin sockets fit in a socket path (108 bytes)
	Bluestore bool   // bluestore on a sparse file, else memstore
}

// confTemplate is the cluster's only configuration: every command gets it
// with -c and $CEPH_CONF, so the defaults that point into /etc/ceph,
// /var/lib/ceph, /var/log/ceph and /run/ceph are all overridden here.
//
// Settings that matter (the rest is taste):
//   - paxos propose interval: the monitor batches map changes for 1 s by
//     default, and RGW's first start creates four pools with two map
//     changes each; at 0.01 s a cold start takes about one second, not ten.
//   - osd crush update on start / osd class update on start = false: with
//     auth none the OSD may send these monitor commands before it has the
//     monitor's map; the monitor rejects them ("wrong fsid") and the OSD
//     exits. osd.0 is in the CRUSH map that osdmaptool makes instead.
//   - bdev aio poll ms = 10: every close of bluestore's block file waits
//     for one poll of its AIO thread, 250 ms by default, and mkfs and
//     mount close it many times: about 2 s of a 3.3 s start.
//   - bluestore fsck on mkfs = false: half a second more, for a store that
//     lives minutes.
//   - bluestore cache size with autotune off: the OSD stays near 130 MB
//     instead of growing toward osd memory target (4 GiB).
//   - mon data avail crit = 0: the monitor shuts itself down when the disk
//     of its data directory is 95% full, which a CI disk may well be.
//   - ms bind msgr2 = false: one v1 port per daemon, so "mon host" is one
//     address that Launch chose.
//   - public addr: the monitor's must carry the port, or it binds 3300
//     and 6789 (the defaults) and never finds itself in its map; the
//     OSD's is an address only, its ports come from 6800-7300.
//   - osd client watch timeout = 3, objecter tick interval = 1: a killed
//     radosgw leaves its watches on the control objects, and the next
//     metadata change (a CreateBucket) waits for them to time out, 30 s by
//     default. Clients ping their watches every tick, so the tick must
//     stay well below the timeout.
//   - rgw gc obj min wait: deleted and overwritten objects' data waits
//     for garbage collection, 2 h by default; with memstore that is RAM.
const confTemplate = `# Written by internal/cephtest for one throw-away cluster.
[global]
fsid = {{.FSID}}
mon host = v1:127.0.0.1:{{.MonPort}}
mon initial members = a
ms bind msgr2 = false
ms bind ipv6 = false
ms bind retry count = 2
ms bind retry delay = 1
auth cluster required = none
auth service required = none
auth client required = none
keyring = {{.Dir}}/keyring
run dir = {{.Dir}}/run
crash dir = {{.Dir}}/crash
log file = {{.Dir}}/log/$name.log
admin socket =
mon cluster log file = {{.Dir}}/log/cluster.log
paxos propose interval = 0.01
paxos min wait = 0.001
objecter tick interval = 1
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false

[mon]
public addr = v1:127.0.0.1:{{.MonPort}}
mon data = {{.Dir}}/mon
mon data avail warn = 1
mon data avail crit = 0
{{- if .Asok}}
admin socket = {{.Dir}}/run/$name.asok
{{- end}}

[osd]
public addr = 127.0.0.1
cluster addr = 127.0.0.1
osd data = {{.Dir}}/osd
{{- if .Bluestore}}
osd objectstore = bluestore
bluestore block create = true
bluestore block size = {{.BlockBytes}}
bluestore fsck on mkfs = false
bluestore fsck on mount = false
bluestore fsck on umount = false
bluestore cache autotune = false
bluestore cache size = 134217728
bdev enable discard = false
bdev aio poll ms = 10
{{- else}}
osd objectstore = memstore
memstore device bytes = {{.MemstoreBytes}}
{{- end}}
osd crush update on start = false
osd class update on start = false
osd client watch timeout = 3
{{- if .Asok}}
admin socket = {{.Dir}}/run/$name.asok
{{- end}}

[client.rgw]
rgw data = {{.Dir}}/rgw
rgw frontends = {{.Frontend}}
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = {{.KMSKeyID}}={{.KMSKey}}
rgw enable usage log = false
rgw enable ops log = false
rgw thread pool size = 64
rgw dynamic resharding = false
rgw gc obj min wait = 60
rgw gc processor period = 60
rgw init timeout = 60
{{- if .Asok}}
admin socket = {{.Dir}}/run/$name.asok
{{- end}}
`

// The OSD's capacity bounds what a test suite can hold at once (data plus
// RGW's index and garbage): a suite that writes up to 2 GiB has room to
// spare. The OSD reports itself full at 95%, and then RGW's writes block
// rather than fail.
const (
	// blockBytes is the size of bluestore's block file. The file is
	// sparse: the disk holds what was written, up to the peak.
	blockBytes = 8 << 30
	// memstoreBytes caps memstore, which holds data in RAM and in
	// practice takes about twice what it stores: 2 GiB of objects made
	// the OSD 4.3 GB, with or without memstore page set.
	memstoreBytes = 6 << 30
)

var confTmpl = template.Must(template.New("ceph.conf").Parse(confTemplate))

// maxSocketPath is the longest path a Unix socket may have on Linux
// (sun_path is 108 bytes with its NUL).
const maxSocketPath = 107

// writeConf writes ceph.conf for p into path.
func writeConf(path string, p confParams) error {
	// ceph.conf has no quoting: "$" expands metavariables, "#" and ";"
	// start comments, and the frontend line splits on white space.
	if strings.ContainsAny(p.Dir, "$#; \t\n\"'\\") {
		return fmt.Errorf("cephtest: directory %q has a character ceph.conf cannot hold", p.Dir)
	}
	p.Asok = len(p.Dir+"/run/client.rgw.asok") <= maxSocketPath
	var b strings.Builder
	data := struct {
		confParams
		BlockBytes    int64
		MemstoreBytes int64
		KMSKeyID      string
	}{p, blockBytes, memstoreBytes, KMSKeyID}
	if err := confTmpl.Execute(&b, data); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(b.String()), 0o600)
}
