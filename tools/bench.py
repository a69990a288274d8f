#!/usr/bin/env python3
"""make bench: kernel micro-benchmarks and boot time, in one run.

kbench (tests/bench/kbench.c) reports medians over 21 runs of 2,000
operations each, as guest TSC ticks per operation. It runs twice: plain
TCG (TSC follows the host clock, so the figures move with host load) and
-icount shift=0, where one TSC tick is one guest instruction and the
figures repeat exactly. Boot time is measured on the host, from QEMU's
start to the root server's first line, median of 5 boots.
"""
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, Boot  # noqa: E402


def kbench(icount):
    boot = Boot([os.path.join(BUILD, "root"), os.path.join(BUILD, "kbench")], icount=icount)
    try:
        i, _ = boot.wait_for(r"^kbench: done", timeout=300)
        if i is None:
            print("\n".join(boot.tail()))
            raise SystemExit("kbench did not finish")
        rows = {}
        for _, text in boot.lines:
            parts = text.split()
            if len(parts) == 5 and parts[0] == "BENCH":
                rows[parts[1]] = tuple(int(x) for x in parts[2:])
        return rows
    finally:
        boot.kill()


def boot_ms():
    times = []
    for _ in range(5):
        boot = Boot([os.path.join(BUILD, "root")])
        try:
            i, _ = boot.wait_for(r"^root: started", timeout=30)
            if i is None:
                raise SystemExit("root never started")
            times.append(boot.lines[i][0] * 1000)
        finally:
            boot.kill()
    return statistics.median(times), min(times), max(times)


def main():
    tsc = kbench(icount=False)
    ins = kbench(icount=True)
    names = {
        "sendrec_roundtrip": "sendrec + reply, two address spaces",
        "null_kernel_call": "null kernel call (KC_UPTIME)",
        "notify_roundtrip": "notify + notify back (two switches)",
        "notify_pending": "notify, receiver not waiting",
    }
    print(f"{'operation':40} {'TSC ticks (TCG)':>22} {'guest instructions':>20}")
    print(f"{'':40} {'median [min-max]':>22} {'(-icount shift=0)':>20}")
    for key, label in names.items():
        t, i = tsc[key], ins[key]
        print(f"{label:40} {t[0]:>8} [{t[1]}-{t[2]}]".ljust(63) + f" {i[0]:>20}")
    med, lo, hi = boot_ms()
    print(f"\nQEMU start to first user process (root): median {med:.0f} ms "
          f"[{lo:.0f}-{hi:.0f}] over 5 boots")


if __name__ == "__main__":
    main()
