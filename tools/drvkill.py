"""Kill at any instant (issue 14): a network or disk driver killed KILLS times by rs's own alarm
(`service chaos LABEL KILLS MIN_MS MAX_MS start`: each kill MIN..MAX ms after the last, in the
middle of a request, in the middle of DMA, and in the new instance's start-up too, before its
ROOT_READY) under a workload that checks itself, round after round until the campaign is over
(one round at least):

  nic   (virtio_net, e1000, rtl8139): wget of a 256 KiB random file from the host (QEMU's user
        networking, restrict=on, a guestfwd `cmd:` responder per connection: suite_wget.py
        --once), its sha256 compared with the host's; a wrong file's bytes counted with cmp
        against a copy fetched before the campaign.
  disk  (virtio_blk, ahci): ext2 on a copy of build/disk.img at /mnt (ROOT=ramfs): 16 files of
        about 270 KB, rewritten in turn with content new at every round (`seq ROUND 3 ...`, its
        copy kept in ramfs: a lost or misplaced write shows) and synced, and the file written 8
        rounds before read back (past ext2's 4 MiB cache: from the disk) and compared by sha256
        and cmp; at the end every file compared again, and e2fsck -fn on the host after QEMU
        has gone.

Counted per driver: kills (and how many landed before ROOT_READY), restarts, the workload's
rounds and errors (failed commands, by kind), wrong files and wrong bytes (must be 0), rs's
recoveries over the campaign (kill to ROOT_READY: median, max; `service chaos`'s report),
the other services' restarts (must be none), the kernel's free memory lost over the campaign
(/proc/meminfo's MemFree before and 1 s after: at most LEAK_KB; DMA memory and every instance's
pages come back), e2fsck (disks).

  python3 tools/drvkill.py [--kills N] [--min MS] [--max MS] [--jobs J] [--icount] [--wget-timeout S]
                          [DRIVER...]

runs the campaigns, J QEMUs at once (default 2: both cores), and prints one line per driver
and a JSON record (build/drvkill.json); default 1000 kills each of the five drivers. The short
version is `make test ONLY=drvkill` (tools/suite_drvkill.py: 100 kills of virtio_net and of
virtio_blk)."""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from qemu import BUILD, NICS, Boot, run_boot
import suite_wget

NIC_DRIVERS = {NICS[k][0]: k for k in ("virtio", "e1000", "rtl8139")}  # label -> NIC name
DISK_DRIVERS = {"virtio_blk": "virtio", "ahci": "ahci"}  # label -> DISKIF
DRIVERS = list(NIC_DRIVERS) + list(DISK_DRIVERS)
NET_FILE = 256 << 10
PORT = 84
DISK_FILES, DISK_FILE_NUMBERS, DISK_LAG = 16, 40000, 8  # files of about 270 KB
# Kill intervals: the drivers start in 3-15 ms (TCG), so 1..MAX ms puts many kills in a start-up
MIN_MS, MAX_MS = 1, 40


def chaos_report(lines, label):
    """`service chaos`'s report line as a dict: numbers, state, last_other (a cause, or -)."""
    for line in reversed(lines):
        m = re.match(rf"chaos {label}: (\w+) (.*) last_other=(.*)$", line)
        if m:
            d = {k: int(v) for k, v in (w.split("=") for w in m.group(2).split())}
            d.update(state=m.group(1), last_other=m.group(3))
            return d
    return {}


def restart_counts(lines):
    """Each service's restarts from `service list`'s lines (those after its header only: a
    driver's console line may look like one)."""
    counts, table = {}, False
    for line in lines:
        w = line.split()
        if w[:2] == ["label", "endpoint"]:
            table = True
        elif table and len(w) > 4 and w[1].lstrip("-").isdigit() and w[3].isdigit():
            counts[w[0]] = int(w[3])
        else:
            table = False
    return counts


MEMFREE = "awk '/^MemFree/{print $2}' /proc/meminfo"  # the kernel's free memory, KiB
LEAK_KB = 256  # free memory lost over a campaign: more is a leak (a page a kill is 4 MiB in 1000)


def until_over(label):
    """The shell condition: the campaign on label still runs."""
    return f"service chaos | grep -q '^chaos {label}: running'"


# Each workload is three shell commands (BusyBox's line editor takes about 1 KiB a line): the
# set-up, the campaign with its loop, the report.
def nic_workload(label, kills, lo, hi, want, wait=10):
    url = f"http://10.0.2.100:{PORT}/file"
    return [
        f"W={want}; wget -T 30 -q -O /tmp/ref {url}; [ \"$(sha256sum </tmp/ref)\" = \"$W  -\" ] "
        f"&& echo ref=ok; cp /tmp/ref /tmp/f; m0=$({MEMFREE})",
        f"service chaos {label} {kills} {lo} {hi} start >/dev/null; "
        f"ok=0; bad=0; wb=0; n=0; f=0; while true; do n=$((n + 1)); "
        f"if wget -T {wait} -q -O /tmp/f {url} 2>/tmp/e; then "
        f"if [ \"$(sha256sum </tmp/f)\" = \"$W  -\" ]; then ok=$((ok + 1)); "
        f"else bad=$((bad + 1)); wb=$((wb + $(cmp -l /tmp/f /tmp/ref 2>/dev/null | wc -l) "
        f"+ 0)); ls -l /tmp/f; fi; else f=$((f + 1)); sed 's/^/fail: /' /tmp/e; fi; "
        f"{until_over(label)} || break; done",
        f"sleep 1; echo memfree_kb=$m0 $({MEMFREE}); "
        f"echo rounds=$n right=$ok wrong=$bad wrong_bytes=$wb errors=$f; "
        f"wget -T 10 -q -O - {url} | sha256sum; service chaos; service list"]


def disk_workload(label, kills, lo, hi):
    files, n = DISK_FILES, DISK_FILE_NUMBERS
    fill = f"seq $i 3 $((i + 3 * {n})) >/tmp/w$k; cp /tmp/w$k /mnt/f$k"
    return [
        f"i=0; while [ $i -lt {files} ]; do k=$i; {fill}; i=$((i + 1)); done; sync; "
        f"echo prepared; m0=$({MEMFREE})",
        f"service chaos {label} {kills} {lo} {hi} start >/dev/null; "
        f"e=0; bad=0; wb=0; rd=0; while true; do i=$((i + 1)); "
        f"k=$((i % {files})); {fill} 2>>/tmp/e || e=$((e + 1)); "
        f"sync 2>>/tmp/e || e=$((e + 1)); j=$(((i + {DISK_LAG}) % {files})); "
        f"if s=$(sha256sum </mnt/f$j 2>>/tmp/e); then rd=$((rd + 1)); "
        f"if [ \"$s\" != \"$(sha256sum </tmp/w$j)\" ]; then bad=$((bad + 1)); "
        f"wb=$((wb + $(cmp -l /mnt/f$j /tmp/w$j 2>/dev/null | wc -l) + 0)); fi; "
        f"else e=$((e + 1)); fi; {until_over(label)} || break; done",
        f"sync; k=0; fb=0; while [ $k -lt {files} ]; do "
        f"cmp -s /mnt/f$k /tmp/w$k || fb=$((fb + 1)); k=$((k + 1)); done; "
        f"sleep 1; echo memfree_kb=$m0 $({MEMFREE}); "
        f"echo rounds=$((i - {files})) reads=$rd wrong=$bad wrong_bytes=$wb errors=$e "
        f"final_wrong=$fb; sed 's/^/fail: /' /tmp/e 2>/dev/null | head -20; "
        f"service chaos; service list"]


def fields(out, key):
    line = [x for x in out if x.startswith(key + "=")]
    return {k: int(v) for k, v in (w.split("=") for w in line[-1].split())} if line else {}


def fsck(image):
    """e2fsck -fn on image: (clean, its last lines)."""
    p = subprocess.run(["e2fsck", "-fn", image], capture_output=True, text=True)
    return p.returncode == 0, (p.stdout + p.stderr).strip().splitlines()[-3:]


def campaign(label, kills, lo=MIN_MS, hi=MAX_MS, timeout=None, icount=False, wait=10):
    """One driver's campaign in its own QEMU: the result dict (ok: every check passed). icount:
    QEMU's -icount shift=0, the guest's clock counts its instructions (1 ns each): kill instants
    and recovery times no longer stretch when the host deschedules QEMU. wait: wget's -T (s)."""
    timeout = timeout or 120 + kills * 0.5
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"drvkill-{label}-", dir=BUILD) as tmp:
        if label in NIC_DRIVERS:
            data = os.urandom(NET_FILE)
            want = hashlib.sha256(data).hexdigest()
            path = os.path.join(tmp, "file")
            with open(path, "wb") as f:
                f.write(data)
            name = NIC_DRIVERS[label]
            mods, _ = run_boot(name, root="ramfs")
            netdev = (f"user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:{PORT}-cmd:"
                      f"{sys.executable} {os.path.abspath(suite_wget.__file__)} --once {path}")
            flags = ["-netdev", netdev, "-device", NICS[name][1]]
            command = nic_workload(label, kills, lo, hi, want, wait)
        else:
            image = os.path.join(tmp, "disk.img")
            subprocess.run(["cp", "--sparse=always", os.path.join(BUILD, "disk.img"), image],
                           check=True)
            mods, flags = run_boot("none", root="ramfs", diskif=DISK_DRIVERS[label], image=image)
            command = disk_workload(label, kills, lo, hi)
        r = {"driver": label, "asked": kills, "min_ms": lo, "max_ms": hi, "icount": icount}
        with Boot(mods, icount=icount, extra=flags, console=True) as boot:
            if not boot.wait_prompt("# ", 120):
                r.update(ok=False, why="no prompt", tail=boot.tail(20))
                return r
            before = restart_counts(boot.run("service list", timeout=30) or [])
            assert all(len(c) < 1000 for c in command), "a line too long for the shell"
            out = []
            for c in command:
                part = boot.run(c, timeout=timeout)
                if part is None:
                    out = None
                    break
                out += part
            if out is None:
                r.update(ok=False, why=f"the workload did not end in {timeout:.0f} s (a hang?)",
                         tail=boot.tail(30))
                return r
            boot.run("sync", timeout=60)
        r["seconds"] = round(time.monotonic() - t0, 1)
        rep = chaos_report(out, label)
        now = restart_counts(out)
        r.update(kills=rep.get("kills", -1), before_ready=rep.get("before_ready", -1),
                 recovered=rep.get("recovered", -1), median_us=rep.get("median_us", -1),
                 max_us=rep.get("max_us", -1), other_deaths=rep.get("other_deaths", -1),
                 last_other=rep.get("last_other", "?"),
                 restarts=now.get(label, 0) - before.get(label, 0),
                 others=[f"{k} {before.get(k, 0)}->{v}" for k, v in now.items()
                         if k != label and v != before.get(k, 0)])
        kinds = {}
        for line in out:
            if line.startswith("fail: "):
                kind = suite_wget.error_kind(line)
                kinds[kind] = kinds.get(kind, 0) + 1
        r["error_kinds"] = kinds
        mem = [x.split("=")[1].split() for x in out if x.startswith("memfree_kb=")]
        r["memfree_kb"] = [int(v) for v in mem[-1]] if mem and len(mem[-1]) == 2 else None
        r["lost_kb"] = r["memfree_kb"][0] - r["memfree_kb"][1] if r["memfree_kb"] else None
        w = fields(out, "rounds")
        r.update(w)
        ok = r["kills"] == kills and w and w["wrong"] == 0 and w["wrong_bytes"] == 0 and \
            not r["others"] and r["other_deaths"] == 0 and r["lost_kb"] is not None and \
            r["lost_kb"] <= LEAK_KB
        if label in NIC_DRIVERS:
            after = [x.split()[0] for x in out if re.match(r"^[0-9a-f]{64}  -$", x)]
            r["after"] = "right" if after == [want] else f"wrong: {after}"
            r["ref"] = "ref=ok" in out
            ok = ok and after == [want] and r["ref"] and w["right"] > 0
        else:
            clean, lines = fsck(image)
            r["e2fsck"] = "clean" if clean else lines
            ok = ok and "prepared" in out and w["final_wrong"] == 0 and clean and w["reads"] > 0
        r["ok"] = bool(ok)
        if not ok:
            r["tail"] = out[-30:]
        return r


def line(r):
    if "kills" not in r:
        return f"{r['driver']:10} FAILED: {r.get('why')}"
    err = ", ".join(f"{k} {v}" for k, v in sorted(r.get("error_kinds", {}).items())) or "none"
    extra = f"downloads right {r.get('right')}" if "right" in r else \
        f"reads {r.get('reads')}, final wrong files {r.get('final_wrong')}, e2fsck {r.get('e2fsck')}"
    return (f"{r['driver']:10} {'ok' if r['ok'] else 'FAILED'}: {r['seconds']} s, kills "
            f"{r['kills']} of {r['asked']} ({r['before_ready']} before ROOT_READY), restarts "
            f"{r['restarts']}, other deaths {r['other_deaths']} (last: {r['last_other']}), rounds {r.get('rounds')}, {extra}, errors {r.get('errors')} "
            f"({err}), wrong files {r.get('wrong')}, wrong bytes {r.get('wrong_bytes')}, "
            f"recovery median {r['median_us']} us, max {r['max_us']} us over {r['recovered']}, "
            f"free memory lost {r['lost_kb']} KiB"
            + (f"; others restarted: {r['others']}" if r.get("others") else ""))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--kills", type=int, default=1000)
    ap.add_argument("--min", type=int, default=MIN_MS)
    ap.add_argument("--max", type=int, default=MAX_MS)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--icount", action="store_true", help="guest time in instructions")
    ap.add_argument("--wget-timeout", type=int, default=10, help="wget -T (s) for the NICs")
    ap.add_argument("--json", default=os.path.join(BUILD, "drvkill.json"))
    ap.add_argument("drivers", nargs="*", default=DRIVERS)
    a = ap.parse_args()
    bad = [d for d in a.drivers if d not in DRIVERS]
    if bad or a.kills < 1 or not 1 <= a.min <= a.max <= 60000:
        ap.error(f"drivers from {', '.join(DRIVERS)}; 1 <= --min <= --max <= 60000; --kills >= 1"
                 + (f" (unknown: {', '.join(bad)})" if bad else ""))
    results = []
    with ThreadPoolExecutor(a.jobs) as pool:
        for r in pool.map(lambda d: campaign(d, a.kills, a.min, a.max, icount=a.icount, wait=a.wget_timeout), a.drivers):
            print(line(r), flush=True)
            if not r["ok"] and r.get("tail"):
                print("  " + "\n  ".join(r["tail"]), flush=True)
            results.append(r)
    with open(a.json, "w") as f:
        json.dump(results, f, indent=1)
    print(f"{sum(r['ok'] for r in results)} of {len(results)} campaigns passed; {a.json}")
    return 0 if all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
