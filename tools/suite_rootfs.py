"""ext2 as the root file system (ROOT=ext2, docs/FILESYSTEMS.md), booted from a copy of
build/disk.img as make run boots it (tools/qemu.py: run_boot): ext2 on `/`, tmpfs on /tmp, no
ramfs; BusyBox runs from the disk (the inode the host's debugfs names). Four boots of one image:

1. virtio-blk: files written (a sha256 the host computes, a file in the user's home), then
   BusyBox's `poweroff`: tmpfs and then ext2 unmount, QEMU ends with status 0, and on the host
   `e2fsck -fn` finds the image clean and marked cleanly unmounted, debugfs reads the files.
2. AHCI (DISKIF=ahci): they are read back, /tmp is empty again, another file written, poweroff.
3. AHCI: that one read back; ext2 killed, its new instance followed (the cwd, files readable);
   a third file written, `sync`, then QEMU is killed (no unmount):
   e2fsck finds the file system consistent (not marked clean) and debugfs reads the file.
4. virtio-blk: ext2 says the file system was not cleanly unmounted, the synced file is there;
   `reboot` unmounts it and QEMU ends: clean again.

Called by tools/test.py as run(record, module)."""
import hashlib
import os
import shutil
import subprocess
import tempfile
import time

from qemu import BUILD, Boot, run_boot
from suite_system import PROMPT, check

SEQ = 20000


def seq_sha(n):
    return hashlib.sha256("".join(f"{i}\n" for i in range(1, n + 1)).encode()).hexdigest()


def debugfs(img, request):
    return subprocess.run(["debugfs", "-R", request, img], capture_output=True).stdout


def host_checks(record, name, img, clean, files):
    """e2fsck -fn (exit 0), the superblock's state (clean or not), and files: path -> bytes."""
    out = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    record(f"{name}.e2fsck", out.returncode == 0, f"e2fsck -fn exit {out.returncode}",
           None if out.returncode == 0 else (out.stdout + out.stderr).splitlines()[-20:])
    head = subprocess.run(["dumpe2fs", "-h", img], capture_output=True, text=True).stdout
    state = next((line.split(":", 1)[1].strip() for line in head.splitlines()
                  if line.startswith("Filesystem state:")), "?")
    want = "clean" if clean else "not clean"
    record(f"{name}.state_{want.replace(' ', '_')}", state == want, f"Filesystem state: {state}")
    for path, data in files.items():
        got = debugfs(img, f"cat {path}")
        record(f"{name}.on_disk{path.replace('/', '_')}", got == data,
               f"debugfs reads {path}: {len(got)} bytes" + ("" if got == data else ", wrong"))


def boot(img, diskif):
    mods, flags = run_boot("none", (), "ext2", diskif, img)
    return Boot(mods, extra=flags, console=True)


def prompt(record, name, b):
    ok = b.wait_prompt(PROMPT, 90)
    record(f"{name}.prompt", ok, "", None if ok else b.tail())
    return ok


def logged(b, text):
    return any(text in t for _, t in b.lines)


def power(record, name, b, command, last_line):
    """command (poweroff, reboot): QEMU ends with 0 after tmpfs and then ext2 unmounted."""
    b.send(command + "\n")
    status = b.wait_exit(60)
    lines = [t for _, t in b.lines]
    at = lambda prefix: next((i for i, t in enumerate(lines) if t.startswith(prefix)), None)  # noqa: E731
    tmp, root = at("tmpfs: unmounted ("), at("ext2: unmounted (")
    ok = status == 0 and tmp is not None and root is not None and tmp < root and \
        logged(b, last_line) and not logged(b, "ext2: unmounted (0 syncs): writing failed")
    record(f"{name}.{command}_unmounts", ok, f"QEMU exit status {status}", None if ok else b.tail())


def linux_statfs(img, bfree, ffree):
    """What Linux's ext2 answers statfs with for img when bfree blocks and ffree inodes are free
    (fs/ext2/super.c: ext2_statfs, the default bsddf): f_blocks leaves out the boot block, each
    group's bitmaps and inode table and the superblock and descriptor copies of the groups that
    have them (sparse_super: 0, 1, powers of 3, 5 and 7); f_bavail leaves out the blocks
    reserved for root. (bsize, blocks, bfree, bavail, files, ffree), the geometry from dumpe2fs."""
    head = subprocess.run(["dumpe2fs", "-h", img], capture_output=True, text=True).stdout
    v = {k.strip(): w.strip() for k, _, w in (line.partition(":") for line in head.splitlines())}
    n = lambda key: int(v[key])  # noqa: E731
    bs, count, per = n("Block size"), n("Block count"), n("Blocks per group")
    groups = (count - n("First block") + per - 1) // per
    gdt = (groups * 32 + bs - 1) // bs
    itb = (n("Inodes per group") * n("Inode size") + bs - 1) // bs
    powers = {p ** k for p in (3, 5, 7) for k in range(1, 40)}
    supers = sum(1 for g in range(groups) if g <= 1 or g in powers
                 or "sparse_super" not in v["Filesystem features"].split())
    meta = n("First block") + groups * (2 + itb) + supers * (1 + gdt)
    return (bs, count - meta, bfree, max(bfree - n("Reserved block count"), 0),
            n("Inode count"), ffree)


def statfs_as_linux(record, b, img):
    """statfs of the ext2 root (BusyBox's stat -f, which df uses) gives what Linux's ext2 would
    for the image's geometry and the free counts the guest reports."""
    def same(out):
        got = tuple(int(x) for x in out[0].split()) if out and len(out[0].split()) == 6 else ()
        want = linux_statfs(img, got[2], got[5]) if got else None
        b.lines.append((0, f"statfs: got {got}, Linux's ext2 would give {want}"))
        return got == want
    check(record, b, "rootfs.statfs_as_linux", "stat -f -c '%S %b %f %a %c %d' /", same)


def file_times(record, b):
    """The guest's clock is the host's (QEMU's RTC is the host's UTC; pm reads it at boot and
    gives it to the kernel, where ext2 and tmpfs read it for their times): `date` within 10 s
    of the host, a file touched on ext2 and on /tmp stamped within 3 s of `date`, and an
    explicit time (utimensat through touch -d) kept as given."""
    host = int(time.time())
    check(record, b, "rootfs.file_times_wall_clock",
          "touch /root/now /tmp/now; date +%s; stat -c %Y /root/now /tmp/now",
          lambda out: len(out) == 3 and all(o.isdigit() for o in out) and
          abs(int(out[0]) - host) < 10 and all(abs(int(o) - int(out[0])) <= 3 for o in out[1:]))
    check(record, b, "rootfs.file_times_explicit",
          "touch -d @1000000000 /root/stamped /tmp/stamped; stat -c %Y /root/stamped /tmp/stamped",
          ["1000000000", "1000000000"])


# utest's tests of file-system calls that run on a directory of each file system (/root: ext2 here,
# /tmp: tmpfs), run at the prompt: rootfs.u.NAME.
FS_UTESTS = ["fifo_named", "mknod_rules", "file_times_set", "mmap_file_private", "mmap_file_shared"]


def fs_utests(record, b):
    for name in FS_UTESTS:
        check(record, b, f"rootfs.u.{name}", f"utest {name} 2>&1 | tail -5", lambda out: out[-1:] == ["utest: 1 passed, 0 failed"])


def first_boot(record, img, busybox_ino):
    with boot(img, "virtio") as b:
        if not prompt(record, "rootfs", b):
            return
        statfs_as_linux(record, b, img)
        check(record, b, "rootfs.mounts", "cat /proc/mounts",
              ["ext2 / ext2 rw 0 0", "proc /proc proc rw 0 0", "tmpfs /tmp tmpfs rw 0 0"])
        record("rootfs.root_logged", logged(b, "vfs: root file system is ext2"), "vfs's line")
        check(record, b, "rootfs.no_ramfs", "service list | grep -c '^ramfs '; echo st=$?",
              ["0", "st=1"])
        check(record, b, "rootfs.busybox_from_disk",
              "stat -c '%d %i' /; stat -c '%d %i %s' /bin/busybox; ls /bin | wc -l",
              lambda out: len(out) == 3 and out[0] == "1 2" and
              out[1] == f"1 {busybox_ino} {os.path.getsize(os.path.join(BUILD, 'busybox/busybox'))}"
              and int(out[2]) > 300)
        check(record, b, "rootfs.tmp_is_tmpfs",
              "echo t > /tmp/t; stat -c %d / /tmp/t; df /tmp | tail -1 | cut -d' ' -f1",
              lambda out: out[0] == "1" and out[1] not in ("1", "2") and out[2] == "tmpfs")
        check(record, b, "rootfs.write",
              f"seq 1 {SEQ} > /root/seq; su user -c 'echo note > /home/user/note'; "
              "sha256sum /root/seq; stat -c '%U %a' /home/user/note",
              [f"{seq_sha(SEQ)}  /root/seq", "user 644"])
        file_times(record, b)
        fs_utests(record, b)
        power(record, "rootfs", b, "poweroff", "pm: power off (file systems unmounted: clean)")
    stamped = debugfs(img, "stat /root/stamped").decode(errors="replace")
    record("rootfs.after_poweroff.mtime_on_disk", "mtime: 0x3b9aca00" in stamped,
           "debugfs: /root/stamped's mtime 0x3b9aca00 (1000000000, set by touch -d)",
           None if "mtime: 0x3b9aca00" in stamped else stamped.splitlines()[:12])
    host_checks(record, "rootfs.after_poweroff", img, True,
                {"/root/seq": "".join(f"{i}\n" for i in range(1, SEQ + 1)).encode(),
                 "/home/user/note": b"note\n"})


def ahci_boots(record, img):
    with boot(img, "ahci") as b:
        if not prompt(record, "rootfs.ahci", b):
            return
        check(record, b, "rootfs.ahci.driver", "service list | grep -c '^ahci .* up '", ["1"])
        check(record, b, "rootfs.ahci.read_back",
              "sha256sum /root/seq; cat /home/user/note; ls /tmp | wc -l",
              [f"{seq_sha(SEQ)}  /root/seq", "note", "0"])
        check(record, b, "rootfs.ahci.write", "echo second > /second; cat /second", ["second"])
        power(record, "rootfs.ahci", b, "poweroff", "pm: power off (file systems unmounted: clean)")
    host_checks(record, "rootfs.ahci.after_poweroff", img, True, {"/second": b"second\n"})
    with boot(img, "ahci") as b:
        if not prompt(record, "rootfs.ahci2", b):
            return
        check(record, b, "rootfs.ahci2.read_back", "cat /second", ["second"])
        # ext2 killed (restart immediate): vfs binds / to the new instance; files stay readable
        check(record, b, "rootfs.ahci2.ext2_restart_followed",
              "cd /root; sync; service kill ext2 >/dev/null; sleep 1; cat /second; pwd; "
              "ls /bin | wc -l",
              lambda out: out[-3:-1] == ["second", "/root"] and int(out[-1]) > 300)
        record("rootfs.ahci2.ext2_restart_logged", logged(b, "vfs: ext2 (mounted on /) restarted"),
               "")
        check(record, b, "rootfs.ahci2.sync", "echo third > /third; sync; echo st=$?", ["st=0"])
    # killed: the file system was not unmounted, but sync wrote it all
    host_checks(record, "rootfs.after_sync_and_kill", img, False, {"/third": b"third\n"})


def last_boot(record, img):
    with boot(img, "virtio") as b:
        if not prompt(record, "rootfs.again", b):
            return
        record("rootfs.again.unclean_logged", logged(b, "was not cleanly unmounted"), "")
        check(record, b, "rootfs.again.read_back", "cat /third /second", ["third", "second"])
        power(record, "rootfs.again", b, "reboot", "pm: restart (file systems unmounted: clean)")
    host_checks(record, "rootfs.after_reboot", img, True, {})


def run(record, module):
    src = os.path.join(BUILD, "disk.img")
    if not os.path.exists(src):
        record("rootfs.disk_image_built", False, "build/disk.img missing (make)")
        return
    with tempfile.TemporaryDirectory(prefix="rootfs-") as tmp:
        img = os.path.join(tmp, "disk.img")
        shutil.copy(src, img)
        stat = debugfs(img, "stat /bin/busybox").decode(errors="replace").split()
        busybox_ino = stat[stat.index("Inode:") + 1] if "Inode:" in stat else "?"
        first_boot(record, img, busybox_ino)
        ahci_boots(record, img)
        last_boot(record, img)
