#!/bin/sh
# Build the small initramfs that fstest checks ramfs against.
#
# Usage: tests/servers/fstest/mksample.sh OUT.cpio
#
# The tree is staged in a temporary directory and packed with the host's
# `cpio -o -H newc`. Device nodes need root to create on the host, so the
# two character devices are hand-written newc headers put in front of
# cpio's output: "dev/console" (5, 1; its parent "dev" is not in the
# archive, so ramfs must create it) and "/dev/null" (1, 3; a leading "/"
# that ramfs must drop), with a directory "./hand" (GNU cpio would drop
# that "./" itself), owned by 1000:50 (ramfs must keep owners). The list given to cpio leaves out the parents of
# deep/x/y/file.
# tests/servers/fstest/test_tree.c expects exactly this content.
set -eu
[ $# -eq 1 ] || { echo "usage: $0 OUT.cpio" >&2; exit 2; }
case $1 in /*) out=$1 ;; *) out=$PWD/$1 ;; esac
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cd "$stage"
umask 022
chmod 0755 .

mkdir etc bin empty tmp
chmod 0700 empty
printf 'samsara\n' > etc/hostname
printf 'root:x:0:0:root:/root:/bin/sh\n' > etc/passwd
ln etc/passwd etc/passwd.link
printf 'x' > etc/group
: > etc/empty
head -c 4096 /dev/zero | tr '\0' 'z' > etc/block
seq -f 'line %04g' 1 1000 > bin/hello # 10000 bytes
chmod 0755 bin/hello
ln -s hello bin/sh
ln -s /nonexistent/target dangling
mkfifo tmp/fifo
mkdir -p deep/x/y
printf 'deep\n' > deep/x/y/file
long=$(printf '%0255d' 0 | tr 0 L)
printf 'long\n' > "$long"

# One newc header (no data): name, mode (octal), rdev major, rdev minor[, uid, gid].
node() {
	ns=$((${#1} + 1))
	printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
		1000 $(($2)) "${5:-0}" "${6:-0}" 1 0 0 0 0 "$3" "$4" "$ns" 0
	printf '%s\000' "$1"
	head -c $(((4 - (110 + ns) % 4) % 4)) /dev/zero
}

{
	node dev/console 020620 5 1
	node /dev/null 020666 1 3
	node ./hand 040750 0 0 1000 50
	printf '%s\n' . etc etc/hostname etc/passwd etc/passwd.link etc/group etc/empty \
		etc/block bin bin/hello bin/sh dangling empty tmp tmp/fifo deep/x/y/file "$long" |
		cpio -o -H newc --owner=0:0 --quiet
} > "$out.tmp"
mv -f "$out.tmp" "$out"
