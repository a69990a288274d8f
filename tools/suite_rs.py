"""Reincarnation: the demo driver is killed 1,000 times by an administrator's
request while a client uses it; every answer must continue the counter (its
state came back), and root's figures give the recovery time. Called by
tools/test.py as run(record, module)."""
import os

from qemu import Boot, collect_tests


def run(record, module):
    run_kills(record, module)
    run_rstest(record, module)
    run_bad_manifest(record, module)


def run_kills(record, module):
    boot = Boot([module("root"), module("ds"), module("demo"), module("demotest", "1000")])
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
    boot = Boot([module("root"), module("ds"), module("demo"), module("crashy", "crash"),
                 module("rstest")])
    try:
        collect_tests(boot, record, "rs", "rstest", timeout=120, exit_status=1)
        for _, t in boot.lines:  # the measurements the tests printed (not results)
            if t.startswith("rs.") and ":" in t:
                print(f"  measured {t}", flush=True)
    finally:
        boot.kill()


def run_bad_manifest(record, module):
    """A manifest with an error: rs names its file and line, does not start that
    service, and starts the others."""
    import subprocess
    from qemu import BUILD, ROOT
    bad = os.path.join(BUILD, "bad")
    os.makedirs(os.path.join(bad, "drivers/demo"), exist_ok=True)
    with open(os.path.join(bad, "drivers/demo/demo.conf"), "w") as f:
        f.write("# demo, broken on purpose\nlabel demo\nrestart immediate\nfrob 1\n")
    os.makedirs(os.path.join(bad, "drivers/tty"), exist_ok=True)
    with open(os.path.join(ROOT, "drivers/tty/tty.conf")) as src, \
            open(os.path.join(bad, "drivers/tty/tty.conf"), "w") as dst:
        dst.write(src.read())
    bundle = os.path.join(bad, "manifests")  # a boot module must be called "manifests"
    subprocess.run([os.path.join(ROOT, "tools/pack-manifests.sh"), bundle,
                    "drivers/demo/demo.conf", "drivers/tty/tty.conf"], cwd=bad, check=True)
    boot = Boot([module("root"), module("demo"), module("tty"), bundle])
    try:
        i, _ = boot.wait_for(r"^rs: started \d+ services", timeout=30)
        text = [t for _, t in boot.lines]
        ok = (i is not None and "rs: drivers/demo/demo.conf:4: unknown key 'frob'" in text and
              "rs: not starting demo: its manifest has errors" in text and
              boot.lines[i][1] == "rs: started 1 services: tty")
        record("rs.bad_manifest_named_and_skipped", ok, "", None if ok else boot.tail())
    finally:
        boot.kill()
