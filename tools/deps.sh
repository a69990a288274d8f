#!/bin/sh
# Install what building, running and testing Samsara needs on Debian 12,
# only if something is missing. Called by make; safe to run again.
set -e
need=""
have() { command -v "$1" >/dev/null 2>&1; }
have qemu-system-x86_64 || need="$need qemu-system-x86"
have gcc || need="$need gcc"
have make || need="$need make"
have ld || need="$need binutils"
have python3 || need="$need python3"
have gdb || need="$need gdb"
# ext2: images (mke2fs -d), their checks (e2fsck -fn) and a second reader (debugfs)
{ have mke2fs || [ -x /sbin/mke2fs ]; } && { have e2fsck || [ -x /sbin/e2fsck ]; } &&
    { have debugfs || [ -x /sbin/debugfs ]; } || need="$need e2fsprogs"
# the host unit tests build with AddressSanitizer
[ -n "$(gcc -print-file-name=libasan.so 2>/dev/null | grep /)" ] || need="$need libasan8"
[ -z "$need" ] && exit 0
echo "deps: installing$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $need
