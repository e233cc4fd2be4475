// Package testproc holds what every test-server launcher (miniotest,
// cephtest, versitygwtest) needs alike: finding a pinned binary, free
// loopback ports, random credentials, a log's tail, and processes that die
// with the test binary. One copy, so the launchers differ only in how
// their server starts.
package testproc
