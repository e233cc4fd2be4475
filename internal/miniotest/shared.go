package miniotest

import (
	"sync"
	"testing"
)

// Shared starts one server on first use and lends it to every test of a
// package, which saves a start per test. Keep it in a package variable and
// stop it from TestMain:
//
//	var minio miniotest.Shared
//
//	func TestMain(m *testing.M) {
//		code := m.Run()
//		minio.Stop()
//		os.Exit(code)
//	}
//
//	func TestSomething(t *testing.T) {
//		srv := minio.Get(t)
//		bucket := srv.NewBucket(t)
//		…
//	}
type Shared struct {
	// Options apply to the one Launch; set them before the first Get.
	Options Options

	once    sync.Once
	srv     *Server
	missing error // no binary: skip rather than fail
	err     error
}

// Get returns the shared server, launching it on the first call. Under
// -short, or when the binary is missing, the test is skipped (a missing
// binary fails it under S3MOUNT_TEST_REQUIRE=1); a server that would not
// start fails every test that asks for it.
func (s *Shared) Get(t testing.TB) *Server {
	t.Helper()
	skipIfShort(t)
	s.once.Do(func() {
		opts := s.Options
		if opts.Binary == "" {
			if opts.Binary, s.missing = FindBinary(); s.missing != nil {
				return
			}
		}
		s.srv, s.err = Launch(opts)
	})
	if s.missing != nil {
		SkipOrFail(t, s.missing.Error())
	}
	if s.err != nil {
		t.Fatalf("start minio: %v", s.err)
	}
	return s.srv
}

// Stop stops the server if Get started one.
func (s *Shared) Stop() {
	if s.srv != nil {
		s.srv.Stop()
	}
}
