// Command s3mount mounts S3 buckets as a file system.
package main

import (
	"context"
	"os"
	"path/filepath"
)

func main() {
	os.Exit(run(context.Background(), filepath.Base(os.Args[0]), os.Args[1:], os.Stdout, os.Stderr))
}
