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

from qemu import BUILD, ROOT, Boot, collect_tests, record_logged

SAMPLE = "fstest-sample.cpio"
TIMEOUT = 600  # the restart tests kill ramfs about 140 times (slow on a loaded host)


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
    # ramfs serves fstest here (its second argument), as it serves vfs in the system
    # (crash-hook: writes at offsets 0x7e57c0de........ kill it before it commits, fs.restart_*)
    boot = Boot([module("root"), module("ramfs", SAMPLE + " fstest ramfs crash-hook"), module("fstest"),
                 sample])
    try:
        collect_tests(boot, record, "fs", "fstest", timeout=TIMEOUT, exit_status=1)
        # the helper's requests were refused, counted and logged
        record_logged(record, boot, "fs.refusals_logged",
                      "ramfs: refused request 0x4600 from endpoint",
                      "only its client may use it (refusal 1)")
        # its restarts (fs.restart_*): kept, the write undone, a bad header fresh, each logged
        record_logged(record, boot, "fs.restart_kept_logged", "ramfs: files kept across a restart",
                      "changes of the request in flight undone")
        record_logged(record, boot, "fs.restart_hook_logged", "ramfs: test hook: dying in the middle",
                      "not committed")
        steps = [t for _, t in boot.lines if "kinds of change stopped at every step" in t]
        print("  fs.restart_undo_every_step: " + (steps[0] if steps else "no summary line"))
        record_logged(record, boot, "fs.state_grow_refusal_logged", "state grow from fstest",
                      "its manifest has no 'state SIZE grow'")
        record_logged(record, boot, "fs.restart_fresh_logged",
                      "ramfs: state region unusable (bad header checksum)", "starting fresh")
    finally:
        boot.kill()
