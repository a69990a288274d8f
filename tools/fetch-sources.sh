#!/bin/sh
# Fetch the Debian source packages Samsara's userland is built from into the
# git-ignored folder third_party/, and install the host tools that build it.
#
# Design: everything comes from the Debian archive the host already uses.
# If apt knows no deb-src index for the main archive, we add one
# (/etc/apt/sources.list.d/samsara-src.sources) that copies the URIs, suites
# and key of the existing "deb" stanza whose suites include this release's
# codename, so no mirror is hard-coded. Then `apt-get source busybox`
# unpacks BusyBox as third_party/busybox-VERSION, and the symlink
# third_party/busybox names it for the build (mk/userland.mk); lwIP, the
# TCP/IP stack of the inet server, comes the same way as third_party/lwip
# (mk/lwip.mk). Each step is skipped when its result is already there, so a
# second run prints nothing (about 0.5 s, apt's index queries; --tools-only,
# which checks the tools alone, a few ms). Runs are serialised by a lock
# (third_party/.fetch.lock): make -j2 may ask for BusyBox and lwIP at once,
# and apt allows one writer. `tools/fetch-sources.sh tcl` fetches only Tcl
# (third_party/tcl8.6), whose test suite `make peer-tests SUITE=tcl` runs
# (mk/tcl.mk, docs/PEER-TESTS.md): no part of the default build.
# Usage: tools/fetch-sources.sh [--tools-only | tcl]
set -e
cd "$(dirname "$0")/.."
mkdir -p third_party
exec 9>third_party/.fetch.lock
flock 9

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
have() { command -v "$1" >/dev/null 2>&1; }
updated=""
apt_update() {
	[ -n "$updated" ] && return 0
	echo "fetch-sources: apt-get update"
	$SUDO apt-get update -qq
	updated=1
}

# 1. Host tools: musl-gcc builds BusyBox and user/*.c, dpkg-source unpacks
#    source packages, cpio writes the initramfs, bzip2/xz read the tarballs,
#    linux-libc-dev has the kernel headers BusyBox includes.
need=""
have musl-gcc || need="$need musl-tools"
have dpkg-source || need="$need dpkg-dev"
have cpio || need="$need cpio"
have bzip2 || need="$need bzip2"
have xz || need="$need xz-utils"
[ -f /usr/include/linux/version.h ] || need="$need linux-libc-dev"
have make || need="$need make"
have gcc || need="$need gcc"
if [ -n "$need" ]; then
	apt_update
	echo "fetch-sources: installing$need"
	$SUDO apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
[ "$1" = "--tools-only" ] && exit 0

# 2. A deb-src index for the main archive.
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# Prints "URIs|Suites|Signed-By" of the first deb stanza listing $codename.
main_stanza() {
	awk -v want="$codename" '
	function flush() {
		if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && !done) {
			print uris "|" suites "|" key; done = 1
		}
		types = uris = suites = key = ""
	}
	/^[ \t]*#/ { next }
	/^[ \t]*$/ { flush(); next }
	{
		k = $1; sub(/:$/, "", k); v = $0; sub(/^[^:]*:[ \t]*/, "", v)
		if (k == "Types") types = v
		else if (k == "URIs") uris = v
		else if (k == "Suites") suites = v
		else if (k == "Signed-By") key = v
	}
	END { flush() }' /etc/apt/sources.list.d/debian.sources
}
src_file=/etc/apt/sources.list.d/samsara-src.sources
[ -f /etc/apt/sources.list.d/debian.sources ] || {
	echo "fetch-sources: no /etc/apt/sources.list.d/debian.sources to copy the archive from" >&2
	exit 1
}
stanza=$(main_stanza)
uris=${stanza%%|*}; rest=${stanza#*|}; suites=${rest%%|*}; key=${rest#*|}
if [ -z "$uris" ] || [ -z "$suites" ]; then
	echo "fetch-sources: no deb stanza for '$codename' in debian.sources" >&2
	exit 1
fi
# apt's configured Sources indexes (any file, any format) for that archive.
uri=${uris%% *}
if ! apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 'Identifier: Sources' 2>/dev/null |
	grep -qxF "${uri%/}/ $codename"; then
	echo "fetch-sources: adding $src_file ($uris $suites)"
	{
		echo "Types: deb-src"
		echo "URIs: $uris"
		echo "Suites: $suites"
		echo "Components: main"
		[ -z "$key" ] || echo "Signed-By: $key"
	} | $SUDO tee "$src_file" >/dev/null
	updated=""
	apt_update
fi
# The entry may exist while its index was never downloaded.
apt-cache showsrc busybox 2>/dev/null | grep -q '^Package: busybox' || { updated=""; apt_update; }

# 3. Source packages, unpacked once; third_party/NAME -> NAME-VERSION.
#    fetch NAME FILE: FILE (inside the package) shows it is unpacked.
fetch() {
	name=$1
	[ -f "third_party/$name/$2" ] && return 0
	echo "fetch-sources: apt-get source $name"
	(cd third_party && apt-get source -qq "$name" >/dev/null 2>apt-source.log) || {
		cat third_party/apt-source.log >&2; exit 1
	}
	rm -f third_party/apt-source.log
	dir=$(cd third_party && ls -d "$name"-[0-9]*/ | sort -V | tail -n 1)
	ln -sfn "${dir%/}" "third_party/$name"
	echo "fetch-sources: third_party/$name -> ${dir%/}"
}
if [ "$1" = "tcl" ]; then
	fetch tcl8.6 unix/configure
	exit 0
fi
fetch busybox Makefile
fetch lwip src/core/init.c
