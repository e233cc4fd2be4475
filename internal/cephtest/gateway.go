package cephtest

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/s3mount/s3mount/internal/testproc"
)

// KMSKeyID names the key of RGW's testing KMS: SSE-KMS requests name it in
// x-amz-server-side-encryption-aws-kms-key-id. Its 32 bytes are fresh for
// every Launch.
const KMSKeyID = "testkey-1"

// region is what clients sign for. RGW takes the region from the request's
// credential scope and checks no more than that the signature matches.
const region = "us-east-1"

// startTimeout bounds each step of Launch (a tool run, RGW's readiness).
// A cold start takes about a second; a loaded 2-core CI box is slower.
const startTimeout = 60 * time.Second

// userID is the RGW user whose keys the Gateway hands out.
const userID = "s3mount-test"

// Options configure Launch. The zero value starts a plain-HTTP gateway in
// a new temporary directory.
type Options struct {
	// Dir holds the cluster's configuration, monitor store, OSD data
	// (bluestore's sparse block file) and logs. Empty means a new
	// temporary directory that Stop removes.
	Dir string
	// CertFile and KeyFile, when set, make RGW speak HTTPS with this
	// certificate (PEM) and key (PEM).
	CertFile, KeyFile string
}

// Gateway is a running one-node Ceph cluster (one monitor, one OSD, no
// manager) and a RADOS Gateway in front of it.
type Gateway struct {
	Endpoint  string // http://127.0.0.1:PORT, or https://… with TLS
	AccessKey string
	SecretKey string
	Region    string
	// Version is what `radosgw --version` says, e.g. "16.2.15".
	Version string
	// CertFile is the certificate clients must trust for an HTTPS
	// gateway, empty for plain HTTP.
	CertFile string
	// LogFile receives radosgw's log (it runs with -d: everything goes to
	// stderr), one line per request at the default debug level.
	LogFile string

	dir      string            // this try's directory: ceph.conf, data, logs
	conf     string            // ceph.conf, given to every command
	env      []string          // every command's whole environment
	removeOn string            // directory Stop removes, when Launch created it
	store    string            // the OSD's object store: bluestore or memstore
	addrs    map[string]string // the address each daemon binds, by command
	client   *http.Client

	// dead is closed when any daemon exits without being asked to: every
	// wait in Launch gives up then, rather than at its timeout.
	dead     chan struct{}
	deadOnce sync.Once

	mu       sync.Mutex
	mon, osd *daemon
	rgw      *daemon
	stopped  bool
}

// Launch starts a cluster and its gateway, creates an S3 user with fresh
// random keys, and waits until a ListBuckets signed with those keys
// answers 200. The caller must call Stop. A port lost to another process
// between choosing and binding it is retried on new ports.
func Launch(opts Options) (*Gateway, error) {
	if err := FindBinaries(); err != nil {
		return nil, err
	}
	if (opts.CertFile == "") != (opts.KeyFile == "") {
		return nil, errors.New("cephtest: TLS needs both a certificate and a key file")
	}
	var err error
	for _, p := range []*string{&opts.CertFile, &opts.KeyFile} {
		if *p != "" {
			if *p, err = filepath.Abs(*p); err != nil {
				return nil, err
			}
		}
	}
	removeOn := ""
	if opts.Dir == "" {
		dir, err := os.MkdirTemp("", "cephtest-")
		if err != nil {
			return nil, err
		}
		opts.Dir, removeOn = dir, dir
	}
	if opts.Dir, err = filepath.Abs(opts.Dir); err != nil {
		return nil, err
	}
	version := binaryVersion()
	return testproc.Launch(removeOn, func(try int) (*Gateway, error) {
		g, err := launchOnce(opts, try)
		if err != nil {
			return nil, err
		}
		g.Version = version
		g.removeOn = removeOn
		return g, nil
	})
}

// useBluestore is directIO, replaced by a test of the memstore fallback.
var useBluestore = directIO

// pickPorts is freePorts, replaced by a test that loses the race on purpose.
var pickPorts = testproc.FreePorts

func launchOnce(opts Options, try int) (_ *Gateway, err error) {
	// Each try gets its own directory so that a half-started cluster
	// cannot leave state behind for the next.
	dir := filepath.Join(opts.Dir, fmt.Sprintf("ceph%d", try))
	for _, sub := range []string{"mon", "osd", "rgw", "run", "log", "crash"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	g := &Gateway{
		AccessKey: "S3MOUNT" + strings.ToUpper(testproc.RandomHex(7)),
		SecretKey: testproc.RandomHex(20),
		Region:    region,
		LogFile:   filepath.Join(dir, "log", "radosgw.out"),
		dir:       dir,
		conf:      filepath.Join(dir, "ceph.conf"),
		dead:      make(chan struct{}),
		client: &http.Client{Transport: &http.Transport{
			// Readiness and test set-up only: the random keys, not the
			// certificate, prove that the gateway is ours.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // test helper, see above
		}},
	}
	// A fixed mmap threshold stops glibc from raising it after the first
	// large free, after which radosgw's 4 MiB buffers came from heaps that
	// never shrink: radosgw held 210 MB after 2 GiB of uploads, 50 MB with.
	g.env = append(cleanEnv(), "HOME="+dir, "CEPH_CONF="+g.conf, "MALLOC_MMAP_THRESHOLD_=262144")
	defer func() {
		if err != nil {
			err = g.failed(err)
		}
	}()

	ports, err := pickPorts(2)
	if err != nil {
		return nil, err
	}
	monPort, rgwPort := ports[0], ports[1]
	addr := fmt.Sprintf("127.0.0.1:%d", rgwPort)
	g.addrs = map[string]string{"ceph-mon": fmt.Sprintf("127.0.0.1:%d", monPort), "radosgw": addr}
	frontend := "beast endpoint=" + addr
	scheme := "http"
	if opts.CertFile != "" {
		cert, key, err := installCert(dir, opts.CertFile, opts.KeyFile)
		if err != nil {
			return nil, err
		}
		frontend = fmt.Sprintf("beast ssl_endpoint=%s ssl_certificate=%s ssl_private_key=%s", addr, cert, key)
		scheme = "https"
		g.CertFile = cert
	}
	g.Endpoint = scheme + "://" + addr
	fsid := newUUID()
	kmsKey := make([]byte, 32)
	if _, err := rand.Read(kmsKey); err != nil {
		return nil, err
	}
	// bluestore keeps the data on disk and the OSD near 130 MB; memstore,
	// for a directory without O_DIRECT, keeps it in RAM, twice over.
	bluestore := useBluestore(filepath.Join(dir, "osd"))
	g.store = "memstore"
	if bluestore {
		g.store = "bluestore"
	}
	if err := writeConf(g.conf, confParams{
		Dir:       dir,
		FSID:      fsid,
		MonPort:   monPort,
		Frontend:  frontend,
		KMSKey:    base64.StdEncoding.EncodeToString(kmsKey),
		Bluestore: bluestore,
	}); err != nil {
		return nil, err
	}
	g.note("object store: " + g.store)

	// Both maps are made offline, osd.0 under the default root included,
	// rather than with `ceph osd new` and `ceph osd crush add`: with auth
	// none, a client's first command may reach the monitor before the
	// client has the monitor's map, and the monitor rejects it ("wrong
	// fsid"; one start in fifteen failed so when four started at once).
	// RGW's own commands come after it has read from the OSD, map in hand.
	monmap := filepath.Join(dir, "monmap")
	osdmap := filepath.Join(dir, "osdmap")
	if _, err := g.tool("monmaptool", "--create", "--fsid", fsid,
		"--addv", "a", fmt.Sprintf("[v1:127.0.0.1:%d]", monPort), monmap); err != nil {
		return nil, err
	}
	if _, err := g.tool("osdmaptool", osdmap, "--createsimple", "1"); err != nil {
		return nil, err
	}
	if _, err := g.tool("ceph-mon", "--mkfs", "-i", "a", "--monmap", monmap, "--osdmap", osdmap); err != nil {
		return nil, err
	}
	if g.mon, err = g.start("ceph-mon", "-i", "a"); err != nil {
		return nil, err
	}
	// The OSD's mkfs asks the monitor for its map and configuration.
	if _, err := g.tool("ceph-osd", "--mkfs", "-i", "0", "--osd-uuid", newUUID()); err != nil {
		return nil, err
	}
	if g.osd, err = g.start("ceph-osd", "-i", "0"); err != nil {
		return nil, err
	}
	// radosgw-admin waits for the OSD to boot and the first pools to peer,
	// and creates the default zone that radosgw then finds.
	if _, err := g.tool("radosgw-admin", "user", "create",
		"--uid="+userID, "--display-name=s3mount tests",
		"--access-key="+g.AccessKey, "--secret-key="+g.SecretKey); err != nil {
		return nil, err
	}
	if g.rgw, err = g.start("radosgw", "-n", "client.rgw"); err != nil {
		return nil, err
	}
	if err := g.waitReady(g.rgw, g.dead); err != nil {
		return nil, err
	}
	g.note("ready at " + g.Endpoint)
	return g, nil
}

// failed kills what launchOnce started and explains err with the log of
// any daemon that died, marking a lost port race with testproc.ErrPortTaken.
func (g *Gateway) failed(err error) error {
	g.mu.Lock()
	ds := g.daemonsLocked()
	g.mu.Unlock()
	var died []string
	portTaken := false
	for _, d := range ds {
		select {
		case <-d.exited:
			if d.killed.Load() {
				continue
			}
			tail := logTail(d.logFile, 4096)
			died = append(died, fmt.Sprintf("%s exited during startup; the end of %s:\n%s", d.name, d.logFile, tail))
			// The OSD picks its own ports and moves on from taken ones.
			// The others' complaint may die unwritten with them (their log
			// is flushed by a thread), so the port itself is asked.
			if addr := g.addrs[d.name]; addr != "" && (strings.Contains(tail, "Address already in use") || portBusy(addr)) {
				portTaken = true
			}
		default:
		}
	}
	g.killAll()
	msg := fmt.Sprintf("cephtest in %s: %v", g.dir, err)
	if len(died) > 0 {
		msg += "\n" + strings.Join(died, "\n")
	}
	if portTaken {
		return fmt.Errorf("%w: %s", testproc.ErrPortTaken, msg)
	}
	return errors.New(msg)
}

// waitReady polls until a signed ListBuckets succeeds, giving up when rgw
// exits or dead is closed. Only RGW knows the random keys, so success
// also proves the port is ours.
func (g *Gateway) waitReady(rgw *daemon, dead <-chan struct{}) error {
	// A probe must not outlive the cluster: a port that another program
	// holds might never answer.
	alive, died := context.WithTimeout(context.Background(), startTimeout)
	defer died()
	go func() {
		select {
		case <-rgw.exited:
		case <-dead:
		case <-alive.Done():
		}
		died()
	}()
	var lastErr error
	for alive.Err() == nil {
		ctx, cancel := context.WithTimeout(alive, 2*time.Second)
		resp, err := g.Do(ctx, http.MethodGet, "/", nil)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				cancel()
				return nil
			}
			err = fmt.Errorf("ListBuckets: HTTP %d", resp.StatusCode)
		}
		cancel()
		lastErr = err
		select {
		case <-alive.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	select {
	case <-rgw.exited:
		return errors.New("radosgw exited during startup")
	default:
	}
	select {
	case <-dead:
		return errors.New("a daemon exited while radosgw started")
	default:
	}
	return fmt.Errorf("radosgw not ready after %v: %v", startTimeout, lastErr)
}

// Stop kills every daemon, waits for each to exit, and removes the
// directory Launch created. It is safe to call more than once.
func (g *Gateway) Stop() {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return
	}
	g.stopped = true
	g.mu.Unlock()
	// The data is throw-away: there is nothing to shut down cleanly, and
	// a memstore OSD asked to stop would first write all it holds to disk.
	g.killAll()
	if g.removeOn != "" {
		os.RemoveAll(g.removeOn)
	}
}

// Restart kills radosgw (the monitor and the OSD keep running, so every
// bucket and object survives) and starts it again on the same address
// after pause: what clients see when a gateway restarts under them.
//
// The killed radosgw's watches on its control objects outlive it by up to
// 3 s (osd client watch timeout): until then, a request that changes
// bucket metadata (CreateBucket, DeleteBucket, bucket policy or
// versioning) waits for them. Object reads and writes do not.
func (g *Gateway) Restart(pause time.Duration) error {
	g.mu.Lock()
	if g.stopped || g.rgw == nil {
		g.mu.Unlock()
		return errors.New("cephtest: restart: the gateway has been stopped")
	}
	old := g.rgw
	old.killed.Store(true)
	_ = old.cmd.Process.Kill()
	<-old.exited
	g.note(fmt.Sprintf("radosgw killed, restarting after %v", pause))
	appendLine(g.LogFile, fmt.Sprintf("--- cephtest: radosgw killed, restarting after %v ---", pause))
	time.Sleep(pause)
	d := &daemon{name: old.name, logFile: old.logFile}
	err := g.run(d, exec.Command(old.cmd.Path, old.cmd.Args[1:]...))
	if err == nil {
		g.rgw = d
	}
	g.mu.Unlock()
	if err != nil {
		return fmt.Errorf("restart radosgw: %w", err)
	}
	// No watch on the monitor and the OSD here: a cluster that has lost
	// one of them shows as a timeout, and LogTail says which.
	if err := g.waitReady(d, nil); err != nil {
		return fmt.Errorf("restart radosgw at %s: %w\n%s", g.Endpoint, err, g.LogTail(4096))
	}
	return nil
}

// LogTail returns up to the last n bytes of radosgw's log, starting at a
// line, followed by the end of the log of the monitor or OSD if one of
// them has died: then the gateway's own log only says it lost the cluster.
func (g *Gateway) LogTail(n int) string {
	s := logTail(g.LogFile, n)
	g.mu.Lock()
	ds := []*daemon{g.osd, g.mon}
	g.mu.Unlock()
	for _, d := range ds {
		if d == nil {
			continue
		}
		select {
		case <-d.exited:
			if !d.killed.Load() {
				s += fmt.Sprintf("\n--- %s has exited; the end of %s:\n%s", d.name, d.logFile, logTail(d.logFile, n))
			}
		default:
		}
	}
	return s
}

// installCert copies the certificate and key into the cluster's
// directory, so that RGW and CertFile outlive the caller's copies.
func installCert(dir, certFile, keyFile string) (cert, key string, err error) {
	cert = filepath.Join(dir, "cert.pem")
	key = filepath.Join(dir, "key.pem")
	for src, dst := range map[string]string{certFile: cert, keyFile: key} {
		b, err := os.ReadFile(src)
		if err != nil {
			return "", "", err
		}
		if err := os.WriteFile(dst, b, 0o600); err != nil {
			return "", "", err
		}
	}
	return cert, key, nil
}

// portBusy reports whether another process holds addr, once ours is dead.
func portBusy(addr string) bool {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return errors.Is(err, syscall.EADDRINUSE)
	}
	l.Close()
	return false
}

func newUUID() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
