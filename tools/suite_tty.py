"""The tty driver's suite: boots root, tty and ttytest, and types for it.

ttytest (tests/servers/ttytest) prints "ttytest: type KEY" when it needs
input; this suite then writes TYPED[KEY] to QEMU's stdin, which is COM1's
receive side (a Boot with console=True). The wire checks (ONLCR, echo,
erase) are made on the raw bytes of the serial output (Boot.raw).

Standalone: python3 tools/suite_tty.py (after make all).
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, Boot, collect_tests  # noqa: E402

# What the host types for each prompt (see tests/servers/ttytest/typed.c).
TYPED = {
    "hello": b"hello\r",
    "world": b"world\r",
    "two": b"one\rtwo\r",
    "edits": b"abx\x7fc\x08d\rjunk\x15ok\rone two\x17three\rx\t\x7f\x7fy\r",
    "eof": b"\x04ab\x04",
    "intr": b"zz\x03",
    "afterintr": b"ok\r",
    "quit": b"\x1c\x1a",
    "xyz": b"xyz",
    "xycr": b"xy\r",
    "ab": b"ab",
    "junk": b"junk",
    "secret": b"hidden-word\r",
    "stop": b"\x13go\r",
    "start": b"\x11",
}

# Bytes that must (True) or must not (False) appear on the wire.
WIRE = [
    ("wire_onlcr", True, b"onlcr-on:1\r\nonlcr-on:2\r\n"),
    ("wire_no_onlcr", True, b"onlcr-off:1\nonlcr-off:2\n"),
    ("wire_echo_erase", True, b"abx\b \bc\b \bd\r\n"),
    ("wire_echo_kill", True, b"junk\b \b\b \b\b \b\b \bok\r\n"),
    ("wire_echo_werase", True, b"one two\b \b\b \b\b \bthree\r\n"),
    ("wire_echo_tab_erase", True, b"x\t" + b"\b" * 7 + b"\b \by\r\n"),
    ("wire_echo_intr", True, b"^C"),
    ("wire_eof_not_echoed", False, b"^D"),
    ("wire_noecho", False, b"hidden-word"),
    ("wire_stop_start", True, b"go\r\n" + b"." * 2044 + b"+" * 100 + b"#####"),
]


def run(record, module):
    boot = Boot([module("root"), module("tty"), module("ttytest")], console=True)

    def answer(m):
        if m.group(1) in TYPED:
            boot.send(TYPED[m.group(1)])
        else:
            record("tty.prompt_" + m.group(1), False, "the suite has nothing to type for it")

    try:
        collect_tests(boot, record, "tty", "ttytest", timeout=120, exit_status=1,
                      answer=(r"ttytest: type (\S+)$", answer))
        raw = bytes(boot.raw)
        for name, present, needle in WIRE:
            ok = (needle in raw) == present
            record("tty." + name, ok, "" if ok else f"{needle!r} {'missing' if present else 'seen'}")
        crashed = [t for _, t in boot.lines if "kernel panic" in t or "killed by exception" in t]
        record("tty.no_crash", not crashed, crashed[0] if crashed else "")
    finally:
        boot.kill()


if __name__ == "__main__":
    results = []

    def _record(name, ok, detail="", tail=None):
        results.append(ok)
        print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
        for line in (tail or []) if not ok else []:
            print("  | " + line)

    def _module(name, args=""):
        return f"{os.path.join(BUILD, name)} {args}".strip()

    run(_record, _module)
    print(f"{sum(results)} passed, {len(results) - sum(results)} failed")
    sys.exit(0 if all(results) else 1)
