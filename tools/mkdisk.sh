#!/bin/sh
# Make Samsara's disk image: an ext2 file system (revision 1, 4 KiB blocks) holding the staged
# root file system, for ROOT=ext2 (docs/FILESYSTEMS.md).
#
# Usage: tools/mkdisk.sh OUT.img STAGING SIZE_MIB
# STAGING is the folder tools/mkinitramfs.sh fills for the initramfs (build/rootfs: BusyBox and
# its links, the system's programs and EXTRA_PROGS in /bin, /etc), so the disk and the initramfs
# hold the same files from one list. mke2fs -d copies it in; the owners are then set as the
# initramfs has them (root, and /home/user for the user, uid 1000), whoever runs the build. The
# image is reproducible: time stamps SOURCE_DATE_EPOCH (default 0), a fixed UUID and hash seed.
# The image is written through a temporary file, so a failed run leaves the old one.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 OUT.img STAGING SIZE_MIB" >&2; exit 2; }
out=$1 staging=$2 size=$3
[ -d "$staging/bin" ] || { echo "$0: $staging is not a staged root (no bin/)" >&2; exit 2; }
mke2fs=$(command -v mke2fs || echo /sbin/mke2fs)
debugfs=$(command -v debugfs || echo /sbin/debugfs)
uuid=53616d73-6172-4100-8000-000000000001 # "Samsara" in hex, then a constant
export E2FSPROGS_FAKE_TIME="${SOURCE_DATE_EPOCH:-0}"
[ "$E2FSPROGS_FAKE_TIME" -gt 0 ] || E2FSPROGS_FAKE_TIME=1 # 0 means "not set" to e2fsprogs

rm -f "$out.tmp"
truncate -s "${size}M" "$out.tmp"
"$mke2fs" -q -F -t ext2 -b 4096 -L samsara -U "$uuid" -E "hash_seed=$uuid" -d "$staging" "$out.tmp"
# Owners: everything root's, the user's home the user's (mke2fs -d took the builder's).
cmds=$(mktemp)
trap 'rm -f "$cmds" "$out.tmp"' EXIT
(cd "$staging" && find . | sed 's|^\.||') | while IFS= read -r path; do
	[ -n "$path" ] || path=/
	case $path in /home/user | /home/user/*) id=1000 ;; *) id=0 ;; esac
	printf 'sif "%s" uid %s\nsif "%s" gid %s\n' "$path" "$id" "$path" "$id"
done > "$cmds"
"$debugfs" -w -f "$cmds" "$out.tmp" > /dev/null 2>&1
mv -f "$out.tmp" "$out"
trap - EXIT
rm -f "$cmds"
