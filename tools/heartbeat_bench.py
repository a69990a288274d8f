"""Heartbeat false positives under full load (issue 14, "Heartbeats": a benchmark, not a test):
make run's system with both drivers (virtio_net, virtio_blk; ROOT=ramfs, ext2 on a copy of
build/disk.img at /mnt) runs for DURATION seconds with, at once, in the background:

  net   wget of a 1 MiB random file from the host again and again (QEMU's user networking,
        restrict=on, a guestfwd `cmd:` responder per connection), each sha256 checked;
  disk  a file of about 1.1 MB rewritten on ext2 with new content every round, synced, read back with
        cmp against its copy in ramfs;
  cpu   CPUS shell loops that never sleep (Linux processes, below every service);

and nobody kills anything: every restart rs makes in that time is a false positive of its
heartbeats (or a real failure; `service log` says which: `failed: heartbeat missed`); failures
during the boot, before the loads start, are reported apart. The host
reads `service list` every POLL seconds (the shell is free: the loads run in the background) and
at the end prints, per service, its restarts and last failure, the loads' rounds, failures and
wrong results, and writes build/heartbeat.json.

  python3 tools/heartbeat_bench.py [--duration S] [--cpus N] [--poll S]"""
import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import time

from qemu import BUILD, NICS, Boot, nic, run_boot
import suite_wget

PORT = 84
NET_FILE = 1 << 20


def loads(want, cpus):
    url = f"http://10.0.2.100:{PORT}/file"
    net = (f"(n=0; f=0; b=0; while :; do if wget -T 30 -q -O /tmp/n {url} 2>>/tmp/net.err; then "
           f"[ \"$(sha256sum </tmp/n)\" = \"{want}  -\" ] && n=$((n + 1)) || b=$((b + 1)); "
           f"else f=$((f + 1)); fi; echo net=$n failed=$f wrong=$b >/tmp/net.count; done) "
           f">/dev/null 2>&1 &")
    disk = ("(i=0; f=0; b=0; while :; do i=$((i + 1)); seq $i 3 $((i + 480000)) >/tmp/d; "
            "cp /tmp/d /mnt/hb 2>>/tmp/disk.err && sync && { cmp -s /mnt/hb /tmp/d || "
            "b=$((b + 1)); } || f=$((f + 1)); echo disk=$i failed=$f wrong=$b "
            ">/tmp/disk.count; done) >/dev/null 2>&1 &")
    cpu = "(while :; do :; done) >/dev/null 2>&1 &"
    return " ".join([net, disk] + [cpu] * cpus)


def counts(lines):
    """{'net': {...}, 'disk': {...}} from the loads' count files."""
    out = {}
    for line in lines:
        m = re.match(r"^(net|disk)=(\d+) failed=(\d+) wrong=(\d+)$", line)
        if m:
            out[m.group(1)] = {"rounds": int(m.group(2)), "failed": int(m.group(3)),
                               "wrong": int(m.group(4))}
    return out


def services(lines):
    """{label: (restarts, last failure)} from `service list`."""
    out = {}
    for line in lines:
        w = line.split()
        if len(w) > 4 and w[0] != "label" and w[3].isdigit():
            last = " ".join(w[4:6]) if w[4] == "heartbeat" else w[4]
            out[w[0]] = (int(w[3]), last)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--duration", type=int, default=3600)
    ap.add_argument("--cpus", type=int, default=2)
    ap.add_argument("--poll", type=int, default=60)
    ap.add_argument("--json", default=os.path.join(BUILD, "heartbeat.json"))
    a = ap.parse_args()
    if a.duration < 10 or a.cpus < 0 or a.poll < 5:
        ap.error("--duration >= 10, --cpus >= 0, --poll >= 5")
    data = os.urandom(NET_FILE)
    want = hashlib.sha256(data).hexdigest()
    with tempfile.TemporaryDirectory(prefix="heartbeat-", dir=BUILD) as tmp:
        path = os.path.join(tmp, "file")
        with open(path, "wb") as f:
            f.write(data)
        image = os.path.join(tmp, "disk.img")
        subprocess.run(["cp", "--sparse=always", os.path.join(BUILD, "disk.img"), image],
                       check=True)
        mods, flags = run_boot("virtio", root="ramfs", diskif="virtio", image=image)
        netdev = (f"user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:{PORT}-cmd:"
                  f"{sys.executable} {os.path.abspath(suite_wget.__file__)} --once {path}")
        flags = ["-netdev", netdev, "-device", NICS["virtio"][1]] + flags[len(nic("virtio")[1]):]
        with Boot(mods, extra=flags, console=True) as boot:
            if not boot.wait_prompt("# ", 120):
                print("no prompt:\n" + "\n".join(boot.tail(20)))
                return 1
            first = boot.run("service list; service log | grep failed", timeout=60) or []
            before = services(first)
            at_boot = [line for line in first if "failed: " in line and "grep" not in line]
            boot.run(loads(want, a.cpus), timeout=60)
            t0 = time.monotonic()
            polls = []
            while time.monotonic() - t0 < a.duration:
                time.sleep(min(a.poll, max(0, a.duration - (time.monotonic() - t0))))
                out = boot.run("service list; cat /tmp/net.count /tmp/disk.count",
                               timeout=120) or []
                now, c = services(out), counts(out)
                polls.append({"t": round(time.monotonic() - t0), "loads": c,
                              "restarts": {k: v[0] - before.get(k, (0,))[0]
                                           for k, v in now.items()}})
                print(f"{polls[-1]['t']:6} s: {c}; restarts "
                      f"{sum(polls[-1]['restarts'].values())}", flush=True)
            out = boot.run("service list; service log | grep failed; "
                           "cat /tmp/net.count /tmp/disk.count; head -5 /tmp/net.err "
                           "/tmp/disk.err", timeout=120) or []
    took = time.monotonic() - t0
    now, c = services(out), counts(out)
    restarted = {k: {"restarts": v[0] - before.get(k, (0,))[0], "last": v[1]}
                 for k, v in now.items() if v[0] != before.get(k, (0,))[0]}
    hung = [line for line in out if "failed: heartbeat" in line and line not in at_boot]
    result = {"duration_s": round(took), "cpus": a.cpus, "loads": c, "restarted": restarted,
              "failures_at_boot": at_boot,
              "heartbeat_kills_logged": hung, "polls": polls}
    with open(a.json, "w") as f:
        json.dump(result, f, indent=1)
    print(f"{took:.0f} s of full load (net, disk, {a.cpus} CPU loops): loads {c}; services "
          f"restarted: {restarted or 'none'}; heartbeat kills in rs's log: {len(hung)}; "
          f"failures before the load (the boot): {at_boot or 'none'}; {a.json}")
    bad = [line for line in out if line.startswith(("wget:", "cp:", "sync:"))]
    if bad:
        print("the loads' errors: " + "; ".join(bad[:5]))
    return 0 if not restarted else 1


if __name__ == "__main__":
    sys.exit(main())
