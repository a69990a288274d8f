"""The file-system test program user/fsprog.c (issue 10) on Samsara's ext2 root and on Linux.

1. Samsara, ext2 the root on virtio-blk (a copy of build/disk.img, booted as make run boots it:
   tools/qemu.py's run_boot): `fsprog /fsprog.d` with no kills, then again while a shell loop
   has rs kill virtio_blk every 0.5 s (at least two restarts). Every check must pass both times
   (its list recorded); BusyBox's poweroff, then `e2fsck -fn` on the host: clean.
2. Linux 6.1 (Debian's kernel, the Linux peer of tools/linuxpeer.py) runs the same static binary
   on a tmpfs: the list of passed checks must be Samsara's (fsprog.linux_same_pass_list).
   Skipped (not failed) when the peer's kernel is not fetched (tools/fetch-linux.sh).

Called by tools/test.py as run(record, module)."""
import os
import re
import shutil
import subprocess
import tempfile

import linuxpeer as lp
from qemu import BUILD, ROOT, Boot, run_boot
from suite_rootfs import host_checks, logged

PROMPT = "# "
FSPROG = os.path.join(BUILD, "musl", "fsprog")
KILLS = ("(while [ ! -e /tmp/stop ]; do sleep 0.5; service kill {d} >/dev/null; done) & "
         "{cmd}; touch /tmp/stop; wait; service list | grep '^{d} '")


def results(lines):
    """(passed check names, failed lines, the summary line or None) of fsprog's output."""
    lines = lines or []
    passed = [line[3:] for line in lines if line.startswith("ok ")]
    failed = [line for line in lines if line.startswith("FAIL ")]
    summary = next((line for line in lines if line.startswith("fsprog: ")), None)
    return passed, failed, summary


def restarts(lines, driver):
    row = [line.split() for line in (lines or []) if line.startswith(f"{driver} ")]
    return int(row[-1][3]) if row and len(row[-1]) > 3 and row[-1][3].isdigit() else -1


def record_run(record, name, out, boot):
    passed, failed, summary = results(out)
    ok = summary is not None and not failed and re.match(r"fsprog: \d+ passed, 0 failed", summary)
    record(name, bool(ok), summary or "no summary line",
           None if ok else (failed or (boot.tail(30) if boot else out)))
    return passed


def samsara(record, img):
    mods, flags = run_boot("none", (), "ext2", "virtio", img)
    with Boot(mods, extra=flags, console=True) as b:
        if not b.wait_prompt(PROMPT, 90):
            record("fsprog.prompt", False, "no prompt", b.tail())
            return None
        passed = record_run(record, "fsprog.ext2_root", b.run("fsprog /fsprog.d", PROMPT, 300),
                            b)
        out = b.run(KILLS.format(d="virtio_blk", cmd="fsprog /fsprog.k"), PROMPT, 600)
        again = record_run(record, "fsprog.ext2_root_driver_killed", out, b)
        n = restarts(out, "virtio_blk")
        record("fsprog.driver_restarted", n >= 2, f"virtio_blk restarts: {n}")
        record("fsprog.same_checks_under_kills", again == passed and passed != [],
               f"{len(passed)} checks")
        b.send("poweroff\n")
        status = b.wait_exit(60)
        ok = status == 0 and logged(b, "pm: power off (file systems unmounted: clean)")
        unmount = next((t for _, t in b.lines if t.startswith("ext2: unmounted (")), "")
        record("fsprog.poweroff", ok, f"QEMU exit status {status}; {unmount}",
               None if ok else b.tail())
    host_checks(record, "fsprog.after_poweroff", img, True, {})
    return passed


def linux(record, passed, tmp):
    """fsprog in the Linux peer on a tmpfs; its pass list must be Samsara's."""
    # make peer fetches Debian's kernel package on first use (a clean clone runs this suite
    # before linuxpeer's): the comparison always runs, never skipped
    built = subprocess.run(["make", "-s", "peer"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        record("fsprog.linux_build", False, built.stdout + built.stderr)
        return
    g = lp.client_with({"bin/fsprog": FSPROG}, tmp)
    try:
        g.wait_line("ready", 120)
        out = g.shell("mkdir -p /mnt && mount -t tmpfs -o size=256m tmpfs /mnt && "
                      "fsprog /mnt/fsprog.d", timeout=300)
        got = record_run(record, "fsprog.linux_tmpfs", out, None)
        record("fsprog.linux_same_pass_list", got == passed,
               f"{len(got)} on Linux, {len(passed)} on Samsara",
               None if got == passed else [f"only Linux: {sorted(set(got) - set(passed))}",
                                           f"only Samsara: {sorted(set(passed) - set(got))}"])
    except RuntimeError as e:
        record("fsprog.linux_tmpfs", False, str(e))
    finally:
        g.quit()


def run(record, module):
    src = os.path.join(BUILD, "disk.img")
    if not os.path.exists(src) or not os.path.exists(FSPROG):
        record("fsprog.built", False, "build/disk.img or build/musl/fsprog missing (make)")
        return
    with tempfile.TemporaryDirectory(prefix="fsprog-") as tmp:
        img = os.path.join(tmp, "disk.img")
        shutil.copy(src, img)
        passed = samsara(record, img)
        if passed:
            linux(record, passed, tmp)
