"""The ext2 file server in the whole system (docs/EXT2.md): make run's boot with DISK= (ramfs the
root; virtio_blk and `ext2 virtio_blk`, vfs's `mount=/mnt:ext2`: tools/qemu.py's root_setup),
with a disk image this suite makes with `mke2fs -t ext2 -d STAGING`. Through BusyBox's shell: the staging files read back, a file written and its
sha256, names and attributes changed (mkdir, mv, ln, ln -s, rm, rmdir, chmod, chown, touch -d),
df, sync, and a last write with no sync that the 5 s timer must write back. QEMU is then killed (no unmount; suite_rootfs powers off): `e2fsck -fn` must find
the image consistent and debugfs must read back what was written. A second boot reads it all again
(persistence) and writes 32 MiB (seq, exactly 33,554,432 bytes) while a shell loop has rs kill the disk driver every
0.5 s: its sha256 must be the host's, and e2fsck must find no errors. A third boot mounts a
hostile image (a directory entry whose rec_len runs past its block): listing that directory
fails (EIO), the rest of the file system and the system stay up; a fourth an image that is no
ext2 (refused with the reason in the log, nothing mounted, the shell works). Last, the big write
under kills again with the image on q35's AHCI controller and the ahci driver (ext2.ahci.*). Then
ext2's own restarts (ext2.restart.*), and make run's ROOT=ext2 system with ext2 killed 200 times
by rs's chaos under a self-checking loop (ext2.chaos.*). Called by tools/test.py as run(record, module)."""
import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
import time

from qemu import BUILD, Boot, disk, qemu_command, run_boot

PROMPT = "# "
SEQ_SMALL = 100000
SEQ_BIG = 4333192  # `seq 1 SEQ_BIG` is exactly 32 MiB (33,554,432 bytes): the size


def boot_on(img, interface="virtio"):
    """make run's boot (no card) with DISK=img on DISKIF=interface: ext2 mounted on /mnt."""
    mods, flags = run_boot("none", (), "ramfs", interface, img)
    return Boot(mods, extra=flags, console=True)


def at_prompt(record, boot, name):
    """The boot's shell prompt came; if not, test name fails with the boot's last lines."""
    if boot.wait_prompt(PROMPT, 60):
        return True
    record(name, False, "no prompt", boot.tail())
    return False


def seq_sha(n):
    return hashlib.sha256("".join(f"{i}\n" for i in range(1, n + 1)).encode()).hexdigest()


def make_image(tmp, img):
    stage = os.path.join(tmp, "stage")
    os.makedirs(os.path.join(stage, "sub"))
    with open(os.path.join(stage, "hello.txt"), "w") as f:
        f.write("hello from the host\n")
    for i in range(200):
        with open(os.path.join(stage, "sub", f"file{i:03d}"), "w") as f:
            f.write(f"{i}\n")
    os.symlink("hello.txt", os.path.join(stage, "link"))
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-d", stage, img, "64M"], check=True,
                   capture_output=True)


def fsck(record, name, img):
    out = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    record(name, out.returncode == 0, f"e2fsck exit {out.returncode}",
           None if out.returncode == 0 else (out.stdout + out.stderr).splitlines()[-20:])


def debugfs_sha(img, path):
    out = subprocess.run(["debugfs", "-R", f"cat {path}", img], capture_output=True)
    return hashlib.sha256(out.stdout).hexdigest()


def check(record, boot, name, command, want, timeout=60):
    out = boot.run(command, PROMPT, timeout)
    ok = out is not None and (want(out) if callable(want) else out == want)
    record(name, ok, f"{command!r} printed {out}", None if ok else boot.tail(20))
    return out


def first_boot(record, img):
    with boot_on(img) as boot:
        if not at_prompt(record, boot, "ext2.boot_prompt"):
            return
        check(record, boot, "ext2.mounted_at_mnt", "grep ext2 /proc/mounts",
              ["ext2 /mnt ext2 rw 0 0"])
        check(record, boot, "ext2.staging_read",
              "cat /mnt/hello.txt; cat /mnt/link; ls /mnt/sub | wc -l; cat /mnt/sub/file123",
              ["hello from the host", "hello from the host", "200", "123"])
        check(record, boot, "ext2.write_sha256",
              f"seq 1 {SEQ_SMALL} > /mnt/seq; sha256sum /mnt/seq",
              [f"{seq_sha(SEQ_SMALL)}  /mnt/seq"])
        check(record, boot, "ext2.names_and_attributes",
              "mkdir -p /mnt/d/e && echo x > /mnt/d/e/f && mv /mnt/d/e/f /mnt/d/g && "
              "ln /mnt/d/g /mnt/d/h && ln -s g /mnt/d/s && rm /mnt/hello.txt && rmdir /mnt/d/e && "
              "chmod 640 /mnt/d/g && chown 12:34 /mnt/d/g && touch -d '2001-02-03 04:05:06' /mnt/d/h"
              " && stat -c '%a %u %g %h %Y' /mnt/d/g && readlink /mnt/d/s && ls /mnt/d | tr '\\n' ' '; echo",
              ["640 12 34 2 981173106", "g", "g h s "])
        check(record, boot, "ext2.errors", "rmdir /mnt/d; echo st=$?; cat /mnt/hello.txt; echo st=$?",
              lambda out: "st=1" in out and out[-1] == "st=1")
        check(record, boot, "ext2.statfs_and_dotdot",
              "df /mnt | tail -1 | cut -c1-4; cd /mnt/d; cd ../..; pwd; cd /",
              ["ext2", "/"])
        check(record, boot, "ext2.sync", "sync; echo st=$?", ["st=0"])
        # written back without a sync: the 5 s timer (docs/EXT2.md)
        check(record, boot, "ext2.late_write", "echo late > /mnt/late; sleep 7; echo st=$?",
              ["st=0"], timeout=30)
    fsck(record, "ext2.e2fsck_after_first_boot", img)
    ok = debugfs_sha(img, "/seq") == seq_sha(SEQ_SMALL)
    record("ext2.written_data_on_disk", ok, "debugfs reads /seq" + ("" if ok else " wrong"))
    late = subprocess.run(["debugfs", "-R", "cat /late", img], capture_output=True).stdout
    record("ext2.written_back_within_5s", late == b"late\n", f"debugfs reads /late: {late!r}")


def second_boot(record, img, interface="virtio"):
    """Persistence, then the big write under driver kills; on ahci only the second part
    (ext2.ahci.*)."""
    driver = disk(img, interface)[0]
    prefix = "ext2" if interface == "virtio" else f"ext2.{interface}"
    with boot_on(img, interface) as boot:
        if not at_prompt(record, boot, f"{prefix}.second_boot_prompt"):
            return
        if interface == "virtio":
            check(record, boot, "ext2.persistence",
                  "sha256sum /mnt/seq; stat -c '%a %u %g %h %Y' /mnt/d/h; ls /mnt/hello.txt; "
                  "echo st=$?",
                  [f"{seq_sha(SEQ_SMALL)}  /mnt/seq", "640 12 34 2 981173106",
                   "ls: /mnt/hello.txt: No such file or directory", "st=1"])
        out = check(record, boot, f"{prefix}.write_while_driver_killed",
                    f"(while [ ! -e /tmp/stop ]; do sleep 0.5; service kill {driver} >/dev/null;"
                    f" done) & seq 1 {SEQ_BIG} > /mnt/big; sync; touch /tmp/stop; wait; "
                    f"sha256sum /mnt/big; service list | grep '^{driver} '",
                    lambda out: f"{seq_sha(SEQ_BIG)}  /mnt/big" in out, timeout=600)
        row = [line.split() for line in (out or []) if line.startswith(f"{driver} ")]
        restarts = int(row[-1][3]) if row and len(row[-1]) > 3 and row[-1][3].isdigit() else -1
        record(f"{prefix}.driver_restarted_during_write", restarts >= 2,
               f"{driver} restarts: {restarts}")
    fsck(record, f"{prefix}.e2fsck_after_driver_kills", img)
    ok = debugfs_sha(img, "/big") == seq_sha(SEQ_BIG)
    record(f"{prefix}.big_file_on_disk", ok, "debugfs reads /big" + ("" if ok else " wrong"))


def entry_offset(img, directory, name):
    """Byte offset in img of the entry `name` in the first block of `directory`."""
    blk = int(subprocess.run(["debugfs", "-R", f"bmap {directory} 0", img], capture_output=True,
                             text=True).stdout.strip())
    bs = 1024
    with open(img, "rb") as f:
        f.seek(blk * bs)
        data = f.read(bs)
    off = 0
    while off + 8 <= bs:
        ino, rec_len, name_len = struct.unpack_from("<IHB", data, off)
        if data[off + 8:off + 8 + name_len] == name.encode():
            return blk * bs + off
        if rec_len < 8:
            break
        off += rec_len
    raise RuntimeError(f"no entry {name} in {directory}")


def hostile_boots(record, tmp, good):
    bad = os.path.join(tmp, "bad.img")
    shutil.copy(good, bad)
    off = entry_offset(bad, "/sub", "file010")
    with open(bad, "r+b") as f:
        f.seek(off + 4)
        f.write(struct.pack("<H", 1024 + 64))  # rec_len past the end of its block
    with boot_on(bad) as boot:
        if at_prompt(record, boot, "ext2.hostile_boot_prompt"):
            check(record, boot, "ext2.hostile_entry_read_safely",
                  "cat /mnt/sub/file001; echo st=$?; cat /mnt/link; echo alive",
                  lambda out: "st=1" in out and out[-2:] == ["hello from the host", "alive"])
            logged = any("ext2: corrupt: directory" in t for _, t in boot.lines)
            record("ext2.hostile_entry_logged", logged, "ext2's log names the bad entry")
    junk = os.path.join(tmp, "junk.img")
    with open(junk, "wb") as f:
        f.truncate(8 << 20)
    with boot_on(junk) as boot:
        if at_prompt(record, boot, "ext2.not_ext2_boot_prompt"):
            check(record, boot, "ext2.not_ext2_refused",
                  "grep -c ext2 /proc/mounts; echo alive", ["0", "alive"])
            logged = any("ext2: refusing the image: no ext2 magic" in t for _, t in boot.lines)
            record("ext2.not_ext2_logged", logged, "ext2's log says why")


# ---- restarts of ext2 itself (docs/EXT2.md, "Restarts"): the cache in the state region
def logged(boot, text):
    return [t for _, t in boot.lines if text in t]


LOG_PREFIXES = ("ext2:", "vfs:", "kernel:", "rs:", "root:")


def shell_only(want):
    """A check's want for the shell's lines only (the servers' log lines interleave)."""
    def test(out):
        out = [line for line in out if not line.startswith(LOG_PREFIXES)]
        return want(out) if callable(want) else out == want
    return test


def restart_boot(record, img):
    """ext2 (with the test hook `crashtest`) killed with dirty blocks not yet written, then made
    to die in the middle of a change, then killed with its region's header garbled: nothing
    written is lost, the half change is undone, a bad header means a fresh mount (logged); e2fsck
    finds the image clean and debugfs reads the files."""
    mods, flags = run_boot("none", (), "ramfs", "virtio", img)
    mods = [m + " 0 rw ext2 crashtest" if m.split()[0].endswith("/ext2") else m for m in mods]
    r1, r2 = seq_sha(50000), seq_sha(20000)
    with Boot(mods, extra=flags, console=True) as boot:
        if not at_prompt(record, boot, "ext2.restart.boot_prompt"):
            return
        # dirty blocks only (the 5 s timer starts at the sync), then the kill
        check(record, boot, "ext2.restart.killed_with_dirty_blocks",
              "sync; seq 1 50000 > /mnt/r1 && mkdir /mnt/rd && seq 1 20000 > /mnt/rd/r2 && "
              "mv /mnt/hello.txt /mnt/rd/hello && service kill ext2 > /dev/null; echo st=$?; "
              "sleep 1", shell_only(["st=0"]))
        kept = logged(boot, "ext2: state kept across a restart")
        dirty = [int(t.split(" dirty")[0].split()[-1]) for t in kept]
        record("ext2.restart.dirty_cache_adopted", len(kept) == 1 and dirty[0] > 0,
               f"the new instance says {kept}")
        check(record, boot, "ext2.restart.nothing_lost",
              "sha256sum /mnt/r1 /mnt/rd/r2; cat /mnt/rd/hello; ls /mnt/hello.txt 2>&1 | wc -l; "
              "sync; echo st=$?",
              shell_only([f"{r1}  /mnt/r1", f"{r2}  /mnt/rd/r2", "hello from the host", "1",
                          "st=0"]))
        # a death in the middle of a create (the hook: the 3rd buffer logged)
        out = check(record, boot, "ext2.restart.death_in_a_change",
                    "sync; touch /mnt/ext2-die-3; echo st=$?; sleep 1; ls /mnt | grep -c die; "
                    "echo after > /mnt/after && cat /mnt/after && sync",
                    shell_only(lambda out: out[-3:] in (["st=1", "0", "after"],
                                                       ["st=0", "1", "after"]))) or []
        died = logged(boot, "ext2: crashtest: dying in a change")
        undone = [t for t in logged(boot, "ext2: state kept across a restart")
                  if " 0 undone" not in t]
        record("ext2.restart.half_change_undone", len(died) == 1 and len(undone) == 1,
               f"died: {died}, undone: {undone}, shell: {out[-4:]}")
        # a garbled header: a fresh mount, logged; what was synced is there
        check(record, boot, "ext2.restart.scrambled_header",
              "sync; service scramble ext2 > /dev/null; echo st=$?; sleep 1; sha256sum /mnt/r1",
              shell_only(["st=0", f"{r1}  /mnt/r1"]))
        record("ext2.restart.scrambled_header_logged",
               len(logged(boot, "ext2: state region unusable (header checksum)")) == 1,
               "the new instance logs the bad header")
        kill_campaign(record, boot)
    fsck(record, "ext2.restart.e2fsck", img)
    ok = debugfs_sha(img, "/r1") == r1 and debugfs_sha(img, "/rd/r2") == r2
    record("ext2.restart.files_on_disk", ok, "debugfs reads /r1 and /rd/r2" + ("" if ok else
                                                                             " wrong"))


KILLS = 200


def kill_campaign(record, boot):
    """ext2 killed KILLS times, every 0.10 to 0.19 s, while the shell writes files of known
    contents (file i: `seq 1 N(i)`), noting each whose writing finished, and syncs every 16
    files (so that kills also land in write-back, with the disk busy); a kill in a request makes
    it fail (EIO) unless vfs replays it. Then every noted file must read back right."""
    size = "$((i * 37 % 3000 + 1))"
    out = check(record, boot, "ext2.restart.kill_campaign",
                f"mkdir /mnt/k; rm -f /tmp/stop /tmp/done; (n=0; while [ $n -lt {KILLS} ]; do "
                "sleep 0.1$((RANDOM % 10)); service kill ext2 > /dev/null 2>&1 && n=$((n + 1)); "
                "done; touch /tmp/stop) & i=0; e=0; while [ ! -e /tmp/stop ]; do i=$((i + 1)); "
                f"if seq 1 {size} > /mnt/k/f$i 2> /dev/null; then echo $i >> /tmp/done; "
                "else e=$((e + 1)); fi; [ $((i % 16)) = 0 ] && sync; done; wait; sync; bad=0; for i in $(cat /tmp/done); do "
                f"[ \"$(seq 1 {size} | sha256sum)\" = \"$(sha256sum < /mnt/k/f$i)\" ] || "
                "bad=$((bad + 1)); done; echo files=$i failed=$e done=$(wc -l < /tmp/done) "
                "bad=$bad",
                shell_only(lambda out: any(line.startswith("files=") and line.endswith(" bad=0")
                                           for line in out)), timeout=300) or []
    kept = logged(boot, "ext2: state kept across a restart")
    summary = [line for line in out if line.startswith("files=")]
    record("ext2.restart.kill_campaign_restarts", len(kept) >= KILLS,
           f"{len(kept)} restarts kept the cache; {summary}")


# ---- ext2 killed by rs's chaos (mid-request) on make run's ROOT=ext2 system
CHAOS_KILLS = 200


def chaos_workload(kills, lo, hi, label="ext2"):
    """A shell loop that checks itself while rs kills `label` (ext2) `kills` times, every lo..hi ms, from
    its alarm (`service chaos`): file i (`seq 1 N(i)`) written, renamed, read back and compared
    by sha256, removed (every 8th kept and compared again at the end), and every 4th time
    `cat /bin/busybox | md5sum` compared with the sum before the campaign; every command that
    fails counts as an error the programs saw (its message in /tmp/err), every wrong sum as bad."""
    size = "$((i * 37 % 3000 + 1))"
    return (
        "want=$(md5sum < /bin/busybox); mkdir -p /w; rm -f /tmp/err; : > /tmp/kept; "
        f"r0=$(service list | awk '$1==\"{label}\"{{print $4}}'); "
        f"service chaos {label} {kills} {lo} {hi} > /dev/null; i=0; e=0; bad=0; "
        f"while [ $(service list | awk '$1==\"{label}\"{{print $4}}') -lt $((r0 + {kills})) ]; do "
        f"i=$((i + 1)); n={size}; seq 1 $n > /w/f$i 2>> /tmp/err || e=$((e + 1)); "
        "mv /w/f$i /w/g$i 2>> /tmp/err || e=$((e + 1)); "
        "if s=$(sha256sum < /w/g$i 2>> /tmp/err); then "
        "[ \"$s\" = \"$(seq 1 $n | sha256sum)\" ] || bad=$((bad + 1)); else e=$((e + 1)); fi; "
        "if [ $((i % 8)) = 0 ]; then echo $i >> /tmp/kept; "
        "else rm /w/g$i 2>> /tmp/err || e=$((e + 1)); fi; "
        "if [ $((i % 4)) = 0 ]; then "
        "[ \"$(cat /bin/busybox | md5sum)\" = \"$want\" ] || bad=$((bad + 1)); fi; done; "
        "loops=$i; sync; kb=0; for i in $(cat /tmp/kept); do n=" + size + "; "
        "[ \"$(seq 1 $n | sha256sum)\" = \"$(sha256sum < /w/g$i)\" ] || kb=$((kb + 1)); done; "
        "echo loops=$loops errors=$e stderr=$(wc -l < /tmp/err) bad=$bad kept=$(wc -l < /tmp/kept) "
        "kept_bad=$kb; head -3 /tmp/err")


def chaos_boot(record, tmp):
    """make run's system (ROOT=ext2, a copy of build/disk.img) with ext2 killed CHAOS_KILLS times
    by `service chaos ext2 N 50 150` (rs's alarm: the kills land in the middle of requests, exec's
    reads of /bin/busybox included) under chaos_workload: no wrong sum (bad=0), no error any
    program saw (errors=0: vfs replays every request in flight on the instance that kept the
    state), no new instance started fresh, and e2fsck finds the image clean."""
    img = os.path.join(tmp, "chaos.img")
    shutil.copy(os.path.join(BUILD, "disk.img"), img)
    mods, flags = run_boot("none", (), "ext2", "virtio", img)
    with Boot(mods, extra=flags, console=True) as boot:
        if not at_prompt(record, boot, "ext2.chaos.boot_prompt"):
            return
        out = boot.run(chaos_workload(CHAOS_KILLS, 50, 150), PROMPT, 240) or []
        out = [line for line in out if not line.startswith(LOG_PREFIXES)]
        summary = [line for line in out if line.startswith("loops=")]
        fields = dict(w.split("=") for w in summary[0].split()) if summary else {}
        record("ext2.chaos.no_corruption",
               bool(fields) and fields["bad"] == "0" and fields["kept_bad"] == "0",
               f"{summary}", None if fields else boot.tail(20))
        record("ext2.chaos.no_errors", fields.get("errors") == "0" and fields.get("stderr") == "0",
               f"{out[-4:]}")
        kept = logged(boot, "ext2: state kept across a restart")
        fresh = logged(boot, "ext2: state region unusable")
        # ext2 says it is ready before it mounts: a kill may land in the adoption (then the
        # next instance adopts the same region, and one line is missing), never a fresh start
        record("ext2.chaos.no_fresh_start", len(kept) >= CHAOS_KILLS * 9 // 10 and not fresh,
               f"{len(kept)} of {CHAOS_KILLS} new instances logged the state kept, {len(fresh)} "
               "started fresh")
        log = boot.run("service log | grep 'ext2.*ready after'", PROMPT, 30) or []
        us = sorted(int(t.split("ready after ")[1].split()[0]) for t in log if "ready after" in t)
        record("ext2.chaos.recovery", bool(us),
               f"rs's last {len(us)} recoveries: median {us[len(us) // 2] if us else 0} us, "
               f"max {us[-1] if us else 0} us")
    fsck(record, "ext2.chaos.e2fsck", img)


# ---- a write-back the disk refuses (docs/EXT2.md, "When a write fails")
def write_error_boot(record, tmp):
    """QEMU runs with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored) at the byte where /f's
    only block starts, so the disk answers every write of that block with an I/O error
    (werror=report) and every other write works. /f is overwritten in place (dd conv=notrunc):
    fsync and fdatasync (sync -d) must fail (EIO) while sync(2) says 0 (BusyBox's sync -f drops
    syncfs's result, so syncfs is not checked here); the block stays dirty. The 5 s alarm's write-back fails too (logged); then the host lifts the
    limit (prlimit --pid) and, with no request from the guest, the block must reach the image
    within one more period (the alarm is set again after a failed write-back), and fsync then
    answers 0."""
    stage = os.path.join(tmp, "werr")
    os.makedirs(stage)
    with open(os.path.join(stage, "f"), "wb") as f:
        f.write(b"o" * 1024)
    img = os.path.join(tmp, "werr.img")
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "1024", "-d", stage, img, "8M"],
                   check=True, capture_output=True)
    out = subprocess.run(["debugfs", "-R", "bmap /f 0", img], capture_output=True, text=True)
    limit = int(out.stdout.split()[-1]) * 1024
    mods, flags = run_boot("none", (), "ramfs", "virtio", img)
    flags = [f.replace("format=raw", "format=raw,werror=report") for f in flags]
    command = ["sh", "-c", 'trap "" XFSZ; exec "$@"', "sh", "prlimit",
               f"--fsize={limit}:unlimited"] + qemu_command(mods, extra=flags)
    with Boot(mods, console=True, command=command) as boot:
        if not at_prompt(record, boot, "ext2.werr.boot_prompt"):
            return
        new = "n" * 1000 + "new\n" + "o" * 20  # the block's last 20 bytes stay
        check(record, boot, "ext2.werr.fsync_eio",
              f"printf '%01000dnew\\n' 0 | tr 0 n | dd of=/mnt/f conv=notrunc 2>/dev/null; "
              "fsync /mnt/f; echo fsync=$?; sync -d /mnt/f; echo fdatasync=$?; sync; echo sync=$?",
              shell_only(lambda out: [x for x in out if "=" in x] ==
                         ["fsync=1", "fdatasync=1", "sync=0"]))
        failed = len(logged(boot, "ext2: cannot write blocks"))
        i, _ = boot.wait_for("ext2: cannot write blocks", 10, len(boot.lines))
        record("ext2.werr.alarm_writeback_fails", i is not None and failed >= 3,
               f"{failed} failed write-backs logged by the syncs, then the alarm's: {i is not None}")
        subprocess.run(["prlimit", f"--pid={boot.proc.pid}", "--fsize=unlimited:unlimited"],
                       check=True)
        deadline = time.monotonic() + 9
        data = b""
        while time.monotonic() < deadline and data != new.encode():
            time.sleep(0.5)
            data = subprocess.run(["debugfs", "-c", "-R", "cat /f", img],
                                  capture_output=True).stdout
        record("ext2.werr.retried_to_disk", data == new.encode(),
               f"debugfs reads /f: {data[996:1008]!r} ({len(data)} bytes)")
        check(record, boot, "ext2.werr.fsync_after", "fsync /mnt/f; echo fsync=$?",
              shell_only(["fsync=0"]))
    fsck(record, "ext2.werr.e2fsck", img)


def run(record, module):
    with tempfile.TemporaryDirectory(prefix="ext2-") as tmp:
        img = os.path.join(tmp, "disk.img")
        make_image(tmp, img)
        good = os.path.join(tmp, "good.img")
        shutil.copy(img, good)
        first_boot(record, img)
        second_boot(record, img)
        hostile_boots(record, tmp, good)
        ahci = os.path.join(tmp, "ahci.img")
        shutil.copy(good, ahci)
        second_boot(record, ahci, "ahci")
        again = os.path.join(tmp, "restart.img")
        shutil.copy(good, again)
        restart_boot(record, again)
        chaos_boot(record, tmp)
        write_error_boot(record, tmp)
