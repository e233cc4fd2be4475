package testproc

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
)

// FreePorts returns n distinct loopback ports that were free a moment ago.
// Holding all listeners until the end keeps the ports distinct.
func FreePorts(n int) ([]int, error) {
	var ports []int
	for i := 0; i < n; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// RandomHex returns 2n random hex digits: fresh keys for each server.
func RandomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return hex.EncodeToString(b)
}

// LogTail returns up to the last n bytes of the log at path, starting at
// a line.
func LogTail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return LastLines(b, n)
}

// LastLines returns up to the last n bytes of b, starting at a line.
func LastLines(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return string(b)
}
