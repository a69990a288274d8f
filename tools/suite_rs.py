"""Reincarnation: the demo driver is killed 1,000 times by an administrator's
request while a client uses it; every answer must continue the counter (its
state came back), and root's figures give the recovery time. Called by
tools/test.py as run(record, module)."""
from qemu import Boot


def run(record, module):
    boot = Boot([module("root"), module("demo"), module("demotest", "1000")])
    try:
        i, m = boot.wait_for(r"^TEST (rs\.\S+) (PASS|FAIL)", timeout=240)
        if i is None:
            record("rs.demo_killed_1000_times", False, "no result", boot.tail())
            return
        figures = [t for _, t in boot.lines if t.startswith(("RECOVERY", "demotest: 1000"))]
        record(m.group(1), m.group(2) == "PASS", "; ".join(figures),
               None if m.group(2) == "PASS" else boot.tail())
    finally:
        boot.kill()
