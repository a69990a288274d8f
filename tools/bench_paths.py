#!/usr/bin/env python3
"""Path-lookup costs in guest instructions (-icount shift=0), Samsara and Linux 6.1 side by side.

`ubench paths` (stat and open+close of a 4-deep path, median per operation), then, from the
shell, one run each of BusyBox's tar x of a 500-file tree (10 directories of 50 files), ls -lR of
it and rm -rf of it, timed by `ubench run` (TSC ticks = instructions under -icount shift=0). Linux
boots as in tools/bench_fork.py (tools/linuxpeer.py, ubench added to its initramfs).

Usage: tools/bench_paths.py [samsara] [linux]   (both by default)
"""
import os
import re
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxpeer as lp  # noqa: E402
import qemu  # noqa: E402

UBENCH = os.path.join(qemu.BUILD, "musl", "ubench")
SETUP = ("mkdir -p /tmp/src && cd /tmp/src && for d in 0 1 2 3 4 5 6 7 8 9; do mkdir d$d; "
         "for f in 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 "
         "30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49; do echo $d$f > d$d/f$f; done; done; "
         "cd /tmp && tar cf /tmp/t.tar src && rm -rf /tmp/src && mkdir /tmp/x && echo setup-ok")
RUNS = [("tar_x_500", "ubench run /bin/busybox tar xf /tmp/t.tar -C /tmp/x"),
        ("ls_lR", "ubench run /bin/sh -c \"ls -lR /tmp/x > /dev/null\""),
        ("rm_rf", "ubench run /bin/busybox rm -rf /tmp/x/src")]


def parse(out):
    rows = {}
    for t in out:
        p = t.split()
        if len(p) == 6 and p[0] == "UBENCH":
            rows[p[1]] = float(p[5])
    return rows


def runs(run_cmd):
    rows = {}
    out = run_cmd("ubench paths")
    rows.update(parse(out))
    out = run_cmd(SETUP)
    assert any("setup-ok" in l for l in out), out[-10:]
    for name, c in RUNS:
        out = run_cmd(c)
        for l in out:
            m = re.search(r"UBENCH run (\d+) us, (\d+) ticks", l)
            if m:
                rows[name] = int(m.group(2))
    return rows


def samsara():
    b = qemu.Boot(qemu.system_modules(), console=True, icount=True)
    try:
        assert b.wait_prompt("# ", 60)
        return runs(lambda c: b.run(c, "# ", 600) or [])
    finally:
        b.kill()


def linux():
    with tempfile.TemporaryDirectory() as tmp:
        g = lp.client_with({"bin/ubench": UBENCH}, tmp, memory="512M", extra=["-icount", "shift=0"])
        try:
            g.wait_line("ready", 120)
            return runs(lambda c: g.shell(c, timeout=600))
        finally:
            g.quit()


if __name__ == "__main__":
    res = {}
    if "samsara" in sys.argv[1:] or len(sys.argv) == 1:
        res["samsara"] = samsara()
    if "linux" in sys.argv[1:] or len(sys.argv) == 1:
        res["linux"] = linux()
    print(res)
    if len(res) == 2:
        for k in res["samsara"]:
            s, l = res["samsara"][k], res["linux"].get(k)
            print(f"{k:20} {s:12.0f} {l or 0:12.0f} {s / l if l else 0:6.2f}x")
