package main

import (
	"net"
	"path/filepath"
	"testing"
	"time"
)

// TestSDNotifySendsTheStateToNotifySocket: the state goes to the datagram
// socket NOTIFY_SOCKET names, path or abstract; without it nothing is sent.
func TestSDNotifySendsTheStateToNotifySocket(t *testing.T) {
	for _, name := range []string{filepath.Join(t.TempDir(), "notify"), "@s3mount-notify-test-" + time.Now().Format("150405.000000")} {
		addr := name
		if addr[0] == '@' {
			addr = "\x00" + addr[1:]
		}
		ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("NOTIFY_SOCKET", name)
		if err := sdNotify("READY=1"); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		buf := make([]byte, 64)
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := ln.Read(buf)
		ln.Close()
		if err != nil || string(buf[:n]) != "READY=1" {
			t.Fatalf("%s: got %q, %v", name, buf[:n], err)
		}
	}
	t.Setenv("NOTIFY_SOCKET", "")
	if err := sdNotify("READY=1"); err != nil {
		t.Fatalf("without NOTIFY_SOCKET: %v", err)
	}
}
