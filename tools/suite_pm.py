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
