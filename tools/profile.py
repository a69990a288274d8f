#!/usr/bin/env python3
"""Where does the guest spend its instructions? A sampling-free profiler.

Boots the given modules under TCG with -icount, lets the system run for a
while, switches QEMU's exec log on for a short window through the monitor,
and counts executed translation blocks per function (kernel symbols from
build/kernel.elf, user symbols from the program named with --user). With
nochain, every executed block is logged, and a rep-prefixed instruction
counts once per iteration, as -icount does.

    python3 tools/profile.py --user build/kbench build/root "build/kbench loop"
"""
import argparse
import bisect
import collections
import os
import re
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def symbols(path):
    out = subprocess.run(["nm", "-n", path], capture_output=True, text=True).stdout
    table = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "tTwW":
            table.append((int(parts[0], 16), parts[2]))
    return table


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--user", help="ELF of the user program to symbolize")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--window", type=float, default=0.3)
    ap.add_argument("modules", nargs="+")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp()
    log, sock = os.path.join(tmp, "exec.log"), os.path.join(tmp, "mon.sock")
    qemu = subprocess.Popen([
        "qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-icount", "shift=0",
        "-m", "512M", "-display", "none", "-serial", "file:" + os.path.join(tmp, "serial.log"),
        "-monitor", f"unix:{sock},server,nowait", "-D", log,
        "-kernel", os.path.join(ROOT, "build/kernel32.elf"), "-initrd", ",".join(args.modules)])
    time.sleep(args.warmup)
    mon = socket.socket(socket.AF_UNIX)
    mon.connect(sock)
    for cmd, pause in ((b"log exec,nochain\n", args.window), (b"log none\n", 0.2),
                       (b"quit\n", 0.2)):
        mon.send(cmd)
        time.sleep(pause)
    qemu.wait(10)
    kernel = symbols(os.path.join(ROOT, "build/kernel.elf"))
    user = symbols(args.user) if args.user else []
    kaddr, uaddr = [a for a, _ in kernel], [a for a, _ in user]
    counts = collections.Counter()
    pc = re.compile(r"/([0-9a-f]{16})/")
    with open(log, errors="replace") as f:
        for line in f:
            m = pc.search(line)
            if not m:
                continue
            a = int(m.group(1), 16)
            table, addrs = (kernel, kaddr) if a >= 1 << 63 else (user, uaddr)
            i = bisect.bisect_right(addrs, a) - 1
            prefix = "kernel " if table is kernel else "user "
            counts[prefix + (table[i][1] if i >= 0 else hex(a))] += 1
    total = sum(counts.values())
    entries = counts.get("kernel syscall_entry", 0)
    print(f"{total} blocks executed, {entries} system calls")
    for name, n in counts.most_common(30):
        per = f"{n / entries:8.1f} per call" if entries else ""
        print(f"{n:9} {100 * n / total:5.1f}%  {per}  {name}")


if __name__ == "__main__":
    main()
