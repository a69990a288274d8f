#!/usr/bin/env python3
"""Check Samsara's initramfs (a cpio archive in the "newc" format).

The archive is parsed here, not by cpio(1): each entry is a 110-byte ASCII
header (magic "070701" and thirteen 8-digit hex fields), the NUL-terminated
name padded to a multiple of 4 bytes counted from the header's start, then
the data padded the same way; the entry named "TRAILER!!!" ends it. A
symlink's data is its target. In newc a set of hard links stores the data
only once, with the last link, so links are joined by inode afterwards.

Checks: /bin/busybox is an ELF64 x86-64 static executable (ET_EXEC, no
PT_INTERP); /bin/sh resolves to it; /sbin/init exists; /bin/hello is a
static ELF executable; every entry is owned by root, except that a home
/home/NAME and what is in it belong to NAME's uid in /etc/passwd. Prints
"initramfs: N entries, M bytes, K applets" (K: /bin entries that are links to
/bin/busybox) and exits 0, or prints the first failure and exits 1.

Usage: tools/check-initramfs.py [--list] [ARCHIVE]   (default
build/initramfs.cpio); --list also prints every entry like `ls -l`.
"""
import posixpath
import stat
import struct
import sys

HEADER_LEN = 110
FIELDS = ("ino", "mode", "uid", "gid", "nlink", "mtime", "filesize",
          "devmajor", "devminor", "rdevmajor", "rdevminor", "namesize", "check")


class Bad(Exception):
    """The archive is malformed or fails a check."""


def align4(n):
    return (n + 3) & ~3


def parse(blob):
    """Return {name: entry} for a newc archive; names have no leading "/"."""
    entries, pos = {}, 0
    while True:
        if pos + HEADER_LEN > len(blob):
            raise Bad(f"truncated header at offset {pos} (no TRAILER!!!)")
        magic = blob[pos:pos + 6]
        if magic not in (b"070701", b"070702"):
            raise Bad(f"bad magic {magic!r} at offset {pos} (not newc)")
        try:
            values = [int(blob[pos + 6 + 8 * i:pos + 14 + 8 * i], 16)
                      for i in range(len(FIELDS))]
        except ValueError:
            raise Bad(f"non-hex header field at offset {pos}") from None
        e = dict(zip(FIELDS, values))
        name_end = pos + HEADER_LEN + e["namesize"]
        if e["namesize"] == 0 or name_end > len(blob) or blob[name_end - 1] != 0:
            raise Bad(f"bad name at offset {pos}")
        raw = blob[pos + HEADER_LEN:name_end - 1].decode("utf-8", "replace")
        data_start = align4(name_end)
        data_end = data_start + e["filesize"]
        if data_end > len(blob):
            raise Bad(f"/{raw}: data runs past the end of the archive")
        e["data"] = blob[data_start:data_end]
        pos = align4(data_end)
        if raw == "TRAILER!!!":
            break
        name = posixpath.normpath("/" + raw).lstrip("/")
        if not name or name == ".":
            continue  # the root directory itself
        if name in entries:
            raise Bad(f"duplicate entry {name}")
        entries[name] = e
    # Hard links: give each empty member of an inode set the stored data.
    by_inode = {}
    for e in entries.values():
        if stat.S_ISREG(e["mode"]) and e["nlink"] > 1 and e["filesize"]:
            by_inode[(e["devmajor"], e["devminor"], e["ino"])] = e["data"]
    for e in entries.values():
        key = (e["devmajor"], e["devminor"], e["ino"])
        if stat.S_ISREG(e["mode"]) and e["nlink"] > 1 and key in by_inode:
            e["data"] = by_inode[key]
    return entries, pos


def resolve(entries, name, depth=0):
    """Follow symlinks from name; return the final name or None."""
    if depth > 16 or name not in entries:
        return None
    e = entries[name]
    if not stat.S_ISLNK(e["mode"]):
        return name
    target = e["data"].decode("utf-8", "replace")
    base = "/" if target.startswith("/") else "/" + posixpath.dirname(name)
    return resolve(entries, posixpath.normpath(posixpath.join(base, target)).lstrip("/"),
                   depth + 1)


def same_file(entries, a, b):
    """True if names a and b reach the same file (symlink or hard link)."""
    ra, rb = resolve(entries, a), resolve(entries, b)
    if ra is None or rb is None:
        return False
    if ra == rb:
        return True
    ea, eb = entries[ra], entries[rb]
    return (stat.S_ISREG(ea["mode"]) and ea["nlink"] > 1 and
            all(ea[k] == eb[k] for k in ("devmajor", "devminor", "ino")))


def check_static_exec(entries, name):
    """Raise Bad unless name is a static ELF64 x86-64 ET_EXEC file."""
    real = resolve(entries, name)
    if real is None:
        raise Bad(f"/{name} is missing or a dangling link")
    e = entries[real]
    data = e["data"]
    if not stat.S_ISREG(e["mode"]):
        raise Bad(f"/{name} is not a regular file")
    if not e["mode"] & 0o111:
        raise Bad(f"/{name} is not executable (mode {e['mode'] & 0o7777:o})")
    if len(data) < 64 or data[:4] != b"\x7fELF":
        raise Bad(f"/{name} is not an ELF file")
    if data[4] != 2 or data[5] != 1:
        raise Bad(f"/{name} is not ELF64 little-endian")
    e_type, e_machine = struct.unpack_from("<HH", data, 16)
    if e_machine != 62:
        raise Bad(f"/{name} is not x86-64 (e_machine {e_machine})")
    if e_type != 2:
        raise Bad(f"/{name} is not ET_EXEC (e_type {e_type}; PIE or object?)")
    phoff, = struct.unpack_from("<Q", data, 32)
    phentsize, phnum = struct.unpack_from("<HH", data, 54)
    if phnum == 0 or phoff + phnum * phentsize > len(data) or phentsize < 56:
        raise Bad(f"/{name} has a bad program header table")
    for i in range(phnum):
        p_type, = struct.unpack_from("<I", data, phoff + i * phentsize)
        if p_type == 3:  # PT_INTERP
            raise Bad(f"/{name} is dynamically linked (has PT_INTERP)")


def listing(entries):
    for name, e in entries.items():
        mode = stat.filemode(e["mode"])
        line = f"{mode} {e['uid']:>4} {e['gid']:>4} {e['filesize']:>9} /{name}"
        if stat.S_ISLNK(e["mode"]):
            line += " -> " + e["data"].decode("utf-8", "replace")
        print(line)


def main(argv):
    args = [a for a in argv if a != "--list"]
    path = args[0] if args else "build/initramfs.cpio"
    try:
        with open(path, "rb") as f:
            blob = f.read()
    except OSError as err:
        print(f"check-initramfs: {err}", file=sys.stderr)
        return 1
    try:
        entries, end = parse(blob)
        if "--list" in argv:
            listing(entries)
        homes = {}
        for line in entries.get("etc/passwd", {}).get("data", b"").decode().splitlines():
            f = line.split(":")
            if len(f) >= 6 and f[5].startswith("/home/"):
                homes[f[5].lstrip("/")] = (int(f[2]), int(f[3]))
        for name, e in entries.items():
            home = next((h for h in homes if name == h or name.startswith(h + "/")), None)
            owner = homes[home] if home else (0, 0)
            if (e["uid"], e["gid"]) != owner:
                raise Bad(f"/{name} is owned by {e['uid']}:{e['gid']}, not {owner[0]}:{owner[1]}")
        check_static_exec(entries, "bin/busybox")
        if not same_file(entries, "bin/sh", "bin/busybox"):
            raise Bad("/bin/sh does not link to /bin/busybox")
        if resolve(entries, "sbin/init") is None:
            raise Bad("/sbin/init is missing or a dangling link")
        check_static_exec(entries, "bin/hello")
    except Bad as err:
        print(f"check-initramfs: {path}: {err}", file=sys.stderr)
        return 1
    applets = sum(1 for n in entries
                  if n.startswith("bin/") and n != "bin/busybox"
                  and same_file(entries, n, "bin/busybox"))
    print(f"initramfs: {len(entries)} entries, {len(blob)} bytes, {applets} applets")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
