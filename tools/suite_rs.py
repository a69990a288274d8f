"""Reincarnation: the demo driver is killed 1,000 times by an administrator's
request while a client uses it; every answer must continue the counter (its
state came back), and root's figures give the recovery time. Called by
tools/test.py as run(record, module)."""
from qemu import Boot


def run(record, module):
    run_kills(record, module)
    run_rstest(record, module)


def run_kills(record, module):
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


def run_rstest(record, module):
    """rs's other ways of noticing failure (heartbeats, denials, complaints), its
    back-off and limit, and administrator requests: tests/servers/rstest."""
    boot = Boot([module("root"), module("demo"), module("crashy", "crash"), module("rstest")])
    try:
        index, seen, index_before = 0, 0, 0
        while True:
            i, m = boot.wait_for(r"^(TEST (rs\.\S+) (PASS|FAIL)|rstest: (\d+) passed, (\d+) failed)",
                                 timeout=120, start_index=index)
            if i is None:
                record("rs.rstest_finished", False, "no final line", boot.tail())
                return
            index = i + 1
            if m.group(2):
                seen += 1
                ok = m.group(3) == "PASS"
                notes = [t for _, t in boot.lines[index_before:i] if t.startswith("rs.")]
                record(m.group(2), ok, notes[-1] if notes else "", None if ok else boot.tail())
                index_before = i + 1
                continue
            record("rs.rstest_finished", m.group(5) == "0" and seen > 0, f"{seen} tests")
            return
    finally:
        boot.kill()
