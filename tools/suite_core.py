"""The core servers killed under the shell (docs/REINCARNATION.md, "Core servers: vfs and pm"):
what survives, what fails with which error, and what still bricks the system, exactly as the
docs say. vfs takes its tables over from its state region: processes keep running with their ids
and descriptors (offsets, pipes' data, the shell's terminal); a call blocked in the old vfs is
held by the kernel and runs again on the new one when it is safe to (a read, a poll), else EIO; a garbled region means a fresh start (every descriptor gone, init starts a new shell). pm comes back fresh: the
last instance's processes are killed and init starts again; files and services stay. Called by
tools/test.py."""
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
    out = [line for line in out if not line.startswith(("root: ", "kernel: ", "pm: ", "vfs: "))
           and not re.match(r"\[\d+\][+-]? +Done", line)]  # jobs of the shell that lived on
    ok = expect(out) if callable(expect) else out == expect
    record(name, ok, "" if ok else f"{command!r} printed {out!r}", None if ok else boot.tail())
    return out


def kill(record, boot, name, label, back, then=None):
    """`service kill LABEL` typed into the shell; the new instance logs `back` (a pattern whose
    group 1 is a count of processes), then `then` if given, and a shell prompts again. Returns
    the count, or None."""
    start = len(boot.lines)
    boot.send(f"service kill {label}\n")
    i, m = boot.wait_for(back, 20, start)
    j, _ = boot.wait_for(then, 20, start) if then and i is not None else (i, None)
    ok = i is not None and j is not None and boot.wait_prompt(PROMPT, 20, after=max(i, j))
    record(name, ok, "" if ok else f"no new {label}, or no new shell", boot.tail())
    return int(m.group(1)) if ok else None


def kill_vfs(record, boot, name):
    """The new vfs takes the descriptors over from its state region (the shell was waiting in
    pm for `service`, not in vfs): the same shell prompts again, and init starts no other."""
    start = len(boot.lines)
    n = kill(record, boot, name, "vfs",
             r"pm: vfs restarted \(endpoint \d+\): told it of (\d+) processes")
    exited = [t for _, t in boot.lines[start:] if "init: /bin/sh exited" in t]
    record(name + "_same_shell", n is not None and not exited, "; ".join(exited))
    return n


def kill_vfs_fresh(record, boot, name):
    """`service scramble vfs`: a garbled header, a fresh start (logged): the shell's descriptors
    are gone, it exits, init (its console given back by the new vfs) starts another."""
    start = len(boot.lines)
    boot.send("service scramble vfs\n")
    i, _ = boot.wait_for(r"vfs: state region unusable \(bad header checksum\): every "
                         r"descriptor is closed", 20, start)
    j, _ = boot.wait_for(r"init: /bin/sh exited \(status 0x[0-9a-f]+\); starting it again",
                         20, start) if i is not None else (None, None)
    ok = j is not None and boot.wait_prompt(PROMPT, 20, after=j)
    record(name, ok, "" if ok else "no fresh vfs, or no new shell", boot.tail())


def kill_pm(record, boot, name):
    """The new pm kills every process of the last instance (the shell too) and starts init
    again, whose shell prompts."""
    return kill(record, boot, name, "pm", r"pm: restarted: killed the (\d+) processes of the "
                r"last pm instance; init starts again")


def first_kill(record, boot, label, kill_one, names, least, command, want, data="fresh"):
    """The first kill (names: the kill's test, the count's test, the survivors' test): at least
    `least` processes counted; command prints the lines want, then label's `service list` line:
    up, restarted once by the administrator, policy immediate, data `data`. 1 if it came back."""
    n = kill_one(record, boot, names[0])
    if n is None:
        return 0
    record(names[1], n >= least, f"{n} processes")
    check(record, boot, names[2], f"{command}; service list | grep '^{label} '",
          lambda out: [o for o in out if o != "hi"] == want + out[-1:]
          and out[-1].split()[2:5] == ["up", "1", "administrator"]
          and out[-1].split()[-2:] == ["immediate", data])
    return 1


def again_and_no_panic(record, boot, label, kill_one):
    """A second kill of label works the same way (rs's count goes to 2); no boot line says
    panic."""
    if kill_one(record, boot, f"core.{label}_killed_twice") is not None:
        check(record, boot, f"core.{label}_second_restart_listed",
              f"cat /tmp/kept; service list | grep '^{label} '",
              lambda out: out[:1] == ["kept"] and len(out) == 2
              and out[1].split()[2:4] == ["up", "2"])
    record(f"core.{label}_no_panic", not any("panic" in t for _, t in boot.lines),
           "; ".join(t for _, t in boot.lines if "panic" in t)[:200])


def vfs_killed(record):
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt(PROMPT, 30):
            record("core.vfs_boot", False, "no prompt", boot.tail())
            return
        # running before the kill: a background job that writes to its stdout after it (kept:
        # echo works) and then opens a file by path; a user's process
        # (its uid given to the new vfs: the file it creates is the user's); a cat blocked
        # reading an empty pipe (the kernel holds its read and runs it again on the new vfs: it
        # reads the line written after the kill, cat exits 0); a chrooted sleep (killed:
        # the new vfs would not know its root)
        boot.run("rm -f /tmp/bg /tmp/u /tmp/cat; echo kept > /tmp/kept; "
                 "(sleep 3; echo hi; echo \"echo=$?\" > /tmp/bg) & "
                 "su user -c 'sleep 3; id -u > /tmp/u' & "
                 "((sleep 3; echo late) | (cat > /tmp/cat 2>&1; echo \"cat=$?\" >> /tmp/cat)) & "
                 "mkdir -p /tmp/jail; cp /bin/busybox /tmp/jail/sleep; chroot /tmp/jail /sleep 101 & "
                 "sleep 1", PROMPT, 30)
        # init, the shell, its three jobs' processes (sh, sleep, su's sh, sleep, two sh, sleep,
        # cat), the sleep 1 finished: at least 6
        if not first_kill(record, boot, "vfs", kill_vfs,
                          ("core.vfs_killed_new_shell", "core.vfs_new_instance_told_every_process",
                           "core.vfs_survivors_as_documented"), 6,
                          "sleep 3; cat /tmp/kept /tmp/bg /tmp/cat; stat -c %U /tmp/u",
                          ["kept", "echo=0", "late", "cat=0", "user"], "kept"):
            return
        # the new instance serves everything: pipes, new files, /proc, /dev, sockets
        check(record, boot, "core.vfs_new_instance_works",
              "echo new > /tmp/new; cat /tmp/new; echo a b | wc -w; ls /proc/self/fd | wc -l; "
              "head -c 4 /dev/zero | wc -c; grep -c . /proc/mounts",
              lambda out: out[:4] == ["new", "2", "4", "4"] and len(out) == 5 and int(out[4]) >= 2)
        check(record, boot, "core.vfs_chrooted_process_killed",
              "ps | grep -c '[s]leep 101'",
              lambda out: out[:1] == ["0"]
              and any("pm: killed 1 chrooted processes: the new vfs does not know their root" in t
                      for _, t in boot.lines))
        # kept across the second kill: a file's offset (the job reads on from its second line),
        # a pipe's buffered data (written before the kill, read after it), a working directory
        boot.run("printf 'l1\\nl2\\n' > /tmp/f; rm -f /tmp/off /tmp/pipe; "
                 "(exec 3</tmp/f; read a <&3; sleep 3; read b <&3; echo \"$a $b\" > /tmp/off) & "
                 "(echo data; sleep 4) | (cd /tmp; sleep 3; cat > pipe) & sleep 1", PROMPT, 30)
        again_and_no_panic(record, boot, "vfs", kill_vfs)
        check(record, boot, "core.vfs_kept_offset_pipe_cwd", "sleep 4; cat /tmp/off /tmp/pipe",
              ["l1 l2", "data"])
        # a garbled state region: a fresh start, logged; every descriptor gone (the shell too)
        kill_vfs_fresh(record, boot, "core.vfs_scrambled_fresh")
        check(record, boot, "core.vfs_fresh_after_scramble_works", "echo a b | wc -w; cat /tmp/kept",
              ["2", "kept"])
        console_read_survives(record, boot)
        vfs_chaos(record, boot)
    finally:
        boot.kill()


def console_read_survives(record, boot):
    """rs kills vfs (`service chaos vfs 1`) while the idle shell waits for a line in poll or read:
    the kernel holds the call and runs it again on the new vfs, which took the tables over (the
    dead one was between requests): no error is printed, init starts no new shell, and the next
    command works at the first try."""
    start = len(boot.lines)
    boot.run("service chaos vfs 1 500 600", PROMPT, 30)
    i, _ = boot.wait_for(r"pm: vfs restarted", 20, start)
    time.sleep(1)
    out = boot.run("echo after", PROMPT, 10)
    lines = [t for _, t in boot.lines[start:]]
    errors = [t for t in lines if "I/O error" in t or "init: /bin/sh exited" in t
              or "fails (EIO)" in t]
    record("core.vfs_console_read_survives",
           i is not None and not errors and out is not None and "after" in out
           and any("state region kept" in t for t in lines),
           f"restarted={i is not None}; errors={errors}; out={out}", boot.tail())


def vfs_chaos(record, boot, kills=20):
    """rs kills vfs `kills` times at random instants (`service chaos`: in the middle of requests
    too) under a loop of file reads: each new instance either takes the tables over or, the last
    one having died busy, starts fresh (logged either way); most take them over, and the shell
    answers afterwards."""
    start = len(boot.lines)
    boot.run("(while true; do cat /etc/passwd | wc -c; done) >/dev/null 2>&1 & "
             f"service chaos vfs {kills} 100 200", PROMPT, 30)
    deadline = time.monotonic() + 60
    kept = fresh = 0
    while time.monotonic() < deadline and kept + fresh < kills:
        time.sleep(0.5)
        lines = [t for _, t in boot.lines[start:]]
        kept = sum("vfs: state region kept" in t for t in lines)
        fresh = sum("vfs: the last instance died in the middle of a request" in t
                    and "every descriptor is closed" in t for t in lines)
    record("core.vfs_chaos_mostly_kept", kept + fresh == kills and kept >= kills // 2,
           f"{kept} kept, {fresh} fresh of {kills}")
    # the kernel held the calls in flight and ran them again: the safe ones ran (the idle
    # shell's poll or read among them); a shell dies only after a fresh start or a refused call
    lines = [t for _, t in boot.lines[start:]]
    refused = sum("of the last instance fails (EIO)" in t for t in lines)
    exits = sum("init: /bin/sh exited" in t for t in lines)
    # a death in the middle of a request: its table stores undone (keep.c's undo log), the
    # tables kept; fresh only when the request had changed something outside them (sealed)
    undone = sum("table stores undone" in t for t in lines)
    record("core.vfs_chaos_mid_request_undone", undone > 0,
           f"{undone} deaths in the middle of a request undone, {fresh} fresh starts")
    record("core.vfs_chaos_shell_lives", exits <= fresh + refused,
           f"{refused} calls refused (EIO), {exits} shells exited, "
           f"{fresh} fresh starts", None if exits <= fresh else "\n".join(
               t for t in lines if "fails (EIO)" in t or "exited" in t or "error" in t))
    # a line typed just after the last kill can be lost (a console read of a dead instance may
    # still be pending in tty and take it): the shell answers one of three tries
    time.sleep(2)
    tries = 0
    for tries in range(1, 4):
        out = boot.run(f"echo try{tries}", PROMPT, 10)
        if out is not None and f"try{tries}" in out:
            break
    else:
        tries = 0
    record("core.vfs_chaos_then_works", tries > 0, f"answered at try {tries}", boot.tail())
    check(record, boot, "core.vfs_chaos_then_files", "kill %1 2>/dev/null; cat /tmp/kept",
          lambda out: "kept" in out)


def pm_killed(record):
    """pm comes back fresh: the last instance's processes are killed (their memory maps,
    signal state and timers died with it), their descriptors closed by vfs, their System V
    state undone by ipc; init and a new shell start; files and services stay."""
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt(PROMPT, 30):
            record("core.pm_boot", False, "no prompt", boot.tail())
            return
        boot.run("echo kept > /tmp/kept; (sleep 100 | cat) & sleep 1", PROMPT, 30)
        # init, the shell, the job's subshell, sleep and cat, service: at least 5
        if not first_kill(record, boot, "pm", kill_pm,
                          ("core.pm_killed_new_init_and_shell",
                           "core.pm_killed_the_last_instances_processes",
                           "core.pm_survivors_as_documented"), 5,
                          "cat /tmp/kept; ps | grep -c '[s]leep 100'; ps | grep -c '^ *1 root .*init'",
                          ["kept", "0", "1"]):
            return
        # the new instance serves everything: fork, exec, exit status, wait, signals, pipes
        check(record, boot, "core.pm_new_instance_works",
              "sh -c 'exit 3'; echo st=$?; sleep 10 & sleep 1; kill $!; wait $!; echo st=$?; "
              "echo a b c | wc -w; id -u",
              lambda out: out[:4] == ["st=3", "st=143", "3", "0"])
        again_and_no_panic(record, boot, "pm", kill_pm)
    finally:
        boot.kill()
