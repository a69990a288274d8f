#!/usr/bin/env python3
"""make test: host unit tests, then QEMU boots that run the in-OS suites.

Every test has a stable name and prints one line, PASS or FAIL; a failure
shows the last serial lines. The last line is "N passed, N failed", and
the exit status is non-zero if anything failed.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, ROOT, Boot, collect_tests  # noqa: E402

results = []


def record(name, ok, detail="", tail=None):
    results.append((name, ok))
    print(f"{'PASS' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}", flush=True)
    if not ok and tail:
        print("  --- last serial lines ---")
        for line in tail:
            print("  | " + line)


def host_unit_tests():
    """tests/host/*.c: pure logic built with the host compiler; lines 'TEST name PASS|FAIL'."""
    out = subprocess.run(["make", "-s", "host-tests"], cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        record("host_build", False, out.stdout + out.stderr)
        return
    for exe in sorted(os.listdir(os.path.join(BUILD, "host"))):
        path = os.path.join(BUILD, "host", exe)
        run = subprocess.run([path], cwd=ROOT, capture_output=True, text=True, timeout=60)
        seen = 0
        for line in run.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[0] == "TEST":
                seen += 1
                record(f"host.{exe}.{parts[1]}", parts[2] == "PASS", " ".join(parts[3:]))
        if run.returncode != 0 or seen == 0:
            record(f"host.{exe}", False, f"exit status {run.returncode}\n{run.stdout}{run.stderr}")


def module(name, args=""):
    path = os.path.join(BUILD, name)
    return f"{path} {args}".strip()


def kernel_suite():
    """The ktest suite: one result per in-OS test, then QEMU's exit status."""
    boot = Boot([module("root"), module("ktest", "exit")])
    try:
        collect_tests(boot, record, "ktest", "ktest", timeout=300, exit_status=1, printed="")
        crashed = [t for _, t in boot.lines if "kernel panic" in t]
        record("ktest.no_kernel_panic", not crashed, crashed[0] if crashed else "")
    finally:
        boot.kill()


def boot_time():
    """The first user process runs within 2 s of QEMU starting (measured on the host)."""
    boot = Boot([module("root")])
    try:
        i, _ = boot.wait_for(r"^root: started", timeout=30)
        ok = i is not None and boot.lines[i][0] < 2.0
        record("boot.root_runs", ok,
               f"{boot.lines[i][0]*1000:.0f} ms after QEMU started" if i is not None else "never",
               boot.tail())
    finally:
        boot.kill()


def panics():
    """Boot errors and kernel bugs stop the machine with a clear message and exit 255."""
    cases = [
        ("panic.no_modules", [], r"kernel panic: no boot modules"),
        ("panic.root_not_elf", [os.path.join(ROOT, "Makefile")],
         r"kernel panic: boot module 0 \(Makefile\) is not a static x86-64 ELF"),
    ]
    for name, modules, pattern in cases:
        boot = Boot(modules)
        try:
            i, _ = boot.wait_for(pattern, timeout=30)
            j, _ = boot.wait_for(r"^backtrace:", timeout=10, start_index=i or 0)
            status = boot.wait_exit(30)
            record(name, i is not None and j is not None and status == 255,
                   f"QEMU exit status {status}", boot.tail())
        finally:
            boot.kill()


def wanted(part):
    """ONLY=a,b (make test ONLY=...) runs just the parts named: host, boot, panics,
    ktest, and each tools/suite_NAME.py as NAME. Empty means everything."""
    only = [w for w in os.environ.get("ONLY", "").split(",") if w]
    return not only or part in only


def extra_suites():
    """tools/suite_*.py: each module's run(record, module) adds its own results."""
    import importlib
    here = os.path.dirname(os.path.abspath(__file__))
    for name in sorted(f[:-3] for f in os.listdir(here) if f.startswith("suite_") and f.endswith(".py")):
        if wanted(name[len("suite_"):]):
            t = time.monotonic()
            importlib.import_module(name).run(record, module)
            part_seconds[name[len("suite_"):]] = time.monotonic() - t


part_seconds = {}  # each part's time: make test must stay well under 15 minutes


def main():
    started = time.monotonic()
    for part, run in (("host", host_unit_tests), ("boot", boot_time), ("panics", panics),
                      ("ktest", kernel_suite)):
        if wanted(part):
            t = time.monotonic()
            run()
            part_seconds[part] = time.monotonic() - t
    extra_suites()
    print("(seconds per part: " + ", ".join(f"{p} {s:.0f}" for p, s in
                                            sorted(part_seconds.items(), key=lambda x: -x[1])) + ")")
    passed = sum(1 for _, ok in results if ok)
    failed = len(results) - passed
    print(f"(make test took {time.monotonic() - started:.0f} s)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
