"""The core servers killed under the shell (docs/REINCARNATION.md, "Core servers: vfs and pm"):
what survives, what fails with which error, and what still bricks the system, exactly as the
docs say. vfs comes back fresh: the shell whose read was in flight gets EIO and init starts a new
one; processes that were running keep running, with their ids, but without descriptors (EBADF);
a call blocked in the old vfs fails with EIO; files in ramfs are kept. pm does not come back:
the kernel and the services go on, every Linux process is stuck. Called by tools/test.py."""
import os
import re
import time

from qemu import BUILD, Boot, system_modules

PROMPT = "# "


def run(record, module):
    if not os.path.exists(os.path.join(BUILD, "initramfs.cpio")):
        record("core.initramfs_built", False, "build/initramfs.cpio missing (make userland)")
        return
    vfs_killed(record)
    pm_killed(record)


def check(record, boot, name, command, expect, timeout=30):
    """Run command; expect is a list of lines, or a function of the output lines."""
    out = boot.run(command, PROMPT, timeout)
    if out is None:
        record(name, False, f"no prompt after {command!r}", boot.tail())
        return None
    out = [line for line in out if not line.startswith(("root: ", "kernel: ", "pm: ", "vfs: "))]
    ok = expect(out) if callable(expect) else out == expect
    record(name, ok, "" if ok else f"{command!r} printed {out!r}", None if ok else boot.tail())
    return out


def kill_vfs(record, boot, name):
    """`service kill vfs` typed into the shell: the shell's read of the console, in flight in the
    old vfs, fails (EIO), the shell exits, init (its console given back by the new vfs) starts
    another: a prompt again. Returns the new vfs's log line's process count, or None."""
    start = len(boot.lines)
    boot.send("service kill vfs\n")
    i, m = boot.wait_for(r"pm: vfs restarted \(endpoint \d+\): told it of (\d+) processes", 20, start)
    j, _ = boot.wait_for(r"init: /bin/sh exited \(status 0x[0-9a-f]+\); starting it again", 20, start)
    ok = i is not None and j is not None and boot.wait_prompt(PROMPT, 20, after=j)
    record(name, ok, "" if ok else "no new vfs, or no new shell", boot.tail())
    return int(m.group(1)) if ok else None


def vfs_killed(record):
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt(PROMPT, 30):
            record("core.vfs_boot", False, "no prompt", boot.tail())
            return
        # running before the kill: a background job that writes to its stdout after it (EBADF:
        # echo fails) and then opens a file by path (works: cwd /, ids kept); a user's process
        # (its uid given to the new vfs: the file it creates is the user's); a cat blocked
        # reading an empty pipe (its read fails with EIO, cat exits 1)
        boot.run("rm -f /tmp/bg /tmp/u /tmp/cat; echo kept > /tmp/kept; "
                 "(sleep 3; echo hi; echo \"echo=$?\" > /tmp/bg) & "
                 "su user -c 'sleep 3; id -u > /tmp/u' & "
                 "(sleep 100 | (cat; echo \"cat=$?\" > /tmp/cat)) & sleep 1", PROMPT, 30)
        n = kill_vfs(record, boot, "core.vfs_killed_new_shell")
        if n is None:
            return
        # init, the shell, its three jobs' processes (sh, sleep, su's sh, sleep, two sh, sleep,
        # cat), the sleep 1 finished: at least 6
        record("core.vfs_new_instance_told_every_process", n >= 6, f"{n} processes")
        check(record, boot, "core.vfs_survivors_as_documented",
              "sleep 3; cat /tmp/kept /tmp/bg /tmp/cat; stat -c %U /tmp/u; "
              "service list | grep '^vfs '",
              lambda out: out[:4] == ["kept", "echo=1", "cat=1", "user"]
              and len(out) == 5 and out[4].split()[2:5] == ["up", "1", "administrator"]
              and out[4].split()[-2:] == ["immediate", "fresh"])
        # the new instance serves everything: pipes, new files, /proc, /dev, sockets
        check(record, boot, "core.vfs_new_instance_works",
              "echo new > /tmp/new; cat /tmp/new; echo a b | wc -w; ls /proc/self/fd | wc -l; "
              "head -c 4 /dev/zero | wc -c; grep -c . /proc/mounts",
              lambda out: out[:4] == ["new", "2", "4", "4"] and len(out) == 5 and int(out[4]) >= 2)
        # and again: the second new instance too (rs's count goes to 2)
        n = kill_vfs(record, boot, "core.vfs_killed_twice")
        if n is not None:
            check(record, boot, "core.vfs_second_restart_listed",
                  "cat /tmp/kept; service list | grep '^vfs '",
                  lambda out: out[:1] == ["kept"] and len(out) == 2
                  and out[1].split()[2:4] == ["up", "2"])
        record("core.vfs_no_panic", not any("panic" in t for _, t in boot.lines),
               "; ".join(t for _, t in boot.lines if "panic" in t)[:200])
    finally:
        boot.kill()


def pm_killed(record):
    """pm killed: it does not come back (restart never; rs refuses without -f). The kernel and
    the services go on (tty echoes what is typed); every Linux process is stuck: the `service`
    program cannot exit (exit_group fails with EIO, musl tries again for ever), the shell waits
    for it (wait4: EIO, and ash tries again), ^C reaches no one (vfs cannot queue the signal
    with pm). Nothing the shell prints comes any more."""
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt(PROMPT, 30):
            record("core.pm_boot", False, "no prompt", boot.tail())
            return
        start = len(boot.lines)
        boot.send("service kill -f pm\n")
        i, _ = boot.wait_for(r"rs: service pm is down \(administrator\); its policy is not to "
                             r"restart it", 20, start)
        record("core.pm_killed_stays_down", i is not None, "", boot.tail())
        time.sleep(1)
        mark = len(boot.lines)
        boot.send("echo typed-$((6*7))\n")
        echoed, _ = boot.wait_for(r"^echo typed-\$\(\(6\*7\)\)$", 10, mark)
        time.sleep(2)
        boot.send("\x03")
        time.sleep(1)
        after = [t for _, t in boot.lines[mark:]]
        ok = (echoed is not None and "typed-42" not in after and not boot.partial.endswith(PROMPT)
              and boot.proc.poll() is None and not any("panic" in t for _, t in boot.lines))
        record("core.pm_killed_bricks_linux_processes_not_the_kernel", ok,
               "" if ok else f"after the kill: {after!r}, partial {boot.partial!r}", boot.tail())
    finally:
        boot.kill()
