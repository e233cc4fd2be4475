# s3mount. `make test` is what CI runs (.ci/run).
MINIO_VERSION := v0.0.0-20260212201848-7aac2a2c5b7c
VERSITYGW_VERSION := v1.8.0
VERSION := $(shell git describe --always --dirty 2>/dev/null || echo dev)
GO ?= go
BIN := $(CURDIR)/bin
GOFILES = $(shell find . -name '*.go' -not -path './.git/*' -not -path './bin/*' -not -path './.demo/*')

.PHONY: all build install tools tools-servers test test-servers test-unit soak bench bench-scale demo demo-stop fmt vet clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN)/s3mount ./cmd/s3mount

# The mount helper: mount(8) runs /sbin/mount.fuse.s3mount for fstab lines
# of type fuse.s3mount, with "SOURCE MOUNTPOINT -o OPTIONS".
PREFIX ?= /usr/local
install: build
	install -D -m 0755 $(BIN)/s3mount $(DESTDIR)$(PREFIX)/bin/s3mount
	ln -sf $(PREFIX)/bin/s3mount $(DESTDIR)/sbin/mount.fuse.s3mount
	ln -sf $(PREFIX)/bin/s3mount $(DESTDIR)/sbin/mount.s3mount
	install -D -m 0644 dist/s3mount@.service $(DESTDIR)/etc/systemd/system/s3mount@.service

tools:
	MINIO_VERSION=$(MINIO_VERSION) VERSITYGW_VERSION=$(VERSITYGW_VERSION) BIN=$(BIN) bash scripts/install-tools.sh

vet:
	$(GO) vet ./...
	@unformatted=$$(gofmt -l $(GOFILES)); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi

tools-servers:
	bash scripts/install-servers.sh

# The whole suite on MinIO, with -race. (The Ceph launcher's own tests need
# Debian's Ceph and run in test-servers.)
test: tools build vet
	S3MOUNT_MINIO=$(BIN)/minio S3MOUNT_VERSITYGW=$(BIN)/versitygw S3MOUNT_BIN=$(BIN)/s3mount \
		$(GO) test -race -count=1 -timeout 25m $$($(GO) list ./... | grep -v /internal/cephtest)

# The packages that talk to a server (the integration suite and the Store
# conformance suite), once on each other server: Ceph RGW and versitygw.
SERVER_PACKAGES := ./integration ./s3io/awsstore ./internal/s3test
TEST_SERVERS ?= ceph versitygw
test-servers: tools tools-servers build
	S3MOUNT_BIN=$(BIN)/s3mount $(GO) test -count=1 -timeout 10m ./internal/cephtest
	@for server in $(TEST_SERVERS); do \
		echo "== test-servers: $$server"; \
		S3MOUNT_TEST_SERVER=$$server S3MOUNT_VERSITYGW=$(BIN)/versitygw S3MOUNT_MINIO=$(BIN)/minio \
		S3MOUNT_BIN=$(BIN)/s3mount $(GO) test -count=1 -timeout 25m $(SERVER_PACKAGES) || exit 1; \
	done

# The long versions of the model test (20 seeds x 5,000 random operations)
# and of the crash test (25 kill -9 points).
soak: tools build
	S3MOUNT_MINIO=$(BIN)/minio S3MOUNT_BIN=$(BIN)/s3mount S3MOUNT_MODEL_SEEDS=20 S3MOUNT_MODEL_OPS=5000 \
		S3MOUNT_CRASH_POINTS=25 \
		$(GO) test -count=1 -timeout 60m -run 'RandomOperations|Crash' -v ./integration

test-unit: vet
	$(GO) test -race -count=1 -short ./...

# make bench BENCH_ARGS="--quick" (smoke run) or "--only write", ...
BENCH_ARGS ?=
bench: tools build
	S3MOUNT_MINIO=$(BIN)/minio $(GO) run ./integration/bench --s3mount $(BIN)/s3mount $(BENCH_ARGS)

# make bench-scale (1,000,000 keys, made first with parallel PUTs: many
# minutes) or BENCH_SCALE_ARGS="--keys 20000" (a smoke run). Needs root.
BENCH_SCALE_ARGS ?=
bench-scale: tools build
	S3MOUNT_MINIO=$(BIN)/minio $(GO) run ./integration/benchscale --s3mount $(BIN)/s3mount $(BENCH_SCALE_ARGS)

demo: tools build
	bash scripts/demo.sh start

demo-stop:
	bash scripts/demo.sh stop

fmt:
	gofmt -w $(GOFILES)

clean:
	rm -rf $(BIN) .demo
