package s3test

import (
	"sync"
	"testing"

	"github.com/s3mount/s3mount/internal/miniotest"
)

// Shared starts the selected server on first use and lends it to every
// test of a package. Keep it in a package variable and stop it from
// TestMain:
//
//	var server s3test.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		server.Stop()
//		os.Exit(code)
//	}
type Shared struct {
	// Options apply to the one Launch; set them before the first Get.
	Options Options

	once    sync.Once
	srv     *Server
	missing error // a missing prerequisite: skip rather than fail
	err     error
}

// Get returns the shared server, launching it on the first call. Under
// -short, or when the server cannot exist here, the test is skipped with
// the reason (failed under S3MOUNT_TEST_REQUIRE=1); a server that would
// not start fails every test that asks for it.
func (s *Shared) Get(t testing.TB) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs an S3 server")
	}
	s.once.Do(func() {
		kind, err := Selected()
		if err != nil {
			s.err = err
			return
		}
		if s.missing = Missing(kind); s.missing != nil {
			return
		}
		s.srv, s.err = Launch(kind, s.Options)
	})
	if s.missing != nil {
		miniotest.SkipOrFail(t, s.missing.Error())
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	return s.srv
}

// Stop stops the server if Get started one.
func (s *Shared) Stop() {
	if s.srv != nil {
		s.srv.Stop()
	}
}

// Start launches a server of the selected kind for one test, stopped when
// the test ends; skipped or failed like Shared.Get.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: this test needs an S3 server")
	}
	kind, err := Selected()
	if err != nil {
		t.Fatal(err)
	}
	if err := Missing(kind); err != nil {
		miniotest.SkipOrFail(t, err.Error())
	}
	srv, err := Launch(kind, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s log (last lines):\n%s", kind, srv.LogTail(4096))
		}
		srv.Stop()
	})
	return srv
}
