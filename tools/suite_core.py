"""The core servers killed under the shell (docs/REINCARNATION.md, "Core servers: vfs and pm"):
what survives, what fails with which error, and what still bricks the system, exactly as the
docs say. vfs takes its tables over from its state region: processes keep running with their ids
and descriptors (offsets, pipes' data, the shell's terminal); a call blocked in the old vfs is
held by the kernel and runs again on the new one when it is safe to (a read, a poll), else EIO; a
garbled region means a fresh start (every descriptor gone, init starts a new shell). pm keeps its
tables the same way: processes go on with their pids, signal state and timers; a garbled region
means a fresh start (the last instance's processes killed, init again). Called by tools/test.py."""
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
        fifo_lock_kept(record, boot)
        # a garbled state region: a fresh start, logged; every descriptor gone (the shell too)
        kill_vfs_fresh(record, boot, "core.vfs_scrambled_fresh")
        check(record, boot, "core.vfs_fresh_after_scramble_works", "echo a b | wc -w; cat /tmp/kept",
              ["2", "kept"])
        console_read_survives(record, boot)
        vfs_chaos(record, boot)
    finally:
        boot.kill()


def fifo_lock_kept(record, boot):
    """Kept across a third kill of vfs (keep.c): a FIFO's open ends and its data (written before
    the kill, read after it, then end of file when the writer exits), and a flock held by a
    background job: another locker is refused while the holder lives, and one that waited since
    before the kill (its call held by the kernel, run again on the new vfs) gets the lock at the
    holder's exit; message queues with their messages (`utest --mqkeep`)."""
    boot.run("rm -f /tmp/ff /tmp/ffout /tmp/lk /tmp/lkw; mkfifo /tmp/ff; touch /tmp/lk; "
             "(sleep 5; cat > /tmp/ffout) < /tmp/ff & (echo fifodata; sleep 6) > /tmp/ff & "
             "flock /tmp/lk -c 'sleep 8' & sleep 1; "
             "(flock /tmp/lk -c 'echo got > /tmp/lkw') & utest --mqkeep 6 > /tmp/mq & sleep 1",
             PROMPT, 30)
    if kill_vfs(record, boot, "core.vfs_killed_with_fifo_lock") is None:
        return
    check(record, boot, "core.vfs_kept_flock_excludes",
          "flock -n /tmp/lk -c true; echo $?; test -e /tmp/lkw; echo $?", ["1", "1"])
    check(record, boot, "core.vfs_kept_fifo_data_and_flock_released",
          "sleep 8; cat /tmp/ffout /tmp/lkw; flock -n /tmp/lk -c true; echo $?",
          ["fifodata", "got", "0"], timeout=40)
    # a POSIX message queue held open and one only named, messages sent before the kill
    check(record, boot, "core.vfs_kept_mqueue_messages", "cat /tmp/mq", ["mq=m2,m1,n1"])


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


def vfs_held_calls(record, lines, fresh):
    """What the kernel's hold of a dead vfs's callers and keep.c's undo log did in a vfs chaos run
    (core.vfs_chaos_mid_request_undone, core.vfs_chaos_shell_lives)."""
    # the kernel held the calls in flight and ran them again: the safe ones ran (the idle
    # shell's poll or read among them); a shell dies only after a fresh start or a refused call
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


def chaos(record, boot, label, kills, then=""):
    """rs kills label `kills` times at random instants (`service chaos`: in the middle of
    requests too) under a loop of forks, execs and file reads: each new instance either keeps
    the tables or, the last one having died busy, starts fresh (logged either way); most keep
    them (core.LABEL_chaos_mostly_kept), and the shell answers afterwards, running `then` too
    (core.LABEL_chaos_then_works)."""
    start = len(boot.lines)
    boot.run("(while true; do cat /etc/passwd | wc -c; done) >/dev/null 2>&1 & "
             f"service chaos {label} {kills} 100 200", PROMPT, 30)
    deadline = time.monotonic() + 90
    kept = fresh = 0
    while time.monotonic() < deadline and kept + fresh < kills:
        time.sleep(0.5)
        lines = [t for _, t in boot.lines[start:]]
        kept = sum(f"{label}: state region kept" in t for t in lines)
        fresh = sum(f"{label}: the last instance died in the middle of a request" in t
                    and ("every descriptor is closed" in t or "starting fresh" in t)
                    for t in lines)
    record(f"core.{label}_chaos_mostly_kept", kept + fresh == kills and kept >= kills // 2,
           f"{kept} kept, {fresh} fresh of {kills}")
    if label == "vfs":
        vfs_held_calls(record, [t for _, t in boot.lines[start:]], fresh)
    # a line typed just after the last kill can be lost (a console read of a dead instance may
    # still be pending in tty and take it): the shell answers one of three tries
    time.sleep(2)
    tries = 0
    for tries in range(1, 4):
        out = boot.run(f"echo try{tries}{then}", PROMPT, 10)
        if out is not None and f"try{tries}" in out:
            break
    else:
        tries = 0
    record(f"core.{label}_chaos_then_works", tries > 0 and (not then or "st=3" in out),
           f"answered at try {tries}", boot.tail())


def vfs_chaos(record, boot, kills=20):
    """vfs killed at random instants: most instances take the tables over."""
    chaos(record, boot, "vfs", kills)
    check(record, boot, "core.vfs_chaos_then_files", "kill %1 2>/dev/null; cat /tmp/kept",
          lambda out: "kept" in out)


def kill_pm_kept(record, boot, name):
    """The new pm keeps its tables (the last instance was between requests): the same shell
    prompts again, init starts no other and nothing is killed. The count of processes that go
    on, or None."""
    start = len(boot.lines)
    n = kill(record, boot, name, "pm", r"pm: state region kept: (\d+) processes go on")
    bad = [t for _, t in boot.lines[start:] if "init: /bin/sh exited" in t or "pm: restarted" in t]
    record(name + "_same_shell", n is not None and not bad, "; ".join(bad))
    return n


SURVIVORS = "ps | grep -E '[c]at /tmp/f|[u]test --alarmwait' | awk '{print $1}'"


def pm_held(record, boot):
    """Calls pm held when it died run again on the new one (the kernel holds the callers,
    kernel/linux.c; servers/pm/keep.c: keep_again): a background sleep 8 killed 4 s in sleeps
    what was left (its file at about 8 s, not at the kill nor at 12 s), and a subshell's wait
    (sigsuspend with its mask, then wait4) for a job reading a FIFO (in vfs, untouched by the kill)
    returns the job's status (7) once the FIFO is written after the kill."""
    t0 = time.time()
    boot.run("rm -f /tmp/x /tmp/w /tmp/f2; mkfifo /tmp/f2; (sleep 8; echo done > /tmp/x) & "
             "(sh -c 'read x < /tmp/f2; exit 7' & wait $!; echo w=$? > /tmp/w) &", PROMPT, 30)
    time.sleep(max(0.0, 4 - (time.time() - t0)))
    if kill_pm_kept(record, boot, "core.pm_held_kill") is None:
        return
    check(record, boot, "core.pm_held_sleep_not_early", "cat /tmp/x /tmp/w 2>/dev/null; echo n",
          ["n"])
    took = None
    while time.time() - t0 < 20:
        out = boot.run("cat /tmp/x 2>/dev/null", PROMPT, 10) or []
        if "done" in out:
            took = time.time() - t0
            break
        time.sleep(0.3)
    record("core.pm_held_sleep_on_time", took is not None and 7.0 <= took < 11.0,
           f"the file after {took} s (want about 8)", None if took else boot.tail())
    check(record, boot, "core.pm_held_wait_status", "echo go > /tmp/f2; sleep 1; cat /tmp/w",
          ["w=7"])


def pm_killed(record):
    """pm keeps its tables: the shell and its background jobs go on with their pids, handlers,
    masks and timers; kill and wait work on them. A scrambled region: a fresh start as before
    (every process of the last instance killed, init again); files and services stay."""
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt(PROMPT, 30):
            record("core.pm_boot", False, "no prompt", boot.tail())
            return
        boot.run("echo kept > /tmp/kept; mkfifo /tmp/f; cat /tmp/f > /tmp/got & echo $! > /tmp/cp; "
                 "utest --alarmwait 6 > /tmp/alarm & echo $! > /tmp/ap; sleep 1", PROMPT, 30)
        before = check(record, boot, "core.pm_kept_survivors_before", SURVIVORS,
                       lambda out: len(out) == 2)
        # init, the shell, cat, utest (sleep 1 and service ended): at least 4
        n = kill_pm_kept(record, boot, "core.pm_killed_kept")
        if n is None:
            return
        record("core.pm_kept_counts_processes", n >= 4, f"{n} processes")
        check(record, boot, "core.pm_kept_same_pids", SURVIVORS, lambda out: out == before)
        # SIGUSR1's handler and SIGUSR2's block kept; the alarm set before the kill fires after
        # it; a mapping and a thread made before it work after it (munmap, mprotect, fork,
        # join); wait reaps both jobs with their statuses; the fifo's reader got what was written
        check(record, boot, "core.pm_kept_signals_timer_wait",
              "kill -USR1 $(cat /tmp/ap); echo hello > /tmp/f; wait $(cat /tmp/cp); echo st=$?; "
              "cat /tmp/got; wait $(cat /tmp/ap); echo st=$?; cat /tmp/alarm",
              ["st=0", "hello", "st=0", "usr1=1 alarm=1 usr2blocked=1 regions=1 thread=1"], timeout=40)
        check(record, boot, "core.pm_kept_new_processes_work",
              "sh -c 'exit 3'; echo st=$?; sleep 10 & sleep 1; kill $!; wait $!; echo st=$?; "
              "echo a b c | wc -w; id -u; service list | grep '^pm '",
              lambda out: out[:4] == ["st=3", "st=143", "3", "0"]
              and any(l.split()[:1] == ["pm"] and l.split()[2:5] == ["up", "1", "administrator"]
                      and l.split()[-2:] == ["immediate", "kept"] for l in out[4:]))
        pm_held(record, boot)
        # a garbled header: fresh, as before this region: every process killed, init again
        start = len(boot.lines)
        boot.send("service scramble pm\n")
        i, _ = boot.wait_for(r"pm: state region unusable \(bad header checksum\): starting "
                             r"fresh", 20, start)
        j, m = boot.wait_for(r"pm: restarted: killed the (\d+) processes of the last pm "
                             r"instance; init starts again", 20, start) if i is not None else (None, None)
        ok = j is not None and boot.wait_prompt(PROMPT, 20, after=j)
        record("core.pm_scrambled_fresh", ok, "" if ok else "no fresh pm, or no new shell",
               boot.tail())
        if not ok:
            return
        check(record, boot, "core.pm_fresh_after_scramble_works",
              "cat /tmp/kept; ps | grep -c '[u]test --alarmwait'; sh -c 'exit 3'; echo st=$?; "
              "sleep 10 & sleep 1; kill $!; wait $!; echo st=$?",
              lambda out: out[:4] == ["kept", "0", "st=3", "st=143"])
        # the fresh instance's tables are kept at the next kill
        if kill_pm_kept(record, boot, "core.pm_killed_twice") is not None:
            check(record, boot, "core.pm_second_restart_listed",
                  "cat /tmp/kept; service list | grep '^pm '",
                  lambda out: out[:1] == ["kept"] and len(out) == 2
                  and out[1].split()[2:4] == ["up", "4"])  # kill, pm_held, scramble, this
        # pm killed at random instants: most instances keep the tables; fork and exit work
        chaos(record, boot, "pm", 20, "; sh -c 'exit 3'; echo st=$?")
        record("core.pm_no_panic", not any("panic" in t for _, t in boot.lines),
               "; ".join(t for _, t in boot.lines if "panic" in t)[:200])
    finally:
        boot.kill()

