package s3test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSelectedReadsTheOneSetting(t *testing.T) {
	for v, want := range map[string]Kind{"": MinIO, "minio": MinIO, "Ceph": Ceph, " versitygw ": VersityGW, "external": External} {
		t.Setenv(EnvServer, v)
		if got, err := Selected(); err != nil || got != want {
			t.Errorf("%s=%q: %v, %v; want %v", EnvServer, v, got, err, want)
		}
	}
	t.Setenv(EnvServer, "garage")
	if _, err := Selected(); err == nil || !strings.Contains(err.Error(), "minio, ceph, versitygw, external") {
		t.Errorf("an unknown server: err = %v, want one naming the choices", err)
	}
}

func TestExternalNeedsAnEndpointAndKeys(t *testing.T) {
	t.Setenv(EnvEndpoint, "")
	if err := Missing(External); err == nil || !strings.Contains(err.Error(), EnvEndpoint) {
		t.Errorf("external without an endpoint: %v", err)
	}
	t.Setenv(EnvEndpoint, "http://127.0.0.1:1/api/v1/s3")
	t.Setenv(EnvAccessKey, "AK")
	t.Setenv(EnvLacks, "object ACLs, versioning")
	if err := Missing(External); err != nil {
		t.Fatal(err)
	}
	srv, err := Launch(External, Options{})
	if err != nil || srv.Endpoint != "http://127.0.0.1:1/api/v1/s3" || srv.Region != "us-east-1" {
		t.Fatalf("external: %+v, %v", srv, err)
	}
	if !srv.Lacks("versioning") || !srv.Lacks("object ACLs") || srv.Lacks("CORS configurations") {
		t.Errorf("external lacks %v, want what %s says", srv.StoreLacks(), EnvLacks)
	}
	srv.Stop() // never stops an external server: nothing to check but that it returns
}

// The README shows the one list of what each server lacks; this keeps the
// two the same.
func TestREADMEListsWhatEachServerLacks(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if table := LacksTable(); !strings.Contains(string(b), table) {
		t.Errorf("README.md does not hold the table of lacks from internal/s3test/lacks.go; put this in it:\n%s", table)
	}
}
