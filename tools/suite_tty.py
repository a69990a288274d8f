"""The tty driver's suite: boots root, tty and ttytest, and types for it.

ttytest (tests/servers/ttytest) prints "ttytest: type KEY" when it needs
input; this suite then writes TYPED[KEY] to QEMU's stdin, which is COM1's
receive side. tools/qemu.py's Boot keeps stdin closed, so TtyBoot is a small
copy that keeps it as a pipe and also keeps the raw bytes of the serial
output, on which the wire checks (ONLCR, echo, erase) are made.

Standalone: python3 tools/suite_tty.py (after make all).
"""
import os
import re
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, qemu_command  # noqa: E402

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


class TtyBoot:
    """QEMU with stdin as a pipe; serial output as lines and as raw bytes."""

    def __init__(self, modules):
        self.raw = bytearray()
        self.lines = []
        self.partial = b""
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(qemu_command(modules), stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            chunk = os.read(fd, 4096)
            with self.cond:
                if not chunk:
                    if self.partial:
                        self.lines.append(self.partial.decode("utf-8", "replace"))
                    self.cond.notify_all()
                    return
                self.raw += chunk
                parts = (self.partial + chunk).split(b"\n")
                self.partial = parts.pop()
                for p in parts:
                    self.lines.append(p.replace(b"\r", b"").decode("utf-8", "replace"))
                self.cond.notify_all()

    def wait_for(self, pattern, timeout, start_index=0):
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start_index
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = regex.search(self.lines[i])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    return None, None
                self.cond.wait(min(left, 0.5))

    def type(self, data):
        try:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(2)

    def tail(self, n=30):
        with self.cond:
            return list(self.lines[-n:])


def run(record, module):
    boot = TtyBoot([module("root"), module("tty"), module("ttytest")])
    index, names = 0, set()
    pattern = (r"(ttytest: type (\S+)$|TEST tty\.(\S+) (PASS|FAIL)|"
               r"ttytest: (\d+) passed, (\d+) failed)")
    try:
        while True:
            i, m = boot.wait_for(pattern, timeout=120, start_index=index)
            if i is None:
                record("tty.suite_finished", False, "no final line before the deadline",
                       boot.tail())
                return
            index = i + 1
            if m.group(2):
                key = m.group(2)
                if key in TYPED:
                    boot.type(TYPED[key])
                else:
                    record("tty.prompt_" + key, False, "the suite has nothing to type for it")
                continue
            if m.group(3):
                names.add(m.group(3))
                ok = m.group(4) == "PASS"
                record("tty." + m.group(3), ok, tail=None if ok else boot.tail(20))
                continue
            status = boot.wait_exit(30)
            record("tty.suite_finished", status == 1 and m.group(6) == "0" and len(names) > 0,
                   f"{len(names)} tests, QEMU exit status {status}")
            break
        raw = bytes(boot.raw)
        for name, present, needle in WIRE:
            ok = (needle in raw) == present
            record("tty." + name, ok, "" if ok else f"{needle!r} {'missing' if present else 'seen'}")
        crashed = [t for t in boot.lines if "kernel panic" in t or "killed by exception" in t]
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
