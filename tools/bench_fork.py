#!/usr/bin/env python3
"""make bench-fork: fork+exit+wait and fork+exec+wait as the process grows (docs/BENCH-FORK.md).

The same static program, user/ubench.c's `ubench fork MIB...`, runs on Samsara (from the BusyBox
shell on the console) and on Debian's Linux 6.1 (the peer guest of tools/linuxpeer.py, with ubench
appended to its initramfs as a second cpio archive), in the same QEMU configuration (q35, TCG, one
CPU, MEM). For each size it maps and touches that many MiB of private memory, then times 20 forks
whose children exit at once, and 20 whose children exec /bin/true (BusyBox on both), each waited
for: the median of 11 runs, in microseconds per fork (the guest's CLOCK_MONOTONIC). With
--rounds N each system boots N times (interleaved, as the host's load moves) and the table shows
the median of the N medians. With --icount both guests run under -icount shift=0: the guest's
clock and TSC count instructions, and the table shows ubench's TSC column in thousands of
instructions per fork: the work each system does, the same whatever the host's load.

--samsara-kernel FILE boots Samsara with another kernel32.elf (for instance one built before
copy-on-write, to measure the eager copy).

Usage: tools/bench_fork.py [--sizes 0,4,16,64] [--rounds N] [--icount] [--no-linux] [--no-samsara]
       [--samsara-kernel FILE] [--json FILE]
"""
import argparse
import json
import os
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxpeer as lp  # noqa: E402
import qemu  # noqa: E402

UBENCH = os.path.join(qemu.BUILD, "musl", "ubench")
MEM = os.environ.get("MEM") or "512M"  # both guests'
ROWS = [("fork_exit_wait", "fork+exit+wait"), ("fork_exec_true_wait", "fork+exec+wait")]


def parse(lines, icount):
    """{name: median microseconds} from ubench's UBENCH lines; with icount, the median TSC
    ticks / 1000 instead (under -icount shift=0 a tick is one instruction, on both guests, and
    finer than Samsara's 1 ms clock)."""
    return {p[1]: float(p[5]) / 1000 if icount else float(p[2])
            for p in (t.split() for t in lines) if len(p) == 6 and p[0] == "UBENCH"}


def command(sizes):
    return "ubench fork " + " ".join(str(s) for s in sizes)


def samsara(sizes, kernel, icount):
    cmd = qemu.qemu_command(qemu.system_modules(), icount=icount, memory=MEM)
    if kernel:
        cmd[cmd.index("-kernel") + 1] = os.path.abspath(kernel)
    boot = qemu.Boot([], console=True, command=cmd)
    try:
        if not boot.wait_prompt("# ", 60):
            raise SystemExit("samsara: no shell prompt\n" + "\n".join(boot.tail()))
        out = boot.run(command(sizes), "# ", 1800) or []
        if "ubench: done" not in out:
            raise SystemExit("samsara: ubench did not finish\n" + "\n".join(boot.tail()))
        return parse(out, icount)
    finally:
        boot.kill()


def linux(sizes, icount):
    with tempfile.TemporaryDirectory(prefix="bench-fork-") as tmp:
        g = lp.client_with({"bin/ubench": UBENCH}, tmp, memory=MEM,
                           extra=["-icount", "shift=0"] if icount else [])
        try:
            g.wait_line("ready", 120)
            out = g.shell(command(sizes), timeout=1800)
        finally:
            g.quit()
    if "ubench: done" not in out:
        raise SystemExit("linux: ubench did not finish\n" + "\n".join(out[-15:]))
    return parse(out, icount)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="0,4,16,64", help="MiB touched, comma-separated")
    ap.add_argument("--rounds", type=int, default=1, help="boots per system")
    ap.add_argument("--icount", action="store_true", help="-icount shift=0: instructions")
    ap.add_argument("--no-linux", action="store_true")
    ap.add_argument("--no-samsara", action="store_true")
    ap.add_argument("--samsara-kernel", help="boot Samsara with this kernel32.elf")
    ap.add_argument("--json", help="write the medians here")
    a = ap.parse_args()
    sizes = [int(s) for s in a.sizes.split(",")]
    rounds = {}
    for _ in range(a.rounds):
        if not a.no_samsara:
            rounds.setdefault("samsara", []).append(samsara(sizes, a.samsara_kernel, a.icount))
        if not a.no_linux:
            rounds.setdefault("linux", []).append(linux(sizes, a.icount))
    results = {s: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for s, rs in rounds.items()}
    print(f"`{command(sizes)}`, MEM={MEM}: median microseconds per fork (11 runs of 20"
          f"{f'; median of {a.rounds} boots' if a.rounds > 1 else ''}"
          f"{'; -icount shift=0: thousands of guest instructions' if a.icount else ''})")
    systems = list(results)
    head = "".join(f" {s:>10}" for s in systems) + ("   ratio" if len(systems) == 2 else "")
    for key, label in ROWS:
        print(f"\n{label:16} {'MiB':>5}{head}")
        for mib in sizes:
            vals = [results[s].get(f"{key}_{mib}MiB") for s in systems]
            line = f"{'':16} {mib:>5}" + "".join(f" {v:>10.0f}" if v else f" {'?':>10}"
                                                 for v in vals)
            if len(vals) == 2 and all(vals):
                line += f" {vals[0] / vals[1]:>6.2f}x"
            print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"medians": results, "rounds": rounds}, f, indent=1)


if __name__ == "__main__":
    main()
