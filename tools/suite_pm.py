"""pm's protocol: who may send it what. Boots the system with pm running
`sleep 1000` as init, and pmtest (tests/servers/pmtest), a system server
that sends pm what only rs, vfs, the kernel or Linux processes may send.
Records pmtest's results (TEST pm.NAME), pm.suite_finished, and
pm.refusals_logged: pm logged a counted refusal for each of the six
messages pmtest sends (five kinds; the last test sends two). Called by tools/test.py as run(record, module)."""
import os

from qemu import BUILD, Boot, collect_tests, system_modules


def run(record, module):
    run_protocol(record, module)
    run_out_of_memory(record)
    run_clock_against_host(record)


def run_clock_against_host(record):
    """CLOCK_MONOTONIC (the TSC's, through the vDSO) keeps the host's time while the guest
    forks and touches mmap memory for 10 s (utest --clockload, a reading every 250 ms): the
    host's time of arrival less the guest's reading, at its least over the first four and over
    the last four lines (the console's delays taken out), moves by under 5% of the guest's
    elapsed time. The kernel's tick count (/proc/uptime) is shown beside it, for the record."""
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt("# ", 30):
            record("pm.clock_keeps_host_time", False, "no prompt", boot.tail())
            return
        first = len(boot.lines)
        out = boot.run("cat /proc/uptime; utest --clockload 10; cat /proc/uptime", "# ", 120) or []
        seen = [(at, int(t.split()[1]) / 1e9) for at, t in boot.lines[first:]
                if t.startswith("clockload ") and len(t.split()) == 2]
        uptimes = [float(l.split()[0]) for l in out if l[:1].isdigit()]
        if len(seen) < 20 or len(uptimes) != 2:
            record("pm.clock_keeps_host_time", False, repr(out), boot.tail())
            return
        guest = seen[-1][1] - seen[0][1]
        drift = min(at - g for at, g in seen[-4:]) - min(at - g for at, g in seen[:4])
        ok = abs(drift) < 0.05 * guest
        record("pm.clock_keeps_host_time", ok,
               f"guest {guest:.3f} s, host {guest + drift:.3f} s, "
               f"ticks {uptimes[1] - uptimes[0]:.2f} s", None if ok else boot.tail())
    finally:
        boot.kill()


def run_out_of_memory(record):
    """In a guest with 128 MiB, a program that allocates and touches 1 MiB at a time until
    malloc fails (utest --memhog) gets ENOMEM, not a kill or a hang; pm and the other
    servers live on, and the shell goes on working (a fork, a file, a pipe)."""
    boot = Boot(system_modules(), console=True, extra=["-m", "128M"])
    try:
        if not boot.wait_prompt("# ", 30):
            record("pm.out_of_memory_enomem", False, "no prompt", boot.tail())
            return
        out = boot.run("utest --memhog; echo st=$?", "# ", 60) or []
        ok = out[-1:] == ["st=0"] and any(l.startswith("memhog: ") and l.endswith(
            "then Out of memory") for l in out)
        record("pm.out_of_memory_enomem", ok, repr(out), None if ok else boot.tail())
        after = boot.run("echo alive > /tmp/a; cat /tmp/a | wc -c; ls /bin | grep -c utest", "# ", 20)
        died = [t for _, t in boot.lines if "killed" in t or "panic" in t or "exited" in t]
        ok = after == ["6", "1"] and not died
        record("pm.out_of_memory_system_lives", ok, f"{after!r} {died[:3]!r}",
               None if ok else boot.tail())
    finally:
        boot.kill()


def run_protocol(record, module):
    boot = Boot([module("root"), module("ds"), module("ramfs"), module("tty"), module("vfs"),
                 module("pm", "/bin/sleep 1000"), module("pmtest"),
                 os.path.join(BUILD, "initramfs.cpio")])
    try:
        collect_tests(boot, record, "pm", "pmtest", timeout=60, exit_status=1)
        refusals = [t for _, t in boot.lines if t.startswith("pm: refused message")]
        kinds = {t.split()[3] for t in refusals}  # message types, in hex (samsara/msgtypes.h)
        # PM_RUN, PM_RESULTS, MSG_LINUX_CALL, ROOT_SAVE, MSG_NOTIFY
        ok = (len(refusals) == 6 and refusals[-1].endswith("(6 refused)") and
              kinds == {"5052", "5053", "4b43", "5241", "4b4e"})
        record("pm.refusals_logged", ok, f"{len(refusals)} refusals logged",
               None if ok else boot.tail(30))
    finally:
        boot.kill()
