"""`make peer-tests SUITE=tcl`'s harness (docs/PEER-TESTS.md), kept from rotting. Builds
build/tcl/tcltest first (`make tcl`: fetches Debian's tcl8.6 on first use, about a minute to
build). Then, on the host (the static musl tcltest runs on the build machine too), the guest's
script tools/peer/tcl-tests on a folder of its own with Tcl's all.tcl and a test file made up
here (a test that passes, one that fails, one skipped by a constraint, then a file that never
ends under a time of its own of 2 s): the PASS/FAIL/SKIPPED lines peer_tests.parse() reads, and
`timeout -s KILL` stopping the file with status 137. Last, one Samsara boot on the image the
harness makes (SUITE=tcl: tcltest, Tcl's tests/ and library/) running two real test files:
append.test (every test must pass) and fCmd.test (files, directories, permissions, rename:
must finish, none failing; most of its tests need a user other than root and are skipped).
About 15 s under TCG after the build; no Linux guest. Called by tools/test.py as
run(record, module)."""
import os
import shutil
import subprocess
import tempfile

import peer_tests as pt
from qemu import ROOT

MADE_UP = """\
package require tcltest 2.5
namespace import ::tcltest::*
test smoke-1.1 {passes} {expr {1 + 1}} 2
test smoke-1.2 {fails} {expr {1 + 1}} 3
test smoke-1.3 {skipped} {noSuchConstraint} {expr 1} 1
cleanupTests
"""
FOREVER = "while 1 {}\n"


def host_script(record):
    """The guest's script on the host with the made-up files."""
    with tempfile.TemporaryDirectory(prefix="peertcl-") as tmp:
        d = os.path.join(tmp, "tcl")
        os.makedirs(os.path.join(d, "tests"))
        shutil.copy2(os.path.join(pt.TCL_SRC, "tests", "all.tcl"), os.path.join(d, "tests"))
        shutil.copytree(os.path.join(pt.TCL_SRC, "library"), os.path.join(d, "library"))
        shutil.copy2(pt.TCLTEST, os.path.join(d, "tcltest"))
        for name, text in (("smoke.test", MADE_UP), ("forever.test", FOREVER)):
            with open(os.path.join(d, "tests", name), "w") as f:
                f.write(text)
        with open(os.path.join(d, "groups"), "w") as f:
            f.write("smoke.test\nforever.test 2\n")
        out = subprocess.run(["sh", pt.TCL_SCRIPT, d, "60", "10"], capture_output=True, text=True,
                             timeout=60)
        lines = [(0.0, line) for line in out.stdout.splitlines()]  # timed by /proc/uptime
    groups, done = pt.parse(lines)
    smoke, forever = groups.get("smoke.test", {}), groups.get("forever.test", {})
    got = smoke.get("results")
    want = [["PASS", "smoke-1.1"], ["FAIL", "smoke-1.2"], ["SKIPPED", "smoke-1.3"]]
    ok = got == want and smoke.get("rc") == 0 and \
        "---- Result was: 2" in smoke.get("other", [])
    record("peertcl.script_reports_each_test", ok, "" if ok else f"{smoke}\n{out.stderr}")
    secs = forever.get("guest_seconds")
    ok = done and forever.get("rc") == 137 and secs is not None and 1.5 <= secs < 30
    record("peertcl.script_timeout_kills_file", ok,
           f"stopped after {secs} s" if ok else f"{forever}, done {done}")


def run(record, module):
    built = subprocess.run(["make", "-s", "tcl"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        record("peertcl.build", False, built.stdout + built.stderr)
        return
    host_script(record)
    with tempfile.TemporaryDirectory(prefix="peertcl-") as tmp:
        try:
            r = pt.run_system(pt.SamsaraTests, ["append.test", "fCmd.test"], 120, tmp,
                              log=lambda s: None, suite="tcl")
        except RuntimeError as e:
            record("peertcl.samsara_boot", False, str(e))
            return
    g = r["groups"]
    for name, least in (("append.test", 40), ("fCmd.test", 30)):
        got = g.get(name, {})
        res = got.get("results", [])
        fails = [n for k, n in res if k == "FAIL"]
        passes = sum(1 for k, _ in res if k == "PASS")
        ok = got.get("rc") == 0 and passes >= least and not fails
        record(f"peertcl.samsara_{name.replace('.', '_')}", ok,
               f"{passes} passed, {len(res) - passes} skipped in {got.get('seconds')} s" if ok
               else f"want rc 0, {least}+ passes, no failure: rc {got.get('rc')}, {passes} "
               f"passed, failed {fails}, {got.get('other')}")
