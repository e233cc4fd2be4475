package main

import (
	"fmt"
	"net"
	"os"
)

// sdNotify tells systemd the service's state (sd_notify(3)): "READY=1"
// once the mount serves, "STOPPING=1" when it begins to unmount. A unit
// with Type=notify starts s3mount with --foreground and NOTIFY_SOCKET set;
// without it this does nothing. The socket may be abstract ("@name").
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	if path[0] == '@' {
		path = "\x00" + path[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd: %w", err)
	}
	return nil
}
