#!/bin/sh
# Install what building, running and testing Samsara needs on Debian 12,
# only if something is missing. Called by make; safe to run again.
# --plot: also matplotlib, for the PNG of `make bench-net` (docs/BENCH-NET.md).
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
# make iso: grub-mkrescue (grub-common) with GRUB's BIOS images and modules (grub-pc-bin, not
# grub-pc, which would install GRUB on this machine's disk) and xorriso to write the image
# (mtools only for UEFI images, which make iso does not make)
have grub-mkrescue || need="$need grub-common"
[ -f /usr/lib/grub/i386-pc/cdboot.img ] || need="$need grub-pc-bin"
have xorriso || need="$need xorriso"
# the disk image (tools/mkdisk.sh: mke2fs -d, debugfs) and e2fsck for the tests of ext2
{ have mke2fs || [ -x /sbin/mke2fs ]; } && { have debugfs || [ -x /sbin/debugfs ]; } ||
	need="$need e2fsprogs"
if [ "$1" = --plot ]; then
	# Debian's package is for Debian's python3 (tools/bench_net.py finds it from another one)
	/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || need="$need python3-matplotlib"
fi
[ -z "$need" ] && exit 0
echo "deps: installing$need"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends $need
