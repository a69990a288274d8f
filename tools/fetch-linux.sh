#!/bin/sh
# Fetch Debian's Linux kernel for the peer guest of `make bench-net` (docs/BENCH-NET.md)
# into the git-ignored third_party/, without installing it.
#
# `linux-image-amd64` is a metapackage: its one dependency names the current kernel
# package (e.g. linux-image-6.1.0-57-amd64). We ask apt for that name, `apt-get download`
# its .deb (about 70 MB) and unpack it with `dpkg -x` into third_party/linux-VERSION;
# the symlink third_party/linux names it for the build (vmlinuz in boot/, the NIC
# modules under lib/modules/VERSION/kernel/). Nothing is installed on the host and no
# maintainer script runs. Skipped when third_party/linux/boot/vmlinuz-* is there, so a
# second run prints nothing. Serialised with tools/fetch-sources.sh by the same lock.
# Called by make (the peer targets), never by `make all`. Usage: tools/fetch-linux.sh
set -e
cd "$(dirname "$0")/.."
ls third_party/linux/boot/vmlinuz-* >/dev/null 2>&1 && exit 0
mkdir -p third_party
exec 9>third_party/.fetch.lock
flock 9
ls third_party/linux/boot/vmlinuz-* >/dev/null 2>&1 && exit 0

have() { command -v "$1" >/dev/null 2>&1; }
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
name=$(pkg)
if [ -z "$name" ]; then
	echo "fetch-linux: apt-get update (no linux-image-amd64 in apt's index)"
	$SUDO apt-get update -qq
	name=$(pkg)
fi
[ -n "$name" ] || { echo "fetch-linux: apt knows no linux-image-amd64" >&2; exit 1; }

echo "fetch-linux: apt-get download $name"
tmp=third_party/linux-download
rm -rf "$tmp" && mkdir -p "$tmp"
# apt's _apt user may not write here; the download is verified against apt's index either way.
(cd "$tmp" && apt-get download -qq "$name" >/dev/null 2>apt.log) || {
	cat "$tmp/apt.log" >&2; exit 1
}
deb=$(ls "$tmp"/*.deb)
version=$(dpkg-deb -f "$deb" Version)
dir=linux-${name#linux-image-}-$version
rm -rf "third_party/$dir"
dpkg -x "$deb" "third_party/$dir"
rm -rf "$tmp"
ln -sfn "$dir" third_party/linux
echo "fetch-linux: third_party/linux -> $dir ($(ls third_party/linux/boot/vmlinuz-*))"
