"""pm's protocol: who may send it what. Boots the system with pm running
`sleep 1000` as init, and pmtest (tests/servers/pmtest), a system server
that sends pm what only rs, vfs, the kernel or Linux processes may send.
Records pmtest's results (TEST pm.NAME), pm.suite_finished, and
pm.refusals_logged: pm logged a counted refusal for each of the six
messages pmtest sends (five kinds; the last test sends two). Called by tools/test.py as run(record, module)."""
import os

from qemu import BUILD, Boot, collect_tests


def run(record, module):
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
