package s3test

import (
	"os"
	"testing"
)

// go test ./internal/s3test -run TestPrintLacksTable -v prints the table
// for the README (S3MOUNT_PRINT_LACKS=1).
func TestPrintLacksTable(t *testing.T) {
	if os.Getenv("S3MOUNT_PRINT_LACKS") != "1" {
		return
	}
	os.Stdout.WriteString(LacksTable())
}
