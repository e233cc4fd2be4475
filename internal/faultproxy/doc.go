// Package faultproxy is a fault-injecting HTTP reverse proxy that tests put
// between s3mount (or any S3 client) and a real MinIO server, so that the
// failures the in-memory fakes only imitate — a 503 SlowDown, a connection
// reset in the middle of a part upload, a GET body that breaks after N bytes,
// a server that stops answering — happen on real sockets against a real
// server.
//
// A test starts one with Start(minio.Endpoint), points its client at URL(),
// and adds Rules: each rule matches some requests (IsUploadPart, IsGet, … or
// any func(*http.Request) bool), affects at most Times of them, and applies
// one Action (Status, ResetConnection, CutResponseBody, Delay, Hang).
// Requests() tells the test afterwards what the proxy saw and did.
//
// Invariants:
//   - The proxy listens on 127.0.0.1 only, on a port the kernel chose.
//   - A request no rule claims is forwarded unchanged: same method, path,
//     query and headers, and the Host header as the client sent it. A SigV4
//     client signs the proxy's host:port, and MinIO checks the signature
//     against the Host it receives, so signatures stay valid.
//   - Rules are tried in the order they were added; the first rule that
//     matches and still has budget (Times) claims the request, and only
//     that rule's Action applies.
//   - A fault that answers nothing (ResetConnection, Hang, a Delay the
//     client gave up on) never lets the server send a default response:
//     the client sees a broken connection, not an empty 200.
//
// Only path-style requests ("/bucket/key") are classified by the Is*
// helpers. The package uses the standard library alone.
package faultproxy
