#!/usr/bin/env bash
# Installs Ceph RGW from Debian's packages (ceph-mon, ceph-osd, radosgw)
# for `make test-servers`; versitygw comes with `make tools`.
set -euo pipefail

need=()
for cmd in ceph-mon:ceph-mon ceph-osd:ceph-osd radosgw:radosgw radosgw-admin:radosgw monmaptool:ceph-mon; do
	command -v "${cmd%%:*}" >/dev/null || need+=("${cmd##*:}")
done
if [ ${#need[@]} -gt 0 ]; then
	sudo=""
	if [ "$(id -u)" != 0 ]; then
		if command -v sudo >/dev/null; then sudo=sudo; else
			echo "install-servers: need root (or sudo) to install ${need[*]}" >&2; exit 1
		fi
	fi
	mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
	echo "install-servers: installing ${need[*]} (Debian's Ceph)"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
	# The packages start nothing we need: the tests run their own cluster.
	$sudo systemctl stop ceph.target 2>/dev/null || true
fi

