#!/usr/bin/env python3
"""The cost of ext2's restartability (docs/PERFORMANCE.md, "Issue 13: cost of restartability"):
make bench's bulk work, on an ext2 disk instead of /tmp, in guest instructions.

Samsara boots under -icount shift=0 (the guest's TSC counts instructions, whatever the host's
load) with the ramfs root and a fresh, empty ext2 image (SIZE_MIB, 4 KiB blocks, made here by
mke2fs) mounted on /mnt, as `make run ROOT=ramfs DISK=...` does; then, from the shell, ROWS
below, each timed by `ubench time` (so the boot is not counted). Each figure is the median over
ROUNDS boots. `--json FILE` writes them; `--compare FILE` prints a baseline's figures beside this
run's and the change. To compare two trees, run this script from each (copy it into the older
one's tools/ if it lacks it): it uses the build/ beside it.

Usage: tools/bench_ext2cost.py [--rounds N] [--json FILE] [--compare FILE]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import Boot, qemu_command, run_boot  # noqa: E402

SIZE_MIB = 256
TREE_FILES = 500
SETUP = [f"ubench tree /mnt/bt {TREE_FILES}"]
ROWS = [
    ("tar_c", f"tar c of a {TREE_FILES}-file tree", "/bin/tar cf /mnt/bt.tar -C /mnt bt"),
    ("rm_rf", "rm -rf of the tree", "/bin/rm -rf /mnt/bt"),
    ("tar_x", "tar x of the tree", "/bin/tar xf /mnt/bt.tar -C /mnt"),
    ("ls_lR", "ls -lR of the tree", "/bin/ls -lR /mnt/bt"),
    ("gen_2mib", "write 2 MiB (ubench gen), cached", "/bin/ubench gen /mnt/g2 2"),
    ("cat_2mib", "cat of those 2 MiB, cached", "/bin/cat /mnt/g2"),
    ("dd_512", "dd of 2 MiB in 512-byte writes", "/bin/dd if=/dev/zero of=/mnt/dd bs=512 count=4096"),
]


def image(folder):
    path = os.path.join(folder, "ext2.img")
    with open(path, "wb") as f:
        f.truncate(SIZE_MIB << 20)
    mke2fs = shutil.which("mke2fs") or "/sbin/mke2fs"
    subprocess.run([mke2fs, "-q", "-F", "-t", "ext2", "-b", "4096", path], check=True)
    return path


def one_boot():
    """{row: instructions} of one boot; RuntimeError if a step fails."""
    with tempfile.TemporaryDirectory(prefix="ext2cost-") as tmp:
        mods, flags = run_boot("none", (), "ramfs", "virtio", image(tmp))
        boot = Boot([], console=True, command=qemu_command(mods, icount=True, extra=flags))
        try:
            if not boot.wait_prompt("# ", 300):
                raise RuntimeError("no shell prompt\n" + "\n".join(boot.tail()))

            def run(command):
                out = boot.run(command, "# ", 1200)
                if out is None:
                    raise RuntimeError(f"`{command}` did not finish\n" + "\n".join(boot.tail()))
                return out

            for command in SETUP:
                run(command)
            got = {}
            for row, _, command in ROWS:
                run("sync")
                out = run(f"ubench time {row} {command}")
                p = [t.split() for t in out if t.split()[:2] == ["UBULK", row]]
                if len(p) != 1 or p[0][3:] != ["0"]:
                    raise RuntimeError(f"`{command}` failed:\n  " + "\n  ".join(out[-5:]))
                got[row] = int(p[0][2])
            return got
        finally:
            boot.kill()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--json")
    ap.add_argument("--compare", help="a baseline's --json file")
    a = ap.parse_args()
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    boots = [one_boot() for _ in range(a.rounds)]
    result = {row: statistics.median(b[row] for b in boots) for row, _, _ in ROWS}
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rounds": a.rounds, "rows": result, "boots": boots}, f, indent=1)
    base = {}
    if a.compare:
        with open(a.compare) as f:
            base = json.load(f)["rows"]
    print(f"{'ext2 on /mnt (instructions)':34} {'baseline':>14} {'this tree':>14} {'change':>8}")
    for row, label, _ in ROWS:
        b, v = base.get(row), result[row]
        change = f"{(v - b) / b * 100:+.1f}%" if b else ""
        print(f"{label:34} {f'{b:,.0f}' if b else '':>14} {v:>14,.0f} {change:>8}")


if __name__ == "__main__":
    main()
