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
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, Boot, system_modules  # noqa: E402


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


def shell_prompt_ms():
    """QEMU start to the BusyBox prompt on the console, median of 5 boots."""
    times = []
    for _ in range(5):
        boot = Boot(system_modules(), console=True)
        try:
            if not boot.wait_prompt("# ", 30):
                raise SystemExit("no shell prompt")
            times.append((time.monotonic() - boot.start) * 1000)
        finally:
            boot.kill()
    return statistics.median(times), min(times), max(times)


def ubench(icount=False):
    """user/ubench.c as the first process: Linux system-call costs in microseconds.

    Each row: median, min and max microseconds, then the median TSC ticks per
    operation; under -icount shift=0 a tick is one guest instruction (all of
    them: the program's, the kernel's and the servers'), which repeats from run
    to run whatever the host's load.
    """
    boot = Boot(system_modules("/bin/ubench", with_services=["demo"]), icount=icount)
    try:
        if boot.wait_for(r"^ubench: done", timeout=300)[0] is None:
            print("\n".join(boot.tail()))
            raise SystemExit("ubench did not finish")
        return {p[1]: p[2:] for p in (t.split() for _, t in boot.lines) if len(p) == 6 and p[0] == "UBENCH"}
    finally:
        boot.kill()


def recovery():
    """The demo driver killed 1,000 times (tests/servers/demotest): recovery times."""
    boot = Boot([os.path.join(BUILD, "root"), os.path.join(BUILD, "ds"), os.path.join(BUILD, "demo"),
                 os.path.join(BUILD, "demotest") + " 1000"])
    try:
        i, m = boot.wait_for(r"^RECOVERY (.*)", timeout=300)
        if i is None:
            raise SystemExit("demotest did not finish")
        return dict(kv.split("=") for kv in m.group(1).split()[1:])
    finally:
        boot.kill()


def main():
    tsc = kbench(icount=False)
    ins = kbench(icount=True)
    names = {
        "sendrec_roundtrip": "sendrec + reply, two address spaces",
        "reply_receive_roundtrip": "sendrec + reply_receive (server loop)",
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
    med, lo, hi = shell_prompt_ms()
    print(f"QEMU start to the BusyBox shell prompt:   median {med:.0f} ms "
          f"[{lo:.0f}-{hi:.0f}] over 5 boots")
    wall, ins = ubench(), ubench(icount=True)
    print(f"\n{'Linux system call':40} {'TCG wall clock, us':>24} {'guest instructions':>20}")
    print(f"{'':40} {'median [min-max]':>24} {'(-icount shift=0)':>20}")
    for name, (med, lo, hi, _) in wall.items():
        n = ins[name][3] if name in ins else "?"
        print(f"{name:40} {med:>10} [{lo}-{hi}]".ljust(65) + f" {n:>20}")
    r = recovery()
    print(f"\nDriver recovery, 1,000 kills of the demo driver (TCG):")
    print(f"  client-observed (kill request to first good answer): median {r['median_us']} us, "
          f"max {r['max_us']} us")
    print(f"  rs-measured (kill to the new instance's ROOT_READY):  mean {r['root_mean_us']} us, "
          f"max {r['root_max_us']} us")


if __name__ == "__main__":
    main()
