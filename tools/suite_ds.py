"""ds, the data store: boots root, ds, dstest and dsowner (dstest's image
under another name, a service restarted at once when it dies) and records
one result per in-OS test (TEST ds.NAME PASS|FAIL), then ds.suite_finished:
the summary line came, nothing failed, and QEMU left with status 1. Called
by tools/test.py as run(record, module)."""
import os
import shutil
import tempfile

from qemu import Boot


def run(record, module):
    # The module name is the file's base name: a link named dsowner makes
    # dstest's image the service "dsowner" (argument "owner").
    tmp = tempfile.mkdtemp(prefix="dstest-")
    owner = os.path.join(tmp, "dsowner")
    os.symlink(os.path.abspath(module("dstest").split()[0]), owner)
    boot = Boot([module("root"), module("ds"), module("dstest"), owner + " owner"])
    index, names = 0, set()
    try:
        while True:
            i, m = boot.wait_for(r"^(TEST ds\.(\S+) (PASS|FAIL)|dstest: (\d+) passed, (\d+) failed)",
                                 timeout=120, start_index=index)
            if i is None:
                record("ds.suite_finished", False, "no final line before the deadline",
                       boot.tail(40))
                return
            index = i + 1
            if m.group(2):
                names.add(m.group(2))
                ok = m.group(3) == "PASS"
                record("ds." + m.group(2), ok, tail=None if ok else boot.tail(40))
                continue
            status = boot.wait_exit(30)
            record("ds.suite_finished", status == 1 and m.group(5) == "0" and len(names) > 0,
                   f"{len(names)} tests, QEMU exit status {status}",
                   None if status == 1 else boot.tail(40))
            return
    finally:
        boot.kill()
        shutil.rmtree(tmp, ignore_errors=True)
