#!/usr/bin/env python3
"""Where does a whole-system operation spend its instructions, per process and per function?

Boots the whole system (tools/qemu.py's modules) under -icount shift=0, types CMD on the shell
(a loop for ever, e.g. `ubench loop fork_exec`), then switches QEMU's log on through the monitor
for a short window: every executed translation block (nochain) with the CPU state before it
(CR3 tells the address space apart: every program is linked at 0x400000) and each block's
instructions at its translation. Each block counts its instructions (a rep-prefixed one once per
iteration, as -icount does). An address space is named by the program whose instruction
boundaries hold all of its user addresses (build/<server>, BusyBox, ubench); kernel addresses by
build/kernel.elf's symbols.

    python3 tools/profile_system.py "ubench loop fork_exec" --window 1.5
"""
import argparse
import bisect
import collections
import os
import re
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import qemu  # noqa: E402
from profile import symbols  # noqa: E402  (tools/profile.py, ahead of the standard one)

PROGRAMS = ["pm", "vfs", "ramfs", "tty", "ds", "root", "ipc", "inet", "pci", "busybox",
            "musl/ubench", "ext2", "virtio_blk"]


def boundaries(path):
    """The addresses where an instruction of path's text starts."""
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True,
                         text=True).stdout
    return {int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):", out, re.M)}


def name_of(table, addrs, a):
    i = bisect.bisect_right(addrs, a) - 1
    return table[i][1] if i >= 0 else hex(a)


def parse(log, entries):
    """{(cr3, pc): times executed}, each translated block's length by (cr3, pc), and for each
    address in entries (a kernel function's first), {previous block's pc: entries from it}."""
    size, runs, calls = {}, collections.Counter(), collections.defaultdict(collections.Counter)
    cr3, pending, tb_pc, last = None, None, None, None
    trace = re.compile(r"^Trace \d+: 0x[0-9a-f]+ \[[0-9a-f]+/([0-9a-f]+)/")
    insn = re.compile(r"^0x([0-9a-f]+):")
    with open(log, errors="replace") as f:
        for line in f:
            m = trace.match(line)
            if m:
                pending = int(m.group(1), 16)
                continue
            if pending is not None and "CR3=" in line:
                cr3 = int(line.split("CR3=")[1].split()[0], 16) & ~0xfff
                runs[(cr3, pending)] += 1
                if pending in entries:
                    calls[pending][last] += 1
                last, pending = pending, None
                continue
            if line.startswith("IN:"):
                tb_pc = None
                continue
            m = insn.match(line)
            if m:
                a = int(m.group(1), 16)
                if tb_pc is None:
                    tb_pc, n = a, 0
                n += 1
                size[(cr3, tb_pc)] = n
    return runs, size, calls


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command")
    ap.add_argument("--window", type=float, default=1.0)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--callers", default="", help="kernel functions (a,b): who calls them")
    ap.add_argument("--ext2", action="store_true",
                    help="an empty ext2 disk on /mnt (tools/bench_ext2cost.py's)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="profile-")
    log, sock = os.path.join(tmp, "exec.log"), os.path.join(tmp, "qmp.sock")
    mods, flags = qemu.system_modules(), []
    if args.ext2:
        from bench_ext2cost import image
        mods, flags = qemu.run_boot("none", (), "ramfs", "virtio", image(tmp))
    cmd = qemu.qemu_command(mods, icount=True,
                            extra=flags + qemu.monitor_flags(sock) + ["-D", log])
    boot = qemu.Boot([], console=True, command=cmd)
    try:
        if not boot.wait_prompt("# ", 60):
            raise SystemExit("no shell prompt\n" + "\n".join(boot.tail()))
        boot.send(args.command + "\n")
        time.sleep(3)
        mon = qemu.Monitor(sock)
        mon.hmp("log in_asm,exec,cpu,nochain")
        time.sleep(args.window)
        mon.hmp("log none")
    finally:
        boot.kill()
    kernel = symbols(os.path.join(qemu.BUILD, "kernel.elf"))
    kaddr = [a for a, _ in kernel]
    wanted = {a: n for a, n in kernel if n in args.callers.split(",")}
    runs, size, calls = parse(log, wanted)
    user_pcs = collections.defaultdict(set)
    for (cr3, pc) in runs:
        if pc < 1 << 63:
            user_pcs[cr3].add(pc)
    progs = {}
    for p in PROGRAMS:
        path = os.path.join(qemu.BUILD, p)
        if os.path.exists(path):
            progs[p] = (boundaries(path), symbols(path))
    space = {}
    for cr3, pcs in user_pcs.items():
        best = max(progs, key=lambda p: sum(pc in progs[p][0] for pc in pcs))
        space[cr3] = best if all(pc in progs[best][0] for pc in pcs) else best + "?"
    by_func, by_space = collections.Counter(), collections.Counter()
    for (cr3, pc), n in runs.items():
        ins = n * size.get((cr3, pc), 1)
        who = space.get(cr3, "?")
        if pc >= 1 << 63:
            by_func["kernel " + name_of(kernel, kaddr, pc)] += ins
            by_space[who + " (kernel)"] += ins
        else:
            table = progs.get(who.rstrip("?"), (None, []))[1]
            by_func[who + " " + name_of(table, [a for a, _ in table], pc)] += ins
            by_space[who] += ins
    total = sum(by_func.values())
    print(f"{total} instructions in the window")
    for name, n in by_space.most_common():
        print(f"{n:10} {100 * n / total:5.1f}%  {name}")
    print()
    for name, n in by_func.most_common(args.top):
        print(f"{n:10} {100 * n / total:5.1f}%  {name}")
    for a, name in wanted.items():
        print(f"\ncalls of {name}, by caller")
        by = collections.Counter()
        for pc, n in calls[a].items():
            by[name_of(kernel, kaddr, pc) if pc and pc >= 1 << 63 else "user"] += n
        for caller, n in by.most_common(12):
            print(f"{n:10}  {caller}")
    os.remove(log)


if __name__ == "__main__":
    main()
