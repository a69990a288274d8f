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
    run_bus_master_off(record, module)


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


def bundle_manifests(name, confs):
    """A manifests boot module from (path, text) pairs, in build/NAME."""
    import subprocess
    from qemu import BUILD, ROOT
    top = os.path.join(BUILD, name)
    for path, text in confs:
        os.makedirs(os.path.join(top, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(top, path), "w") as f:
            f.write(text)
    bundle = os.path.join(top, "manifests")  # a boot module must be called "manifests"
    subprocess.run([os.path.join(ROOT, "tools/pack-manifests.sh"), bundle] + [p for p, _ in confs],
                   cwd=top, check=True)
    return bundle


def run_bus_master_off(record, module):
    """A driver's PCI device (here q35's AHCI controller, 8086:2922 at 00:1f.2,
    named in demo's manifest for the test) has bus mastering turned off by rs
    when the driver dies, before its replacement runs: read back from the device."""
    from qemu import ROOT
    read = lambda p: open(os.path.join(ROOT, p)).read()
    bundle = bundle_manifests("pci", [
        ("drivers/demo/demo.conf", read("drivers/demo/demo.conf").replace("policy ", "# policy ")
         + "pci 8086:2922\n"),
        ("servers/ds/ds.conf", read("servers/ds/ds.conf")),
        ("tests/servers/demotest/demotest.conf", read("tests/servers/demotest/demotest.conf"))])
    boot = Boot([module("root"), module("ds"), module("demo"), module("demotest", "3"), bundle])
    try:
        i, m = boot.wait_for(r"^TEST (rs\.\S+) (PASS|FAIL)", timeout=60)
        lines = [t for _, t in boot.lines if "bus mastering off" in t]
        ok = (i is not None and m.group(2) == "PASS" and len(lines) == 3 and all(
            l.startswith("rs: demo: bus mastering off: 00:1f.2 command ") and
            int(l.split()[-1], 16) & 4 == 0 for l in lines))
        record("rs.bus_mastering_off_at_death", ok, "; ".join(lines[:1]), None if ok else boot.tail())
    finally:
        boot.kill()


def run_bad_manifest(record, module):
    """A manifest with an error: rs names its file and line, does not start that
    service, and starts the others."""
    from qemu import ROOT
    bundle = bundle_manifests("bad", [
        ("drivers/demo/demo.conf", "# demo, broken on purpose\nlabel demo\nrestart immediate\nfrob 1\n"),
        ("drivers/tty/tty.conf", open(os.path.join(ROOT, "drivers/tty/tty.conf")).read())])
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
