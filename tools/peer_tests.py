#!/usr/bin/env python3
"""make peer-tests: BusyBox's and Tcl's test suites on Samsara and on Linux 6.1 (PEER-TESTS.md).

The testsuite of the BusyBox source package the build fetches (third_party/busybox/testsuite),
unmodified, goes on a fresh ext2 image (mke2fs -d) beside the BusyBox binary Samsara ships
(build/busybox/busybox, the binary both guests run) and the .config it was built with (runtest
reads $bindir/.config for the optional features): /bb/busybox, /bb/.config, /bb/testsuite,
/bb/peer-tests (tools/peer/peer-tests, the guest's side) and /bb/groups. Each guest mounts the
image at /mnt (Samsara: ROOT=ramfs with ext2 on /mnt, as `make run ROOT=ramfs DISK=...`; Linux:
Debian's kernel with ext4's driver mounting the ext2 image, docs/BENCH-DISK.md), both on
virtio-blk in the same QEMU configuration (q35, TCG, one CPU, MEM), and runs
`sh /mnt/bb/peer-tests /mnt/bb SECONDS`: runtest once per group (an applet with a GROUP.tests
file or a GROUP/ folder of old-style cases, in runtest's own order), each under `timeout -s KILL
SECONDS`, the results read back from the serial console. If a guest prints nothing for
SECONDS + WATCHDOG, the host kills it, records the group as hung and boots a fresh image for
the groups after it. Then per system passed/failed/skipped, the tests that pass on Linux and
not on Samsara (and the reverse), wall time per group and Samsara's over Linux's.

--suite tcl runs Tcl's test suite the same way (SUITES below): the tests/ and library/ of the
Tcl source package mk/tcl.mk fetches (third_party/tcl8.6), unmodified, and the static tcltest
built from it (build/tcl/tcltest) as /tcl on the image, one group per tests/NAME.test file, run
by tools/peer/tcl-tests (Tcl's own driver all.tcl, one file at a time).

Usage: tools/peer_tests.py [--suite busybox|tcl] [--groups a,b,...] [--timeout SECONDS]
       [--no-linux] [--no-samsara] [--json FILE]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxpeer as lp  # noqa: E402
import qemu  # noqa: E402

TESTSUITE = os.path.join(qemu.ROOT, "third_party", "busybox", "testsuite")
CONFIG = os.path.join(qemu.BUILD, "busybox", "obj", ".config")
SCRIPT = os.path.join(qemu.ROOT, "tools", "peer", "peer-tests")
TCL_SRC = os.path.join(qemu.ROOT, "third_party", "tcl8.6")
TCLTEST = os.path.join(qemu.BUILD, "tcl", "tcltest")
TCL_SCRIPT = os.path.join(qemu.ROOT, "tools", "peer", "tcl-tests")
IMAGE_MIB = 512  # sparse on the host; the tests make small files
GROUP_SECONDS = 600  # runtest's time per group in the guest (timeout -s KILL)
WATCHDOG = 120  # seconds past GROUP_SECONDS without a line before the host kills the guest
MEM = os.environ.get("MEM") or "512M"
PROMPT = "# "
KINDS = ("PASS", "FAIL", "SKIPPED", "UNTESTED")


def all_groups():
    """runtest's groups in its own order: busybox, then each applet the binary has (its list
    order) with a NAME.tests file or a NAME/ folder in the testsuite."""
    with open(lp.APPLETS) as f:
        applets = ["busybox"] + [a for a in f.read().split() if a != "busybox"]
    return [a for a in applets if os.path.isfile(os.path.join(TESTSUITE, a + ".tests")) or
            os.path.isdir(os.path.join(TESTSUITE, a))]


def stage_busybox(bb):
    """/bb: the testsuite, the binary, its .config and the guest's script."""
    shutil.copytree(TESTSUITE, os.path.join(bb, "testsuite"), symlinks=True)
    shutil.copy2(lp.BUSYBOX, os.path.join(bb, "busybox"))
    shutil.copy2(CONFIG, os.path.join(bb, ".config"))
    shutil.copy2(SCRIPT, os.path.join(bb, "peer-tests"))


def tcl_groups():
    """Tcl's test files, in all.tcl's order (sorted names)."""
    return sorted(f for f in os.listdir(os.path.join(TCL_SRC, "tests")) if f.endswith(".test"))


def stage_tcl(d):
    """/tcl: tcltest, the source package's tests/ and library/, the guest's script."""
    for sub in ("tests", "library"):
        shutil.copytree(os.path.join(TCL_SRC, sub), os.path.join(d, sub), symlinks=True)
    shutil.copy2(TCLTEST, os.path.join(d, "tcltest"))
    shutil.copy2(TCL_SCRIPT, os.path.join(d, "tcl-tests"))


# name: (folder on the image, the guest's script there, the groups in order, staging, title)
SUITES = {
    "busybox": ("bb", "peer-tests", all_groups, stage_busybox,
                lambda: "BusyBox " + os.path.basename(os.path.dirname(os.path.realpath(
                    TESTSUITE)))),
    "tcl": ("tcl", "tcl-tests", tcl_groups, stage_tcl,
            lambda: "Tcl " + os.path.basename(os.path.realpath(TCL_SRC))),
}


def make_image(path, groups, tmp, limits=None, suite="busybox"):
    """A fresh ext2 image holding the suite's folder as the module's docstring says; limits:
    {group: seconds} for groups with a time of their own."""
    stage = os.path.join(tmp, "stage")
    shutil.rmtree(stage, ignore_errors=True)
    bb = os.path.join(stage, SUITES[suite][0])
    os.makedirs(bb)
    SUITES[suite][3](bb)
    with open(os.path.join(bb, "groups"), "w") as f:
        f.write("".join(f"{g} {limits[g]}\n" if g in (limits or {}) else g + "\n"
                        for g in groups))
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", "-d", stage, path,
                    f"{IMAGE_MIB}M"], check=True, capture_output=True)
    shutil.rmtree(stage)


class SamsaraTests(qemu.Boot):
    """make run's boot with ROOT=ramfs and the image on virtio-blk mounted on /mnt."""
    name = "samsara"

    def __init__(self, img):
        mods, flags = qemu.run_boot("none", (), "ramfs", "virtio", img)
        super().__init__(mods, extra=flags, console=True)
        if not self.wait_prompt(PROMPT, 120):
            raise RuntimeError("Samsara: no shell prompt; last lines:\n  " +
                               "\n  ".join(self.tail(20)))

    def begin(self, command):
        self.send(command + "\n")

    def quit(self):
        self.kill()


class LinuxTests(lp.LinuxGuest):
    """Debian's kernel with the image on virtio-blk mounted at /mnt (tools/peer/init's disk
    role); commands through the init's `run`."""
    name = "linux"

    def __init__(self, img):
        super().__init__("disk", None, None, False, memory=MEM, disk=(img, "virtio"))
        self.wait_line(r"mounted .*", 300)
        self.wait_line("ready", 60)

    def begin(self, command):
        self.send(f"run {command}\n")


LINE = re.compile(r"^peer: (?:group (?P<group>\S+) (?:start=(?P<start>\S+)|rc=(?P<rc>\d+) "
                  r"end=(?P<end>\S+) lines=(?P<lines>\d+))|r (?P<kind>PASS|FAIL|SKIPPED|UNTESTED): "
                  r"(?P<name>.*)|o (?P<other>.*)|done groups=(?P<done>\d+)|error: (?P<error>.*))$")


def parse(lines):
    """peer-tests' lines as (host seconds, text) (the serial console's, others ignored) ->
    (groups, done): groups maps each group started to {start, end, guest_seconds (by the guest's
    /proc/uptime), seconds (by the host's clock, from the start line to the end line), rc,
    lines, results: [[kind, name]...], other: [line...]}; a group with no end line (the guest
    stopped in it) has end None. done: the "done" line was seen. The host's clock is the
    measure: a guest's clock may lag (Samsara's /proc/uptime did under load, PEER-TESTS.md)."""
    groups, current, done = {}, None, False
    for host, text in lines:
        m = LINE.match(text.rstrip())
        if not m:
            continue
        if m.group("error"):
            raise RuntimeError(f"guest: {m.group('error')}")
        if m.group("done"):
            done = True
        elif m.group("start"):
            current = groups[m.group("group")] = {
                "start": float(m.group("start")), "end": None, "seconds": None,
                "guest_seconds": None, "rc": None, "lines": 0, "results": [], "other": [],
                "host_start": host}
        elif m.group("kind"):
            if current is not None:
                current["results"].append([m.group("kind"), m.group("name")])
        elif m.group("other") is not None:
            if current is not None:
                current["other"].append(m.group("other"))
        elif current is not None and m.group("group") in groups:
            g = groups[m.group("group")]
            g.update(end=float(m.group("end")), rc=int(m.group("rc")),
                     lines=int(m.group("lines")))
            g["guest_seconds"] = round(g["end"] - g["start"], 2)
            g["seconds"] = round(host - g.pop("host_start"), 2)
            current = None
    return groups, done


def run_system(cls, groups, seconds, tmp, log=print, other=5, verbose=False, limits=None,
               suite="busybox", user=None):
    """Boot cls (SamsaraTests or LinuxTests) on a fresh image and run groups (seconds each in
    the guest, limits: {group: seconds} for some of their own); when the guest stops printing
    for the longest of them plus WATCHDOG, kill it, mark the group it was in as hung and boot
    again for the rest. {groups: {name: parse()'s dict plus hung}, boots, wall}."""
    quiet = max([seconds] + list((limits or {}).values())) + WATCHDOG
    img = os.path.join(tmp, f"{cls.name}.img")
    result, left, boots, started = {}, list(groups), 0, time.monotonic()
    while left:
        make_image(img, left, tmp, limits, suite)
        boots += 1
        guest = cls(img)
        try:
            with guest.cond:
                first = len(guest.lines)
            folder, script = f"/mnt/{SUITES[suite][0]}", SUITES[suite][1]
            guest.begin((f"TCL_USER={user} " if user else "") +
                        f"sh {folder}/{script} {folder} {seconds} {other}" +
                        (" verbose" if verbose else ""))
            index, done = first, False
            while not done:
                i, m = guest.wait_for(r"^peer: (group \S+ (start|rc)=|done |error)",
                                      quiet, index)
                if i is None:
                    break
                index = i + 1
                done = m.group(0).startswith("peer: done") or m.group(0).startswith("peer: error")
                if m.group(2) == "rc":
                    log(f"  {cls.name}: {guest.lines[i][1][len('peer: '):]}")
            with guest.cond:
                lines = guest.lines[first:]
            tail = guest.tail(15)
        finally:
            guest.quit()
        parsed, done = parse(lines)
        result.update(parsed)
        ran = [g for g in left if g in parsed]
        if done and len(ran) == len(left):
            break
        if not ran:  # not even the first group started: no point in booting again
            raise RuntimeError(f"{cls.name}: the guest stopped before {left[0]}; last lines:\n  "
                               + "\n  ".join(tail))
        stuck = ran[-1]
        if parsed[stuck]["end"] is None:
            parsed[stuck]["hung"] = True
            log(f"  {cls.name}: no line for {quiet} s in group {stuck}: guest killed;"
                f" last lines:\n    " + "\n    ".join(tail))
        left = left[left.index(stuck) + 1:]
    return {"groups": result, "boots": boots, "wall": round(time.monotonic() - started, 1)}


def results(run):
    """{"GROUP/NAME": kind} over a run's groups (a name repeated in a group gets " #2"...)."""
    out = {}
    for group, g in run["groups"].items():
        for kind, name in g["results"]:
            key, n = f"{group}/{name}", 1
            while key in out:
                n += 1
                key = f"{group}/{name} #{n}"
            out[key] = kind
    return out


def totals(run):
    r = results(run)
    count = {k.lower(): sum(1 for v in r.values() if v == k) for k in KINDS}
    groups = run["groups"].values()
    count.update(groups=len(run["groups"]), hung=sum(1 for g in groups if g.get("hung")),
                 timed_out=sum(1 for g in groups if g["rc"] == 137),
                 no_results=sum(1 for g in groups if not g["results"]),
                 seconds=round(sum(g["seconds"] or 0 for g in groups), 2),
                 guest_seconds=round(sum(g.get("guest_seconds", g["seconds"]) or 0
                                         for g in groups), 2),
                 boots=run["boots"], wall=run["wall"])
    return count


def compare(linux, samsara):
    """The tests that pass on one and not on the other: {name: the other's kind or "missing"}."""
    lr, sr = results(linux), results(samsara)
    return ({k: sr.get(k, "missing") for k, v in lr.items() if v == "PASS" and sr.get(k) != "PASS"},
            {k: lr.get(k, "missing") for k, v in sr.items() if v == "PASS" and lr.get(k) != "PASS"})


def group_rows(report):
    """Per group: Linux's and Samsara's seconds, passes and failures, and the time ratio."""
    names = list(dict.fromkeys(g for s in ("linux", "samsara") if s in report
                               for g in report[s]["groups"]))
    rows = []
    for name in names:
        row = {"group": name}
        for s in ("linux", "samsara"):
            g = report.get(s, {}).get("groups", {}).get(name)
            row[s] = None if g is None else {
                "seconds": g["seconds"], "rc": g["rc"], "hung": bool(g.get("hung")),
                "pass": sum(1 for k, _ in g["results"] if k == "PASS"),
                "fail": sum(1 for k, _ in g["results"] if k == "FAIL")}
        ls, ss = [(row[s] or {}).get("seconds") for s in ("linux", "samsara")]
        row["ratio"] = round(ss / ls, 2) if ls and ss else None
        rows.append(row)
    return rows


def time_ratios(report):
    """Samsara's seconds over Linux's, added over every group both finished ("all") and over
    those whose results were the same on both ("same": the same work done)."""
    out = {}
    for key in ("all", "same"):
        rows = [r for r in group_rows(report) if r["ratio"] is not None and
                (key == "all" or report["linux"]["groups"][r["group"]]["results"] ==
                 report["samsara"]["groups"][r["group"]]["results"])]
        ls = sum(r["linux"]["seconds"] for r in rows)
        ss = sum(r["samsara"]["seconds"] for r in rows)
        out[key] = {"groups": len(rows), "linux": round(ls, 2), "samsara": round(ss, 2),
                    "ratio": round(ss / ls, 2) if ls else None}
    return out


def print_report(report):
    def fmt(v, spec):
        width = int(re.match(r"\d*", spec).group(0) or 1)
        return format(v, spec) if v is not None else "-".rjust(width)

    rows = group_rows(report)
    print(f"\n{'group':16} {'linux s':>8} {'pass':>5} {'fail':>5} {'samsara s':>9} {'pass':>5} "
          f"{'fail':>5} {'ratio':>6}")
    for row in rows:
        cells = []
        for s in ("linux", "samsara"):
            c = row[s] or {}
            secs = "hung" if c.get("hung") else fmt(c.get("seconds"), "8.2f" if s == "linux"
                                                   else "9.2f")
            cells.append(f"{secs:>{8 if s == 'linux' else 9}} {fmt(c.get('pass'), '5d')} "
                         f"{fmt(c.get('fail'), '5d')}")
        print(f"{row['group']:16} {cells[0]} {cells[1]} {fmt(row['ratio'], '6.2f')}")
    print()
    for s in ("linux", "samsara"):
        if s in report:
            t = report[s]["totals"]
            print(f"{s:8} passed {t['pass']}, failed {t['fail']}, skipped {t['skipped']} "
                  f"(+{t['untested']} untested); {t['groups']} groups ({t['no_results']} without a "
                  f"result line, {t['timed_out']} killed by the timeout, {t['hung']} hung); "
                  f"{t['seconds']:.1f} s in groups ({t['guest_seconds']:.1f} s by the guest's "
                  f"clock), {t['wall']:.0f} s wall, {t['boots']} boot(s)")
    if "comparison" in report:
        c = report["comparison"]
        for key, what in (("all", "every group both finished"),
                          ("same", "the groups with the same results on both")):
            t = c["time"][key]
            if t["ratio"]:
                print(f"time: Samsara/Linux {t['ratio']:.2f} over {what} ({t['groups']}: "
                      f"{t['samsara']:.1f} s against {t['linux']:.1f} s)")
        for title, key, other in (("pass on Linux, not on Samsara", "linux_only", "samsara"),
                                  ("pass on Samsara, not on Linux", "samsara_only", "linux")):
            print(f"\n{title} ({len(c[key])}):")
            for line in differences(c[key], report[other]["groups"]):
                print("  " + line)


def differences(names, groups):
    """One line per test, or one per group where every one is missing on the other system
    (runtest could not start the group: its first other line says why)."""
    by_group = {}
    for name, kind in names.items():
        by_group.setdefault(name.split("/", 1)[0], []).append((name, kind))
    for group, items in by_group.items():
        g = groups.get(group) or {}
        if all(kind == "missing" for _, kind in items) and not g.get("results"):
            why = (g.get("other") or ["no output"])[0] if g else "not run"
            yield f"{group}: all {len(items)} [missing: {why}]"
        else:
            yield from (f"{name}  [{kind}]" for name, kind in items)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=sorted(SUITES), default="busybox",
                    help="BusyBox's testsuite (default) or Tcl's tests")
    ap.add_argument("--groups", help="comma-separated groups (default: every group runtest "
                    "would run, in its order; Tcl: every tests/*.test file)")
    ap.add_argument("--timeout", type=int, default=GROUP_SECONDS,
                    help="seconds per group in the guest (default %(default)s)")
    ap.add_argument("--other", type=int, default=5, help="lines of each group's output other "
                    "than results kept in the JSON (default %(default)s)")
    ap.add_argument("--verbose", action="store_true", help="runtest's VERBOSE (each failure's "
                    "diff among the other lines; use with --other 1000)")
    ap.add_argument("--linux-from", metavar="JSON", help="take Linux's results from an earlier "
                    "run's JSON (the baseline does not change with Samsara) instead of booting it")
    ap.add_argument("--samsara-from", metavar="JSON", help="the same for Samsara's results (with "
                    "--linux-from: compare two earlier runs, booting nothing)")
    ap.add_argument("--user", help="Tcl: run the tests as this user (user, of both guests' "
                    "/etc/passwd) instead of root: the notRoot tests run")
    ap.add_argument("--no-linux", action="store_true")
    ap.add_argument("--no-samsara", action="store_true")
    ap.add_argument("--json", help="where the report goes (default build/peer/peer-tests.json, "
                    "Tcl: build/peer/peer-tests-tcl.json)")
    args = ap.parse_args(argv)
    args.json = args.json or os.path.join(
        lp.PEER, "peer-tests.json" if args.suite == "busybox" else f"peer-tests-{args.suite}.json")
    known = SUITES[args.suite][2]()
    groups = args.groups.split(",") if args.groups else known
    unknown = [g for g in groups if g not in known]
    if unknown:
        sys.exit(f"peer-tests: no such group: {', '.join(unknown)} (groups: {' '.join(known)})")
    earlier = {}  # system: an earlier run's JSON
    for system, path in (("linux", args.linux_from), ("samsara", args.samsara_from)):
        if path:
            with open(path) as f:
                earlier[system] = json.load(f)
            e = earlier[system]
            if system not in e or set(groups) - set(e[system]["groups"]) or \
                    e.get("suite", "busybox") != args.suite:
                sys.exit(f"peer-tests: {path} has no {system} results for these groups")
    systems = [c for c, off in ((LinuxTests, args.no_linux or "linux" in earlier),
                                (SamsaraTests, args.no_samsara or "samsara" in earlier)) if not off]
    print(f"peer-tests: {SUITES[args.suite][4]()} test suite, {len(groups)} groups, "
          f"{args.timeout} s per group, memory {MEM}, on " +
          ", ".join(c.name for c in systems) + "".join(
              f" ({s}'s results from {p})" for s, p in (("Linux", args.linux_from),
                                                         ("Samsara", args.samsara_from)) if p),
          flush=True)
    report = {"suite": args.suite, "groups": groups, "timeout": args.timeout, "memory": MEM,
              "verbose": args.verbose, "busybox": os.path.realpath(lp.BUSYBOX)}
    if args.suite == "tcl":
        report.update(tcl=os.path.realpath(TCL_SRC), user=args.user or "root")
    elif args.user:
        sys.exit("peer-tests: --user is for --suite tcl")
    for system, e in earlier.items():
        report[f"{system}_from"] = args.linux_from if system == "linux" else args.samsara_from
        report[system] = {"groups": {g: e[system]["groups"][g] for g in groups},
                          "boots": e[system]["boots"], "wall": e[system]["wall"]}
        report[system]["totals"] = totals(report[system])
    if "linux" in earlier:
        report["kernel"] = earlier["linux"].get("kernel")
    elif not args.no_linux:
        report["kernel"] = os.path.basename(lp.vmlinuz())
    with tempfile.TemporaryDirectory(prefix="peer-tests-") as tmp:
        for cls in systems:
            report[cls.name] = run_system(cls, groups, args.timeout, tmp,
                                          lambda s: print(s, flush=True), args.other, args.verbose,
                                          suite=args.suite, user=args.user)
            report[cls.name]["totals"] = totals(report[cls.name])
    if "linux" in report and "samsara" in report:
        linux_only, samsara_only = compare(report["linux"], report["samsara"])
        report["comparison"] = {"linux_only": linux_only, "samsara_only": samsara_only,
                                "time": time_ratios(report)}
    report["rows"] = group_rows(report)
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    print_report(report)
    print(f"\npeer-tests: details in {os.path.relpath(args.json)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
