// Package s3test gives the tests their S3 server, whichever it is: MinIO,
// Ceph RGW, versitygw, or a site's own gateway (external), chosen by one
// setting, S3MOUNT_TEST_SERVER. Every test that needs a server asks this
// package for it, so that the whole suite runs unchanged on each.
//
// What each server lacks is written down once, in lacks.go: the storetest
// conformance suite and the integration tests read that table, and a case
// that meets a listed refusal checks that it is the documented one (the
// sentinel error, ENOTSUP and its log line) instead of skipping. The
// README's table of servers is made from the same list.
//
// Invariants: a Server returned ready has answered a request signed with
// its own credentials; servers this package starts are on 127.0.0.1 and
// are killed, and their data removed, by Stop; an external server is never
// stopped and only the buckets the tests made are touched.
package s3test
