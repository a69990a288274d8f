#!/bin/sh
# Stage Samsara's root file system and pack it as a newc cpio initramfs.
#
# Usage: tools/mkinitramfs.sh OUT.cpio ROOTDIR BUSYBOX APPLETS [PROG...]
# ROOTDIR is emptied and filled with /bin/busybox, a symlink
# /bin/APPLET -> busybox for each name in the file APPLETS, /sbin/init ->
# /bin/init (Samsara's, from user/init.c) or else /bin/busybox, a minimal /etc with two
# users (root, and user with uid 1000 and the home /home/user), the empty directories the system expects,
# and each PROG copied to /bin under its basename (a program replaces an
# applet link of the same name). The archive is reproducible: entries in
# sorted order, owner root (/home/user: user), fixed modes, every time stamp set to
# SOURCE_DATE_EPOCH (default 0) and inode numbers renumbered. Names are
# stored without a leading "/" or "./" (e.g. "bin/sh"), as the Linux
# kernel's own gen_init_cpio does. Called by mk/userland.mk.
set -eu
[ $# -ge 4 ] || { echo "usage: $0 OUT.cpio ROOTDIR BUSYBOX APPLETS [PROG...]" >&2; exit 2; }
top=$PWD
etc_overlay=$(cd "$(dirname "$0")/../user/etc" 2>/dev/null && pwd || true) # files for /etc
abs() { case $1 in /*) echo "$1" ;; *) echo "$top/$1" ;; esac; }
out=$(abs "$1") root=$2 busybox=$(abs "$3") applets=$(abs "$4")
shift 4
epoch=${SOURCE_DATE_EPOCH:-0}

case $root in "" | / | .) echo "$0: refusing ROOTDIR '$root'" >&2; exit 2 ;; esac
rm -rf "$root"
mkdir -p "$root"
cd "$root"
umask 022
mkdir -p bin sbin etc dev proc tmp mnt root usr/bin home/user
chmod 1777 tmp
chmod 0700 root

cp "$busybox" bin/busybox
chmod 0755 bin/busybox
while IFS= read -r name; do
	case $name in "" | busybox) ;; *) ln -s busybox "bin/$name" ;; esac
done < "$applets"
ln -sfn /bin/busybox sbin/init

[ -n "$etc_overlay" ] && cp -R "$etc_overlay/." etc/
# root may become anyone (su needs no password for root); both passwords are
# locked ("*" in /etc/shadow), so no one becomes root by a password.
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n' > etc/passwd
printf 'root:x:0:\ntty:x:5:\nuser:x:1000:\n' > etc/group
printf 'root:*:0:0:99999:7:::\nuser:*:0:0:99999:7:::\n' > etc/shadow
printf '/bin/sh\n/bin/ash\n' > etc/shells
printf 'samsara\n' > etc/hostname
chmod 0644 etc/passwd etc/group etc/shells etc/hostname
chmod 0600 etc/shadow

for prog in "$@"; do
	dst=bin/$(basename "$prog")
	rm -f "$dst"
	cp "$(abs "$prog")" "$dst"
	chmod 0755 "$dst"
done

# Samsara's own init (user/init.c) is pid 1 when it is there; BusyBox's otherwise.
[ -f bin/init ] && ln -sfn /bin/init sbin/init

find . -exec touch -h -d "@$epoch" {} +
find . -mindepth 1 | sed 's|^\./||' | grep -v '^home/user' | LC_ALL=C sort |
	cpio -o -H newc --owner=0:0 --reproducible --quiet > "$out.tmp"
# the user's home belongs to the user: appended to the same archive with its owner
find home/user | LC_ALL=C sort |
	cpio -o -A -F "$out.tmp" -H newc --owner=1000:1000 --reproducible --quiet
mv -f "$out.tmp" "$out"
