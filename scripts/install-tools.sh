#!/usr/bin/env bash
# Installs what the tests need: fuse3 and attr from Debian when missing, and
# MinIO and versitygw built from source with `go install` at pinned
# versions (cached in $BIN with version markers, so each is built once).
set -euo pipefail
: "${MINIO_VERSION:?}" "${VERSITYGW_VERSION:?}" "${BIN:?}"

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
# build NAME MODULE VERSION: go install MODULE@VERSION into $BIN, once.
build() {
	if [ -x "$BIN/$1" ] && [ "$(cat "$BIN/.$1-version" 2>/dev/null)" = "$3" ]; then
		return
	fi
	echo "install-tools: building $1 $3 (a few minutes, once)"
	GOBIN="$BIN" go install "$2@$3"
	echo "$3" > "$BIN/.$1-version"
}
build minio github.com/minio/minio "$MINIO_VERSION"
build versitygw github.com/versity/versitygw/cmd/versitygw "$VERSITYGW_VERSION"
