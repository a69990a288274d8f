"""Mounts, sync and shutdown (docs/FILESYSTEMS.md), with two ramfs instances: the root (ramfs) and
tmpfs mounted on /tmp by vfs's argument (`vfs mount=/tmp:tmpfs`). Files on /tmp work and are apart
from the root's; the mount point refuses rmdir and rename; `..` from the mount's root goes back to
the root file system; stat shows another st_dev; /proc/mounts lists the table; remounts make
tmpfs or one mount of it read-only and back (run_remount); umount and mount (root only, also
read-only) take tmpfs off and put it back, also while a bind of it remains; a killed tmpfs comes back (rs) with its files and vfs follows it;
sync reaches both servers, and poweroff (BusyBox's, through init and reboot(2)) unmounts them, the
root last, before QEMU ends with status 0; reboot ends QEMU (-no-reboot) the same way. A third boot
mounts tests/servers/stallfs on /mnt, a file server that waits 3 s on some names as for a dead
disk driver: vfs keeps serving /proc, /tmp, the root and the console meanwhile, and the waiting
calls finish correctly afterwards (run_stuck). Called by tools/test.py as run(record, module)."""
import os
import time

from qemu import BUILD, Boot, system_modules
from suite_system import PROMPT, check


def modules(vfs_args="root=ramfs mount=/tmp:tmpfs", servers=("tmpfs",)):
    """The system with the file servers (before vfs) and vfs's argument."""
    mods = system_modules()
    vfs = mods.index(os.path.join(BUILD, "vfs"))
    mods[vfs] += " " + vfs_args
    for server in reversed(servers):
        mods.insert(vfs, os.path.join(BUILD, server))
    return mods


def checked(record, boot, name, command, expect):
    """check() without the servers' log lines (mount, unmount, restart) in the output."""
    logs = ("vfs: ", "tmpfs: ", "ramfs: ")
    strip = lambda out: [line for line in out if not line.startswith(logs)]  # noqa: E731
    check(record, boot, name, command,
          (lambda out: expect(strip(out))) if callable(expect) else lambda out: strip(out) == expect)


def logged(boot, text):
    return any(text in t for _, t in boot.lines)


def run(record, module):
    with Boot(modules(), console=True) as boot:
        if not boot.wait_prompt(PROMPT, 90):
            record("mount.shell", False, "no prompt", boot.tail())
            return
        run_tree(record, boot)
        run_remount(record, boot)
        run_umount(record, boot)
        run_restart(record, boot)
        run_poweroff(record, boot)
    with Boot(modules(), console=True) as boot:
        ok = boot.wait_prompt(PROMPT, 90)
        boot.send("sync; reboot\n")
        status = boot.wait_exit(60) if ok else None
        ok = status == 0 and logged(boot, "init: restarting") and \
            logged(boot, "pm: restart (file systems unmounted: clean)") and \
            logged(boot, "tmpfs: unmounted") and logged(boot, "ramfs: unmounted")
        record("mount.reboot_unmounts_and_ends_qemu", ok, f"QEMU exit status {status}",
               None if ok else boot.tail())
    with Boot(modules("root=ramfs mount=/tmp:tmpfs mount=/mnt:stallfs", ("tmpfs", "stallfs")),
              console=True) as boot:
        if not boot.wait_prompt(PROMPT, 90):
            record("mount.stallfs_shell", False, "no prompt", boot.tail())
            return
        run_stuck(record, boot)


def run_tree(record, boot):
    check(record, boot, "mount.proc_mounts", "cat /proc/mounts",
          ["ramfs / ramfs rw 0 0", "proc /proc proc rw 0 0", "tmpfs /tmp tmpfs rw 0 0"])
    check(record, boot, "mount.tmp_files_apart_from_root",
          "echo on-tmp > /tmp/x; echo on-root > /x; cat /tmp/x /x; ls /tmp | cat; ls / | grep -c '^x$'",
          ["on-tmp", "on-root", "x", "1"])
    check(record, boot, "mount.st_dev_per_mount", "stat -c '%d %n' / /x /tmp /tmp/x /proc",
          lambda out: len(out) == 5 and [w.split()[1] for w in out] == ["/", "/x", "/tmp", "/tmp/x",
                                                                          "/proc"]
          and out[0].split()[0] == out[1].split()[0] != out[2].split()[0] == out[3].split()[0]
          and out[4].split()[0] not in (out[0].split()[0], out[2].split()[0]))
    check(record, boot, "mount.mount_point_refuses_rmdir_rename",
          "rmdir /tmp; echo $?; mv /tmp /tmp2; echo $?; ln /tmp/x /y; echo $?",
          lambda out: out[1::2] == ["1", "1", "1"] and "busy" in out[0] and "busy" in out[2]
          and "ross-device" in out[4])
    check(record, boot, "mount.dotdot_leaves_the_mount",
          "cd /tmp; mkdir -p d/e; cd d/e; pwd; cd ../../..; pwd; ls -d bin | cat; ls /tmp/.. | grep -c '^bin$';"
          " cd /proc/..; pwd; cd /",
          ["/tmp/d/e", "/", "bin", "1", "/"])


# mount -o remount,ro (the whole file system: every mount of tmpfs) and -o bind,remount,ro (one
# mount) with BusyBox's mount; $T is tmpfs's mount, $R a bind of it. The same lines, with the
# same BusyBox, print the same on Linux (the host, in a mount namespace of its own: `unshare -m`,
# tmpfs on T): REMOUNT_OUT, and four "Read-only file system" errors.
REMOUNT_SH = [
    "mkdir -p $R; echo keep > $T/rx; mount --bind $T $R; echo $?",
    "show() { awk -v t=$T -v r=$R '$2==t||$2==r{print $2, substr($4,1,2)}' /proc/mounts"
    " | sed \"s|^$T |T |; s|^$R |R |\" | tr '\\n' ' '; echo; }",
    "exec 3>>$T/rx; mount -o remount,ro $T 2>&1 | grep -c busy; exec 3>&-",
    "mount -o remount,ro $T; echo $?; show",
    "echo y > $T/ry; echo $?; echo y > $R/ry; echo $?; cat $R/rx; touch $T/rx; echo $?",
    "mount -o remount,rw $T; echo $?; show; echo y > $T/ry; echo $?; echo z > $R/rz; echo $?",
    "mount -o bind,remount,ro $R; echo $?; show; echo w > $R/rw; echo $?; echo w > $T/rw; echo $?;"
    " cat $R/rw",
    "mount -o remount,rw $R; echo $?; show; echo v > $R/rv; echo $?",
    "umount $R; echo $?; rm $T/rx $T/ry $T/rz $T/rw $T/rv; echo $?",
]
REMOUNT_OUT = ["0", "1", "0", "T ro R ro", "1", "1", "keep", "1", "0", "T rw R rw", "0", "0", "0",
               "T rw R ro", "1", "0", "w", "0", "T rw R rw", "0", "0", "0"]


def run_remount(record, boot):
    command = "T=/tmp R=/rb; " + "; ".join(REMOUNT_SH)
    checked(record, boot, "mount.remount_read_only", command,
            lambda out: [line.strip() for line in out if "Read-only" not in line] == REMOUNT_OUT
            and sum("Read-only file system" in line for line in out) == 4)


def run_umount(record, boot):
    # Linux prints the same for the first command (the host, `unshare -m`, tmpfs on T).
    checked(record, boot, "mount.umount_original_keeps_binds",
            "T=/tmp R=/rb; mkdir -p $R; echo d > $T/det; mount --bind $T $R; umount $T; echo $?;"
            " cat $R/det; awk -v t=$T '$2==t' /proc/mounts | wc -l; ls $T | grep -c det;"
            " echo e > $R/e; cat $R/e; umount $R; echo $?",
            ["0", "d", "0", "0", "e", "0"])
    checked(record, boot, "mount.server_unmounted_with_last_bind",
            "mount -t tmpfs none /tmp; echo $?; rm /tmp/det /tmp/e; echo $?",
            ["0", "0"])
    ok = logged(boot, "tmpfs: unmounted")
    record("mount.last_bind_sends_unmount", ok, "", None if ok else boot.tail())
    checked(record, boot, "mount.umount_busy_then_done",
          "cd /tmp; umount /tmp; echo $?; cd /; umount /tmp; echo $?; ls /tmp | grep -c x;"
          " grep -c tmpfs /proc/mounts",
          lambda out: out[1:] == ["1", "0", "0", "0"] and "busy" in out[0])
    checked(record, boot, "mount.mount_again_has_the_files",
          "mount -t tmpfs none /tmp; echo $?; cat /tmp/x; grep tmpfs /proc/mounts",
          ["0", "on-tmp", "tmpfs /tmp tmpfs rw 0 0"])
    checked(record, boot, "mount.mount_read_only",
            "umount /tmp; mount -o ro -t tmpfs none /tmp; echo $?; grep tmpfs /proc/mounts;"
            " echo a > /tmp/a; echo $?; cat /tmp/x; mount -o remount,rw /tmp; echo $?;"
            " grep tmpfs /proc/mounts; echo a > /tmp/a; echo $?; rm /tmp/a",
            lambda out: [line for line in out if "Read-only" not in line] ==
            ["0", "tmpfs /tmp tmpfs ro 0 0", "1", "on-tmp", "0", "tmpfs /tmp tmpfs rw 0 0", "0"])
    check(record, boot, "mount.only_root_mounts",
          "su user -c 'umount /tmp; mount -t tmpfs none /home/user'; grep -c tmpfs /proc/mounts",
          lambda out: out[-1] == "1" and any("not permitted" in line for line in out))
    check(record, boot, "mount.unknown_server_refused", "mount -t pm none /mnt || mount -t nosuch none /root; echo $?",
          lambda out: out[-1] != "0")


def run_restart(record, boot):
    checked(record, boot, "mount.restarted_server_followed",
          "echo old > /tmp/o; ls /tmp > /tmp/before; service kill tmpfs >/dev/null; sleep 1;"
          " ls /tmp | cmp - /tmp/before && cat /tmp/o; echo new > /tmp/n; cat /tmp/n;"
          " grep tmpfs /proc/mounts",
          ["old", "new", "tmpfs /tmp tmpfs rw 0 0"])
    ok = logged(boot, "vfs: tmpfs (mounted on /tmp) restarted")
    record("mount.restart_logged", ok, "", None if ok else boot.tail())


def run_poweroff(record, boot):
    boot.run("sync; sync", PROMPT, 30)
    boot.send("poweroff\n")
    status = boot.wait_exit(60)
    lines = [t for _, t in boot.lines]
    last = lambda prefix: max((i for i, t in enumerate(lines) if t.startswith(prefix)),  # noqa: E731
                              default=None)
    tmp, root = last("tmpfs: unmounted ("), last("ramfs: unmounted (")
    syncs = lambda i: int(lines[i].split("(")[1].split()[0]) if i is not None else -1  # noqa: E731
    ok = status == 0 and tmp is not None and root is not None and tmp < root and syncs(tmp) >= 2 \
        and syncs(root) >= 2 and logged(boot, "pm: power off (file systems unmounted: clean)")
    record("mount.poweroff_syncs_and_unmounts_root_last", ok,
           f"QEMU exit status {status}; " + "; ".join(lines[i] for i in (tmp, root) if i is not None),
           None if ok else boot.tail())


STALL_S = 3.0  # tests/servers/stallfs: STALL_MS


def uptime_ms(word):
    return int(float(word) * 1000)


def run_stuck(record, boot):
    """stallfs on /mnt takes STALL_S on `stall` (lookup) and on creating or removing stall*."""
    # While a cat of /mnt/stall waits, /proc, /tmp (tmpfs), the root (ramfs) and the console
    # answer; each step is timed with /proc/uptime inside the system.
    up = "$(cut -d' ' -f1 /proc/uptime)"
    command = (f"(cat /mnt/stall; echo stuck-done {up}) & sleep 0.3; t0={up};"
               f" head -1 /proc/mounts >/dev/null; t1={up}; echo fast > /tmp/f; cat /tmp/f >/dev/null;"
               f" t2={up}; ls /bin | wc -l >/dev/null; t3={up}; echo times $t0 $t1 $t2 $t3; wait")
    out = boot.run(command, PROMPT, 30)
    times = next((line.split()[1:] for line in out or [] if line.startswith("times ")), [])
    done = next((line.split()[1] for line in out or [] if line.startswith("stuck-done ")), None)
    ok = out is not None and len(times) == 4 and done is not None and "stalled" in out
    detail = f"printed {out!r}"
    if ok:
        t = [uptime_ms(w) for w in times]
        steps = {"/proc read": t[1] - t[0], "tmpfs write+read": t[2] - t[1],
                 "root ls /bin": t[3] - t[2]}
        stuck = uptime_ms(done) - t[0]
        ok = out.index("stalled") > [i for i, line in enumerate(out) if line.startswith("times ")][0] \
            and all(v < 1000 for v in steps.values()) and stuck >= (STALL_S - 0.6) * 1000
        detail = ", ".join(f"{k} {v} ms" for k, v in steps.items()) + \
            f"; the stuck cat ended {stuck} ms after the first step"
    record("mount.vfs_serves_while_fs_stuck", ok, detail, None if ok else boot.tail())
    # The console: a command typed while a lookup waits is answered at once (host-timed).
    boot.run("cat /mnt/stall >/dev/null &", PROMPT, 10)
    start = len(boot.lines)
    sent = time.monotonic() - boot.start
    boot.send("echo console-ping\n")
    i, _ = boot.wait_for(r"^console-ping$", 10, start)
    echo_ms = int((boot.lines[i][0] - sent) * 1000) if i is not None else None
    boot.wait_prompt(PROMPT, 10)
    boot.run("wait", PROMPT, 10)
    # A create, an open(O_CREAT), an rmdir and an unlink that waited each happen once and
    # report success (the rerun takes the server's kept reply), and the tree shows it.
    check(record, boot, "mount.stuck_changes_complete_once",
          "mkdir /mnt/stalldir; echo $?; ls -d /mnt/stalldir | cat; : > /mnt/stallfile; echo $?;"
          " rmdir /mnt/stalldir; echo $?; rm /mnt/stallfile; echo $?;"
          " ls -d /mnt/stalldir /mnt/stallfile 2>&1 | grep -c 'No such'",
          ["0", "/mnt/stalldir", "0", "0", "0", "2"], timeout=40)
    # A caller killed while it waits: its reply is dropped; the next call is served.
    check(record, boot, "mount.stuck_caller_killed",
          "cat /mnt/stall & sleep 0.5; kill $!; wait; cat /mnt/hello; echo $?",
          lambda out: "hello" in out and out[out.index("hello") + 1:][:1] == ["0"], timeout=20)
    stray = [t for _, t in boot.lines if "came while it stalled" in t]
    record("mount.console_answers_while_fs_stuck", echo_ms is not None and echo_ms < 1000,
           f"echo answered in {echo_ms} ms during a stall", None if echo_ms else boot.tail())
    record("mount.busy_server_sent_nothing", not stray, stray[0] if stray else "",
           None if not stray else boot.tail())
