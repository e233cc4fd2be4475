#!/usr/bin/env bash
# Installs what the tests need: fuse3 and attr from Debian when missing, and
# MinIO built from source with `go install` at a pinned version (cached in
# $BIN with a version marker, so it is built once).
set -euo pipefail
: "${MINIO_VERSION:?}" "${BIN:?}"

need=()
command -v fusermount3 >/dev/null || need+=(fuse3)
command -v getfattr >/dev/null || need+=(attr)
command -v rsync >/dev/null || need+=(rsync)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v pgrep >/dev/null || need+=(procps)
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then sudo=sudo; else
			echo "install-tools: need root (or sudo) to install ${need[*]}" >&2; exit 1
		fi
	fi
	echo "install-tools: installing ${need[*]}"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p "$BIN"
if [ -x "$BIN/minio" ] && [ "$(cat "$BIN/.minio-version" 2>/dev/null)" = "$MINIO_VERSION" ]; then
	exit 0
fi
echo "install-tools: building MinIO $MINIO_VERSION (a few minutes, once)"
GOBIN="$BIN" go install "github.com/minio/minio@$MINIO_VERSION"
echo "$MINIO_VERSION" > "$BIN/.minio-version"
