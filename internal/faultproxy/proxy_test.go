package faultproxy_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/s3mount/s3mount/internal/faultproxy"
	"github.com/s3mount/s3mount/internal/miniotest"
)

// The SDK is imported by these tests only: it is the client whose view of
// each fault they check. The package itself uses the standard library.

// minio is one MinIO for every test of the package.
var minio miniotest.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	minio.Stop()
	os.Exit(code)
}

// env is a MinIO, a proxy in front of it, an SDK client through the proxy
// and one straight to MinIO (to see what the server really holds), and a
// fresh bucket.
type env struct {
	srv    *miniotest.Server
	proxy  *faultproxy.Proxy
	s3     *s3.Client
	direct *s3.Client
	bucket string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	srv := minio.Get(t)
	p, err := faultproxy.Start(srv.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return &env{
		srv:    srv,
		proxy:  p,
		s3:     newClient(t, srv, p.URL()),
		direct: newClient(t, srv, srv.Endpoint),
		bucket: srv.NewBucket(t),
	}
}

// newClient is an SDK client for endpoint that makes exactly one attempt
// per call, so every injected fault reaches the caller.
func newClient(t *testing.T, srv *miniotest.Server, endpoint string) *s3.Client {
	transport := &http.Transport{Proxy: nil}
	t.Cleanup(transport.CloseIdleConnections)
	return s3.New(s3.Options{
		Region:                     srv.Region,
		BaseEndpoint:               aws.String(endpoint),
		UsePathStyle:               true,
		Credentials:                credentials.NewStaticCredentialsProvider(srv.AccessKey, srv.SecretKey, ""),
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
		RetryMaxAttempts:           1,
		HTTPClient:                 &http.Client{Transport: transport},
	})
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func (e *env) put(ctx context.Context, c *s3.Client, key string, data []byte) error {
	_, err := c.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(e.bucket), Key: aws.String(key), Body: bytes.NewReader(data),
	})
	return err
}

func (e *env) get(ctx context.Context, key string) ([]byte, error) {
	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String(key)})
	if err != nil {
		return nil, err
	}
	defer out.Body.Close()
	return io.ReadAll(out.Body)
}

// s3Code returns the S3 error code of err, or "" when err is not an S3
// error response.
func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// isConnError reports whether err is a broken connection rather than an
// answer from the server. net.ErrClosed is how Go's transport reports a
// reset that its reader saw first: it closes the connection under the
// writer still sending the body.
func isConnError(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, net.ErrClosed) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}

// recordsOf returns the records of requests that m matches.
func recordsOf(p *faultproxy.Proxy, m func(faultproxy.RequestRecord) bool) []faultproxy.RequestRecord {
	var out []faultproxy.RequestRecord
	for _, r := range p.Requests() {
		if m(r) {
			out = append(out, r)
		}
	}
	return out
}

func isMethod(method string) func(faultproxy.RequestRecord) bool {
	return func(r faultproxy.RequestRecord) bool { return r.Method == method }
}

func TestStartListensOnLoopbackAndRejectsOtherTargets(t *testing.T) {
	p, err := faultproxy.Start("http://127.0.0.1:9")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if !strings.HasPrefix(p.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL() = %q, want http://127.0.0.1:PORT", p.URL())
	}
	for _, target := range []string{"https://127.0.0.1:9000", "127.0.0.1:9000", "http://127.0.0.1:9000/bucket", "http://"} {
		if p, err := faultproxy.Start(target); err == nil {
			p.Close()
			t.Errorf("Start(%q) succeeded, want an error", target)
		}
	}
}

func TestForwardsSignedRequestsUnchanged(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	// Created through the proxy: the signature covers the proxy's host.
	bucket := "fwd-" + strings.ToLower(fmt.Sprintf("%x", randomBytes(4)))
	if _, err := e.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket through the proxy: %v", err)
	}
	e.bucket = bucket
	// A key that needs escaping proves the path is forwarded as signed.
	key := "dir/a key+with ü & = ?.txt"
	data := randomBytes(100 << 10)
	_, err := e.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data),
		Metadata: map[string]string{"origin": "faultproxy"},
	})
	if err != nil {
		t.Fatalf("PutObject through the proxy: %v", err)
	}
	got, err := e.get(ctx, key)
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GetObject through the proxy = %d bytes, %v; want the %d bytes put", len(got), err, len(data))
	}
	head, err := e.direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil || head.Metadata["origin"] != "faultproxy" {
		t.Fatalf("HeadObject straight at MinIO = %v, %v; want the object with its metadata", head, err)
	}
	list, err := e.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("dir/")})
	if err != nil || len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != key {
		t.Fatalf("ListObjectsV2 through the proxy = %v, %v; want just %q", list, err, key)
	}

	recs := e.proxy.Requests()
	if len(recs) != 4 {
		t.Fatalf("Requests() = %+v, want 4 records", recs)
	}
	for _, r := range recs {
		if r.Fault != "" || r.Status != http.StatusOK {
			t.Errorf("record %+v: want forwarded untouched with HTTP 200", r)
		}
	}
	if r := recs[1]; r.Method != http.MethodPut || r.Path != "/"+bucket+"/"+key {
		t.Errorf("PutObject recorded as %s %q, want PUT %q", r.Method, r.Path, "/"+bucket+"/"+key)
	}
}

func TestStatusAnswersWithS3ErrorWithoutForwarding(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(503, "SlowDown")})

	err := e.put(ctx, e.s3, "k", []byte("hello"))
	if s3Code(err) != "SlowDown" {
		t.Fatalf("PutObject error = %v, want S3 code SlowDown", err)
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != 503 {
		t.Fatalf("PutObject error = %v, want HTTP 503", err)
	}
	_, err = e.direct.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("k")})
	var nf *types.NotFound
	if !errors.As(err, &nf) {
		t.Fatalf("HeadObject straight at MinIO: %v; want NotFound (the PUT must not be forwarded)", err)
	}
	recs := e.proxy.Requests()
	if len(recs) != 1 || recs[0].Status != 503 || recs[0].Fault != "status 503 SlowDown" {
		t.Fatalf("Requests() = %+v, want one PUT answered 503 by an injected fault", recs)
	}
}

func TestResetConnectionBreaksUploadPartAndStoresNothing(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	up, err := e.s3.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(e.bucket), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	defer e.direct.AbortMultipartUpload(context.Background(), &s3.AbortMultipartUploadInput{
		Bucket: aws.String(e.bucket), Key: aws.String("mp"), UploadId: up.UploadId,
	})
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsUploadPart, Times: 1, Action: faultproxy.ResetConnection()})

	part := randomBytes(1 << 20)
	uploadPart := func() error {
		_, err := e.s3.UploadPart(ctx, &s3.UploadPartInput{
			Bucket: aws.String(e.bucket), Key: aws.String("mp"), UploadId: up.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader(part),
		})
		return err
	}
	listParts := func() []types.Part {
		t.Helper()
		out, err := e.direct.ListParts(ctx, &s3.ListPartsInput{Bucket: aws.String(e.bucket), Key: aws.String("mp"), UploadId: up.UploadId})
		if err != nil {
			t.Fatal(err)
		}
		return out.Parts
	}

	err = uploadPart()
	if err == nil || s3Code(err) != "" || !isConnError(err) {
		t.Fatalf("UploadPart through a reset = %v, want a connection error", err)
	}
	t.Logf("reset UploadPart: %v", err)
	if parts := listParts(); len(parts) != 0 {
		t.Fatalf("after the reset MinIO holds parts %+v, want none", parts)
	}
	if err := uploadPart(); err != nil {
		t.Fatalf("UploadPart once the rule is spent: %v", err)
	}
	if parts := listParts(); len(parts) != 1 || aws.ToInt64(parts[0].Size) != int64(len(part)) {
		t.Fatalf("after the retry MinIO holds parts %+v, want part 1 of %d bytes", parts, len(part))
	}

	recs := recordsOf(e.proxy, isMethod(http.MethodPut))
	if len(recs) != 2 || recs[0].Status != 0 || recs[0].Fault != "reset connection" ||
		!strings.Contains(recs[0].RawQuery, "partNumber=1") || recs[1].Status != 200 || recs[1].Fault != "" {
		t.Fatalf("UploadPart records = %+v, want one reset (no status) then one forwarded 200", recs)
	}
}

func TestCutResponseBodyBreaksGetAfterNBytes(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	data := randomBytes(1 << 20)
	if err := e.put(ctx, e.direct, "big", data); err != nil {
		t.Fatal(err)
	}
	const cut = 100_000
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsGet, Times: 1, Action: faultproxy.CutResponseBody(cut)})

	out, err := e.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(e.bucket), Key: aws.String("big")})
	if err != nil {
		t.Fatalf("GetObject: %v; want the headers to arrive intact", err)
	}
	if aws.ToInt64(out.ContentLength) != int64(len(data)) {
		t.Fatalf("Content-Length = %d, want the server's %d", aws.ToInt64(out.ContentLength), len(data))
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err == nil || !isConnError(err) {
		t.Fatalf("reading the cut body: %d bytes, err %v; want a connection error", len(got), err)
	}
	t.Logf("cut body: %v", err)
	if len(got) != cut || !bytes.Equal(got, data[:cut]) {
		t.Fatalf("read %d bytes before the break (prefix intact: %v), want exactly the first %d", len(got), bytes.Equal(got, data[:len(got)]), cut)
	}
	if got, err := e.get(ctx, "big"); err != nil || !bytes.Equal(got, data) {
		t.Fatalf("GetObject once the rule is spent = %d bytes, %v; want all %d", len(got), err, len(data))
	}
	gets := recordsOf(e.proxy, isMethod(http.MethodGet))
	if len(gets) != 2 || gets[0].Status != 200 || gets[0].Fault != "cut response body after 100000 bytes" || gets[1].Fault != "" {
		t.Fatalf("GET records = %+v, want a cut 200 then an untouched one", gets)
	}
}

func TestDelayHoldsRequestAtLeastTheDelay(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	if err := e.put(ctx, e.direct, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	const d = 300 * time.Millisecond
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsGet, Times: 1, Action: faultproxy.Delay(d)})
	start := time.Now()
	got, err := e.get(ctx, "k")
	if elapsed := time.Since(start); err != nil || string(got) != "v" || elapsed < d {
		t.Fatalf("delayed GetObject = %q, %v after %v; want \"v\" after at least %v", got, err, elapsed, d)
	}
	recs := e.proxy.Requests()
	if len(recs) != 1 || recs[0].Status != 200 || recs[0].Fault != "delay 300ms" {
		t.Fatalf("Requests() = %+v, want one delayed GET answered 200", recs)
	}
}

func TestHangHoldsRequestUntilTheClientGivesUp(t *testing.T) {
	e := newEnv(t)
	if err := e.put(ctxT(t), e.direct, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	remove := e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsGet, Action: faultproxy.Hang()})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := e.get(ctx, "k")
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) < 300*time.Millisecond {
		t.Fatalf("GetObject on a hang = %v after %v, want deadline exceeded", err, time.Since(start))
	}
	remove()
	if got, err := e.get(ctxT(t), "k"); err != nil || string(got) != "v" {
		t.Fatalf("GetObject after removing the rule = %q, %v", got, err)
	}
	recs := e.proxy.Requests()
	if len(recs) != 2 || recs[0].Status != 0 || recs[0].Fault != "hang" || recs[1].Status != 200 {
		t.Fatalf("Requests() = %+v, want an unanswered hang then a 200", recs)
	}
}

func TestCloseEndsHangingRequests(t *testing.T) {
	e := newEnv(t)
	e.proxy.Add(faultproxy.Rule{Action: faultproxy.Hang()})
	errc := make(chan error, 1)
	go func() {
		errc <- e.put(ctxT(t), e.s3, "k", randomBytes(64<<10))
	}()
	for deadline := time.Now().Add(5 * time.Second); len(e.proxy.Requests()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the proxy")
		}
	}
	start := time.Now()
	e.proxy.Close()
	if err := <-errc; err == nil || s3Code(err) != "" || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("PutObject hanging when the proxy closed = %v, want a connection error", err)
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Fatalf("Close took %v with a hanging request, want it prompt", elapsed)
	}
}

func TestTimesLimitsTheAffectedRequests(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Times: 2, Action: faultproxy.Status(500, "InternalError")})
	var codes []string
	for i := 0; i < 3; i++ {
		codes = append(codes, s3Code(e.put(ctx, e.s3, fmt.Sprint("k", i), []byte("v"))))
	}
	if want := []string{"InternalError", "InternalError", ""}; fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("three PUTs under a Times: 2 rule gave codes %q, want %q", codes, want)
	}
	var faults []string
	var statuses []int
	for _, r := range e.proxy.Requests() {
		faults, statuses = append(faults, r.Fault), append(statuses, r.Status)
	}
	if fmt.Sprint(statuses) != "[500 500 200]" || faults[0] == "" || faults[1] == "" || faults[2] != "" {
		t.Fatalf("records: statuses %v, faults %q; want two injected 500s then a forwarded 200", statuses, faults)
	}
}

func TestTimesIsExactUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	if err := e.put(ctx, e.direct, "k", []byte("v")); err != nil {
		t.Fatal(err)
	}
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsGet, Times: 3, Action: faultproxy.Status(503, "SlowDown")})
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.get(ctx, "k")
		}()
	}
	wg.Wait()
	slow := 0
	for _, err := range errs {
		switch {
		case err == nil:
		case s3Code(err) == "SlowDown":
			slow++
		default:
			t.Errorf("concurrent GET: %v", err)
		}
	}
	injected := recordsOf(e.proxy, func(r faultproxy.RequestRecord) bool { return r.Fault != "" })
	if slow != 3 || len(injected) != 3 || len(e.proxy.Requests()) != n {
		t.Fatalf("%d concurrent GETs: %d SlowDown, %d injected of %d records; want 3, 3, %d", n, slow, len(injected), len(e.proxy.Requests()), n)
	}
}

func TestRulesApplyInOrderUntilRemovedOrReset(t *testing.T) {
	e := newEnv(t)
	ctx := ctxT(t)
	// The first rule lets one PUT through; the second fails the rest.
	e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Times: 1, Action: faultproxy.Forward()})
	remove := e.proxy.Add(faultproxy.Rule{Match: faultproxy.IsPutObject, Action: faultproxy.Status(503, "SlowDown")})
	if err := e.put(ctx, e.s3, "a", nil); err != nil {
		t.Fatalf("first PUT, shielded by the Forward rule: %v", err)
	}
	if err := e.put(ctx, e.s3, "b", nil); s3Code(err) != "SlowDown" {
		t.Fatalf("second PUT = %v, want SlowDown", err)
	}
	remove()
	remove() // harmless
	if err := e.put(ctx, e.s3, "c", nil); err != nil {
		t.Fatalf("PUT after remove: %v", err)
	}
	e.proxy.Add(faultproxy.Rule{Action: faultproxy.Status(500, "InternalError")})
	e.proxy.Reset()
	if err := e.put(ctx, e.s3, "d", nil); err != nil {
		t.Fatalf("PUT after Reset: %v", err)
	}
	if recs := e.proxy.Requests(); len(recs) != 1 || recs[0].Path != "/"+e.bucket+"/d" {
		t.Fatalf("Requests() after Reset = %+v, want only the PUT of d", recs)
	}
}
