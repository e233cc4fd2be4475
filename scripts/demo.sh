#!/usr/bin/env bash
# make demo: a local MinIO on 127.0.0.1 with a sample bucket, mounted at ./mnt.
# make demo-stop: unmount and stop MinIO.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
state=$top/.demo
mnt=$top/mnt
# Loopback-only demo server: fixed keys are fine here and never leave it.
export AWS_ACCESS_KEY_ID=demo-access-key AWS_SECRET_ACCESS_KEY=demo-secret-key
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

stop() {
	if grep -qs " $mnt " /proc/mounts; then fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt"; fi
	if [ -f "$state/minio.pid" ]; then kill "$(cat "$state/minio.pid")" 2>/dev/null || true; rm -f "$state/minio.pid"; fi
	echo "demo stopped (data kept in $state/data; 'make clean' removes it)"
}

start() {
	if grep -qs " $mnt " /proc/mounts; then echo "already mounted at $mnt (make demo-stop first)"; exit 1; fi
	mkdir -p "$state/data" "$mnt"
	port=$(free_port)
	MINIO_ROOT_USER=$AWS_ACCESS_KEY_ID MINIO_ROOT_PASSWORD=$AWS_SECRET_ACCESS_KEY \
		setsid "$top/bin/minio" server --address "127.0.0.1:$port" --console-address "127.0.0.1:$(free_port)" \
		"$state/data" > "$state/minio.log" 2>&1 &
	echo $! > "$state/minio.pid"
	endpoint=http://127.0.0.1:$port
	for _ in $(seq 100); do
		curl -fs "$endpoint/minio/health/live" >/dev/null 2>&1 && break
		sleep 0.1
	done
	echo "MinIO on $endpoint (log: $state/minio.log)"
	if [ ! -f "$state/filled" ]; then
		echo "filling bucket 'demo' (a 1 GiB file and 3,000 small files; about a minute)..."
		go run ./scripts/demodata -endpoint "$endpoint" -access-key "$AWS_ACCESS_KEY_ID" -secret-key "$AWS_SECRET_ACCESS_KEY"
		touch "$state/filled"
	fi
	"$top/bin/s3mount" --endpoint-url "$endpoint" --force-path-style --log-file "$state/s3mount.log" \
		--staging-dir "$state/staging" demo "$mnt"
	cat <<MSG

Mounted bucket 'demo' at ./mnt. Try:
  ls -l mnt mnt/docs/guide
  find mnt/docs mnt/src
  cat mnt/README.txt
  time md5sum mnt/big/1GiB.bin       # the first read streams from S3, the second is cached
  ls mnt/many/07 | wc -l
  cp -r /etc/apt mnt/copied && ls -l mnt/copied   # writes: close returns once S3 has the data
  setfattr -n s3.tags -v project=demo mnt/README.txt && getfattr -d -m - mnt/README.txt
Stop it with: make demo-stop
MSG
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
