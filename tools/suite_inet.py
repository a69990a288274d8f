"""inet, the TCP/IP server on lwIP (net/inet, docs/INET.md): boots root, ds and
inet with the argument "selftest", which runs lwIP over the loopback interface
inside the server (TCP echo of 1 MiB, a refused connection, UDP, ICMP echo,
timers) and prints TEST inet.NAME lines, then keeps serving. Records them,
inet.suite_finished, and inet.stayed_up: rs never found inet silent or dead
(its heartbeat was answered through the whole transfer). Called by
tools/test.py as run(record, module)."""
from qemu import Boot, collect_tests


def run(record, module):
    boot = Boot([module("root"), module("ds"), module("inet", "selftest")])
    try:
        collect_tests(boot, record, "inet", "inet", timeout=180)
        trouble = [t for _, t in boot.lines
                   if "inet" in t and ("heartbeat" in t or "restart" in t or "assertion" in t)]
        record("inet.stayed_up", not trouble, trouble[0] if trouble else "",
               boot.tail(30) if trouble else None)
    finally:
        boot.kill()
