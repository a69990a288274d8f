"""The ramfs suite: fstest (tests/servers/fstest) against the ramfs server.

Builds the sample initramfs with tests/servers/fstest/mksample.sh into
build/fstest-sample.cpio, boots root, ramfs (told to load that module),
fstest and the archive as a data module, and records one result per
"TEST fs.NAME PASS|FAIL" line, then "fs.suite_finished": the summary line
came, nothing failed, QEMU left through isa-debug-exit with status 1 (all
passed) and the kernel did not panic. Called by tools/test.py as
run(record, module).
"""
import os
import subprocess

from qemu import BUILD, ROOT, Boot

SAMPLE = "fstest-sample.cpio"
TIMEOUT = 300


def build_sample(record):
    out = os.path.join(BUILD, SAMPLE)
    script = os.path.join(ROOT, "tests", "servers", "fstest", "mksample.sh")
    run = subprocess.run(["sh", script, out], cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0 or not os.path.exists(out):
        record("fs.sample_archive", False, f"mksample.sh failed ({run.returncode})\n"
               f"{run.stdout}{run.stderr}")
        return None
    return out


def run(record, module):
    missing = [p for p in ("ramfs", "fstest") if not os.path.exists(os.path.join(BUILD, p))]
    if missing:
        record("fs.suite_finished", False, "not built: " + ", ".join(missing))
        return
    sample = build_sample(record)
    if sample is None:
        return
    boot = Boot([module("root"), module("ramfs", SAMPLE), module("fstest"), sample])
    index, names, failed = 0, set(), 0
    try:
        while True:
            i, m = boot.wait_for(r"^(TEST fs\.(\S+) (PASS|FAIL)|fstest: (\d+) passed, (\d+) failed)",
                                 timeout=TIMEOUT, start_index=index)
            if i is None:
                record("fs.suite_finished", False, "no final line before the deadline",
                       boot.tail(40))
                return
            index = i + 1
            if m.group(2):
                names.add(m.group(2))
                ok = m.group(3) == "PASS"
                failed += not ok
                record("fs." + m.group(2), ok, tail=None if ok else boot.tail(40))
                continue
            status = boot.wait_exit(30)
            panics = [t for _, t in boot.lines if "kernel panic" in t]
            ok = (status == 1 and m.group(5) == "0" and failed == 0 and names
                  and int(m.group(4)) == len(names) and not panics)
            record("fs.suite_finished", bool(ok),
                   f"{len(names)} tests, QEMU exit status {status}"
                   + (f"; {panics[0]}" if panics else ""),
                   None if ok else boot.tail(40))
            return
    finally:
        boot.kill()
