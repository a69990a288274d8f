#!/bin/sh
# tools/mkiso.sh ISO GRUB_CFG FILE...: make iso's GRUB 2 BIOS image (docs/BOOT.md). The FILEs
# (the kernel and the boot modules) go to /boot/samsara on the CD, GRUB_CFG (tools/qemu.py
# --grub-cfg) to /boot/grub/grub.cfg. Every date in the image is SOURCE_DATE_EPOCH (the Makefile
# gives the last commit's), so the same files make the same image, byte for byte.
set -e
iso=$1 cfg=$2
shift 2
stage=$(dirname "$iso")/iso
rm -rf "$stage"
mkdir -p "$stage/boot/grub" "$stage/boot/samsara"
cp "$cfg" "$stage/boot/grub/grub.cfg"
cp "$@" "$stage/boot/samsara/"
date=$(date -u -d "@${SOURCE_DATE_EPOCH:-0}" +%Y%m%d%H%M%S00)
# BIOS only (GRUB's i386-pc modules, from grub-pc-bin), with just the modules grub.cfg uses
# beyond those in GRUB's core image (iso9660, biosdisk); no translations, fonts or themes.
# The last --modification-date (the volume's dates and UUID) overrides grub-mkrescue's clock.
if ! grub-mkrescue -o "$iso.tmp" -d /usr/lib/grub/i386-pc --locales= --fonts= --themes= \
    --install-modules="multiboot normal serial terminal" \
    --modification-date="$date" --set_all_file_dates "$date" "$stage" >"$iso.log" 2>&1; then
    cat "$iso.log" >&2
    rm -f "$iso.tmp"
    exit 1
fi
mv "$iso.tmp" "$iso"
