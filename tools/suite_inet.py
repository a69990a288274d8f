"""inet, the TCP/IP server on lwIP (net/inet, docs/INET.md): boots root, ds and
inet with the argument "selftest", which runs lwIP over the loopback interface
inside the server (TCP echo of 1 MiB, a refused connection, UDP, ICMP echo,
timers) and prints TEST inet.NAME lines, then keeps serving. Records them,
inet.suite_finished, and inet.stayed_up: 2.5 s after the tests (over two
heartbeat periods: rs replaces a service silent that long) inet has started
once, never restarted, and no lwIP assertion failed. Called by tools/test.py
as run(record, module)."""
import time

from qemu import Boot, collect_tests


def run(record, module):
    boot = Boot([module("root"), module("ds"), module("inet", "selftest")])
    try:
        collect_tests(boot, record, "inet", "inet", timeout=180)
        time.sleep(2.5)
        starts = [t for _, t in boot.lines if t.startswith("inet: lwIP ")]
        asserts = [t for _, t in boot.lines if t.startswith("inet: assertion")]
        ok = len(starts) == 1 and "restarted" not in starts[0] and not asserts
        record("inet.stayed_up", ok, f"{len(starts)} starts, {len(asserts)} assertions",
               None if ok else boot.tail(30))
    finally:
        boot.kill()
