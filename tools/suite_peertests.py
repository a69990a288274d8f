"""`make peer-tests`'s harness (docs/PEER-TESTS.md), kept from rotting: first on the host,
parse() on peer-tests' lines made up here (results in order, a name repeated, other lines, a
group the guest never finished); then one Samsara boot on the image the harness makes (BusyBox's
testsuite, the shipped binary, its .config), three small groups through the guest script:
basename (old-style cases: one PASS per file of testsuite/basename, each named after it),
comm (a GROUP.tests file started by path: it must finish with an exit status, whatever its
results), and sed with a time of its own of 1 s, which runtest cannot finish in (89 cases,
2.4 s after issue 12; true and mkdir now finish in about 1.06 s, too close to the second):
`timeout -s KILL` must stop it with status 137 and the guest go on.
About 40 s under TCG; no Linux guest. Called by tools/test.py as run(record, module)."""
import os
import tempfile

import peer_tests as pt

CANNED = """\
noise before
peer: group basename start=1.50
peer: r PASS: basename-works
peer: r FAIL: basename-works
peer: r SKIPPED: basename skipped
peer: o ./runtest: line 1: something
peer: group basename rc=1 end=4.25 lines=4
peer: group comm start=4.30
peer: r UNTESTED: comm x
peer: o killed
""".splitlines()


def parse_canned(record):
    groups, done = pt.parse([(float(i), text) for i, text in enumerate(CANNED)])
    run = {"groups": groups, "boots": 1, "wall": 0}
    got = pt.results(run)
    want = {"basename/basename-works": "PASS", "basename/basename-works #2": "FAIL",
            "basename/basename skipped": "SKIPPED", "comm/comm x": "UNTESTED"}
    b, c = groups.get("basename", {}), groups.get("comm", {})
    ok = (got == want and not done and b.get("rc") == 1 and b.get("guest_seconds") == 2.75 and
          b.get("seconds") == 5.0 and
          b.get("other") == ["./runtest: line 1: something"] and c.get("end") is None and
          c.get("other") == ["killed"])
    t = pt.totals(run)
    ok = ok and (t["pass"], t["fail"], t["skipped"], t["untested"]) == (1, 1, 1, 1)
    record("peertests.parse", ok, "" if ok else f"{groups} -> {got}, totals {t}")


def run(record, module):
    parse_canned(record)
    cases = sorted(f for f in os.listdir(os.path.join(pt.TESTSUITE, "basename"))
                   if not f.startswith("."))
    with tempfile.TemporaryDirectory(prefix="peertests-") as tmp:
        try:
            r = pt.run_system(pt.SamsaraTests, ["basename", "comm", "sed"], 120, tmp,
                              log=lambda s: None, limits={"sed": 1})
        except RuntimeError as e:
            record("peertests.samsara_boot", False, str(e))
            return
    g = r["groups"]
    basename = g.get("basename", {})
    ok = sorted(n for _, n in basename.get("results", [])) == cases and \
        all(k == "PASS" for k, _ in basename["results"]) and basename.get("rc") == 0
    record("peertests.old_style_cases_parsed", ok,
           f"{len(cases)} cases in {basename.get('seconds')} s" if ok else
           f"want PASS for {cases}: {basename}")
    comm = g.get("comm", {})
    ok = comm.get("rc") is not None and comm.get("end") is not None and not comm.get("hung")
    record("peertests.tests_file_group_finished", ok,
           f"rc {comm.get('rc')}, {len(comm.get('results', []))} results" if ok else str(comm))
    slow = g.get("sed", {})
    ok = slow.get("rc") == 137 and r["boots"] == 1 and pt.totals(r)["timed_out"] == 1
    record("peertests.group_timeout_kills_runtest", ok,
           f"stopped after {slow.get('seconds')} s" if ok else f"{slow}, {r['boots']} boots")
