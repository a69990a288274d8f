"""What `trace LABEL` costs a disk driver (docs/TRACE.md): one boot (make run's, ROOT=ramfs, a
fresh 64 MiB ext2 image on /mnt, legacy virtio-blk), under -icount shift=0 with --icount; eight
8 MiB files written, synced and removed with virtio_blk untraced, then traced, three rounds;
prints busybox time's real seconds and the last trace entry before and after each traced run (the
sequence numbers: how many entries it made). Usage: python3 tools/trace_cost.py [--icount]"""
import os
import re
import subprocess
import sys
import tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, Boot, run_boot

icount = "--icount" in sys.argv
rounds = 3
fd, image = tempfile.mkstemp(prefix="trace-cost-", suffix=".img", dir=BUILD)
os.close(fd)
subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", image, "64M"], check=True)
mods, flags = run_boot("none", (), root="ramfs", diskif="virtio", image=image)
boot = Boot(mods, icount=icount, extra=flags, console=True)
n = 0
def run(cmd, timeout=300):
    global n
    n += 1
    start = len(boot.lines)
    boot.send(f'{cmd}; echo "@@e""nd-{n}"\n')
    i, _ = boot.wait_for(rf"^@@end-{n}$", timeout, start)
    return [t for _, t in boot.lines[start:i]] if i is not None else None
try:
    assert boot.wait_prompt("# ", 180)
    res = {"off": [], "on": []}
    for r in range(rounds):
        for mode in ("off", "on"):
            run(f"trace -{mode} virtio_blk")
            out = run("trace -n 1 virtio_blk | tail -1; time sh -c 'for i in 1 2 3 4 5 6 7 8; do dd if=/dev/zero of=/mnt/f bs=4096 count=2048 2>/dev/null; sync; rm /mnt/f; sync; done'; trace -n 1 virtio_blk | tail -1")
            real = [float(m.group(1)) for t in out or [] for m in [re.search(r"real\s+0m ([\d.]+)s", t)] if m]
            res[mode].append(real[0] if real else None)
            print(mode, out and [t for t in out if "ep " in t or "real" in t], flush=True)
    print("icount" if icount else "wall", res)
    print(run("cat /proc/uptime"))
finally:
    boot.kill()
    os.unlink(image)
