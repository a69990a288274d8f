#!/usr/bin/env python3
"""Fault-injection campaigns against Samsara's drivers (issue 14; docs/FAULTS.md).

Boots Samsara in QEMU (TCG) with inject=1 on the kernel command line, JOBS instances at once,
and runs trial after trial against one driver: each trial injects a batch of faults of one kind
into the running driver (`service inject DRIVER KIND COUNT SEED`, servers/root/inject.c), runs
a workload that checks its own result (a download from the host through the card, its sha256
compared), reads rs's record (`service list`, `service log`), and classifies the trial:

  no_effect          the download was right, the driver never failed, nothing was logged
  recovered          the driver crashed (an exception, an exit), rs replaced it, the download
                     was right all the same
  hang_detected      the driver stopped answering its heartbeats, rs replaced it, the download
                     was right all the same
  complaint          something was refused or complained of (denied kernel calls counted, or a
                     dependent's complaint, on which rs replaced the driver) and the download
                     was right
  app_error          the download failed (wget's error) but the system went on
  wrong_data         the download ended with success and a wrong sha256
  kernel_crash       the kernel panicked, or QEMU ended
  system_hang        the shell did not answer within the watchdog (WATCHDOG seconds)

After a trial in which the driver was not replaced, rs restarts it (`service restart`), so that
every trial starts from an intact driver; after a kernel crash or system hang, or when the
check download after a trial fails, the instance boots again. Each trial is one JSON line
appended to --out (flushed): a run stopped anywhere goes on where it was with the same command.
--report prints the table per driver and kind, with totals, and draws a PNG (matplotlib).

  tools/inject_campaign.py --driver virtio_net --trials 200 --faults 10 -j 2 --out runs.jsonl
  tools/inject_campaign.py --report runs.jsonl --png faults.png
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import subprocess  # noqa: E402

from bench_net import pyplot, save_plot  # noqa: E402
from qemu import BUILD, NICS, Boot, run_boot  # noqa: E402

KINDS = ["code", "nop", "reg", "pointer", "loop", "garbage", "deny"]
CLASSES = ["no_effect", "recovered", "hang_detected", "complaint", "app_error", "wrong_data",
           "kernel_crash", "system_hang"]
NET_DRIVERS = {NICS[name][0]: name for name in ("virtio", "e1000", "rtl8139")}
BLOCK_DRIVERS = {"virtio_blk": "virtio", "ahci": "ahci"}  # the disk's interface (qemu.DISKIFS)
WATCHDOG = 90  # seconds a trial's shell line may take before the system counts as hung
PORT = 84
SIZE = 256 << 10
SRC_SEQ = 120000  # the disk's source: `seq 1 3 SRC_SEQ`, 242,965 bytes


class Instance:
    """One Samsara in QEMU with inject=1 and driver's device. A network driver: its card, and a
    responder on 10.0.2.100:84 that serves the file at path for each connection
    (suite_wget.respond_once). A disk driver: a fresh 32 MiB ext2 image on its interface,
    mounted on /mnt, and /tmp/src made in the guest (`seq 1 3 SRC_SEQ`; want: its sha256)."""

    def __init__(self, driver, path, inject=True, services=(), extra=()):
        self.driver, self.image, self.n = driver, None, 0
        append = (["-append", "inject=1"] if inject else []) + list(extra)
        if driver in BLOCK_DRIVERS:
            fd, self.image = tempfile.mkstemp(prefix="inject-disk-", suffix=".img", dir=BUILD)
            os.close(fd)
            subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", self.image, "32M"], check=True)
            mods, flags = run_boot("none", services, root="ramfs", diskif=BLOCK_DRIVERS[driver],
                                   image=self.image)
            self.boot = Boot(mods, extra=flags + append, console=True)
        else:
            mods, flags = run_boot(NET_DRIVERS[driver], services, root="ramfs")
            device = NICS[NET_DRIVERS[driver]][1]
            netdev = (f"user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:{PORT}-cmd:"
                      f"{sys.executable} {os.path.join(os.path.dirname(os.path.abspath(__file__)), 'suite_wget.py')} "
                      f"--once {path}")
            self.boot = Boot(mods, extra=["-netdev", netdev, "-device", device] + append,
                             console=True)
        self.up = self.boot.wait_prompt("# ", 120)
        if self.up and self.image:  # the source file, typed in as hex would be slow: made here
            # (Samsara has no /dev/urandom: `head -c N /dev/urandom` made an empty file, and
            # the disk trials wrote nothing until this was found; an empty source is refused)
            out = self.run(f"seq 1 3 {SRC_SEQ} >/tmp/src; sha256sum </tmp/src", 60)
            sums = [t.split()[0] for t in out or [] if re.match(r"^[0-9a-f]{64}  -$", t)]
            empty = hashlib.sha256(b"").hexdigest()
            self.want, self.up = (sums[0], True) if sums and sums[0] != empty else (None, False)

    def run(self, command, timeout=WATCHDOG):
        """The lines command printed, or None if its end marker did not come in time."""
        self.n += 1
        start = len(self.boot.lines)
        self.boot.send(f'{command}; echo "@@e""nd-{self.n}"\n')
        i, _ = self.boot.wait_for(rf"^@@end-{self.n}$", timeout, start)
        if i is None:
            return None
        return [t for _, t in self.boot.lines[start:i]]

    def dead(self):
        return self.boot.proc.poll() is not None

    def panicked(self):
        return any("panic" in t for _, t in self.boot.lines)

    def kill(self):
        """Stop QEMU; for a disk, `e2fsck -fn` of its image: its exit status (0: clean), or None
        for a network driver."""
        if self.image and self.up and not self.dead():
            self.run("sync", 30)
        self.boot.kill()
        if not self.image:
            return None
        status = subprocess.run(["e2fsck", "-fn", self.image], capture_output=True).returncode
        os.unlink(self.image)
        return status


def service_row(lines, driver):
    """(restarts, last failure) from `service list`'s row of driver, or (None, None)."""
    for line in lines:
        w = line.split()
        if len(w) > 9 and w[0] == driver and w[3].isdigit():
            return int(w[3]), " ".join(w[4:-5])
    return None, None


def workload(driver, want):
    """The shell line that checks the driver's work: prints wget=STATUS (of the download or the
    write), the sha256 of what came back, rs's row and log lines of the driver."""
    if driver in BLOCK_DRIVERS:  # written, synced, read back (through ext2's cache, mostly)
        return (f"rm -f /mnt/f; cp /tmp/src /mnt/f 2>/tmp/e && sync 2>>/tmp/e; echo wget=$?; "
                f"sha256sum </mnt/f; head -c 200 /tmp/e; sleep 1; "
                f"service list | grep '^{driver} '; service log | grep ' {driver} ' | tail -4")
    url = f"http://10.0.2.100:{PORT}/file"
    return (f"rm -f /tmp/f; wget -T 15 -q -O /tmp/f {url} "
            f"2>/tmp/e; echo wget=$?; sha256sum </tmp/f; head -c 200 /tmp/e; sleep 1; "
            f"service list | grep '^{driver} '; service log | grep ' {driver} ' | tail -4")


ERRORS = ("wget:", "cp:", "sync:", "rm:", "sha256sum:")  # the workload's programs' complaints


def classify(out, driver, want, log_before):
    """(class, details) of one trial from its output lines (log_before: the lines before it:
    rs's row of the driver, its last log lines)."""
    rows = [service_row([line], driver) for line in log_before + out]
    rows = [r for r in rows if r[0] is not None]
    rc = [line for line in out if line.startswith("wget=")]
    sums = [line.split()[0] for line in out if re.match(r"^[0-9a-f]{64}  -$", line)]
    log = [line for line in out if re.match(rf"^\s*[0-9.]+ {driver} ", line)]
    new_log = [line.split(None, 1)[1] for line in log if line not in log_before]
    before, after = (rows[0], rows[-1]) if len(rows) >= 2 else ((None, None), (None, None))
    restarted = before[0] is not None and after[0] is not None and after[0] > before[0]
    detail = {"wget": rc[-1][5:] if rc else None, "restarts": (before[0], after[0]),
              "failure": after[1] if restarted else None, "log": new_log,
              "errors": [line for line in out if line.startswith(ERRORS)][:2]}
    ok = rc == ["wget=0"] and not detail["errors"]  # rm's EIO is the application's error too
    if ok and sums and sums[-1] != want:
        return "wrong_data", detail
    if not ok:
        return "app_error", detail
    if restarted:  # by the cause rs gave (a dependent's complaint is a complaint)
        cause = after[1] or ""
        return ("hang_detected" if "heartbeat" in cause else "complaint"
                if "complaint" in cause or "privilege" in cause else "recovered"), detail
    if any("complain" in t or "denied" in t or "privilege" in t for t in new_log) or \
            any("denied operations" in line and driver in line for line in out):
        return "complaint", detail
    return "no_effect", detail


class Results:
    def __init__(self, path):
        self.path, self.lock, self.done = path, threading.Lock(), set()
        if path and os.path.exists(path):
            with open(path) as f:
                for line in f:
                    try:
                        r = json.loads(line)
                    except ValueError:
                        continue  # a line cut off when a run was stopped
                    if r["kind"] != "e2fsck":
                        self.done.add((r["driver"], r["kind"], r["faults"], r["seed"]))

    def add(self, record):
        with self.lock:
            if self.path:
                with open(self.path, "a") as f:
                    f.write(json.dumps(record) + "\n")
            if record["kind"] != "e2fsck":
                self.done.add((record["driver"], record["kind"], record["faults"],
                               record["seed"]))


def on_disk(image, name):
    """The sha256 of file name as the ext2 image holds it (debugfs -c: catastrophic mode, read
    only, no bitmaps), or None if debugfs cannot read it."""
    r = subprocess.run(["debugfs", "-c", "-R", f"cat {name}", image], capture_output=True)
    return hashlib.sha256(r.stdout).hexdigest() if r.returncode == 0 and r.stdout else None


def disk_diff(inst, name):
    """What the image holds instead of the source (`seq 1 3 SRC_SEQ`): its length, the 4 KiB
    blocks of the file that differ; the image is kept as build/inject-wrong-SEED.img for a look."""
    r = subprocess.run(["debugfs", "-c", "-R", f"cat {name}", inst.image], capture_output=True)
    src = "".join(f"{i}\n" for i in range(1, SRC_SEQ + 1, 3)).encode()
    got = r.stdout
    bad = [i for i in range(0, max(len(src), len(got)), 4096) if src[i:i + 4096] != got[i:i + 4096]]
    keep = os.path.join(BUILD, f"inject-wrong-{os.getpid()}-{inst.n}.img")
    shutil.copy(inst.image, keep)
    stat = subprocess.run(["debugfs", "-c", "-R", f"stat {name}", inst.image], capture_output=True)
    return {"length": len(got), "want_length": len(src), "blocks_differ": bad[:16],
            "n_blocks_differ": len(bad), "image": keep,
            "extents": [t for t in stat.stdout.decode(errors="replace").splitlines()
                        if "BLOCKS" in t or t.startswith("(")][:4]}


def trial(inst, driver, kind, faults, seed, want, settle=0):
    """Inject, (settle seconds idle,) run the workload, classify; leave the instance with an
    intact driver, or return it dead (kernel crash, hang, or a driver that does not work
    again)."""
    log_before = inst.run(f"service list | grep '^{driver} '; service log | grep ' {driver} ' | "
                          f"tail -4", 30) or []
    t0 = time.monotonic()
    idle = f"sleep {settle}; " if settle else ""
    out = inst.run(f"service inject {driver} {kind} {faults} {seed}; {idle}" +
                   workload(driver, want))
    took = time.monotonic() - t0
    if out is None:
        cls = "kernel_crash" if inst.dead() or inst.panicked() else "system_hang"
        detail = {"tail": [t for _, t in inst.boot.lines[-8:]]}
    else:
        cls, detail = classify(out, driver, want, log_before)
        injected = [line for line in out if line.startswith(("inject ", "error: inject"))]
        detail["injected"] = injected[:1]
        done = [re.search(r": (\d+) of \d+ done", line) for line in injected]
        detail["done"] = int(done[0].group(1)) if done and done[0] else 0  # faults really made
    if inst.image and cls in ("no_effect", "recovered", "hang_detected", "complaint"):
        # the bytes on the disk itself, not ext2's cache: the workload synced, so the image
        # holds the file; read on the host (debugfs, read-only) and compared
        detail["on_disk"] = on_disk(inst.image, "/f") == want
        if not detail["on_disk"]:
            cls = "wrong_data"
            detail["disk_diff"] = disk_diff(inst, "/f")
    rec = {"driver": driver, "kind": kind, "faults": faults, "seed": seed, "class": cls,
           "seconds": round(took, 2), **detail}
    healthy = out is not None
    rec["restarted"] = healthy and not (out and detail.get("failure"))  # by us, below
    if rec["restarted"]:
        healthy = inst.run(f"service restart {driver} >/dev/null; sleep 0.3", 30) is not None
    if healthy:  # the check: the next download (write) must be right, else boot again
        check = inst.run(f"cp /tmp/src /mnt/g && sync && sha256sum </mnt/g" if inst.image else
                         f"wget -T 15 -q -O - http://10.0.2.100:{PORT}/file | sha256sum", 60)
        healthy = bool(check) and any(line.startswith(want) for line in check)
        rec["after_ok"] = healthy
    return rec, healthy


def campaign(args):
    data = os.urandom(SIZE)
    want = hashlib.sha256(data).hexdigest()
    fd, path = tempfile.mkstemp(prefix="inject-", dir=BUILD)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    results = Results(args.out)
    kinds = args.kinds.split(",")
    plan = [(kinds[i % len(kinds)], args.seed + i) for i in range(args.trials)]
    todo = [p for p in plan if (args.driver, p[0], args.faults, p[1]) not in results.done]
    print(f"{args.driver}: {len(plan) - len(todo)} trials done already, {len(todo)} to run, "
          f"{args.jobs} instance(s)", flush=True)
    lock = threading.Lock()

    def worker():
        inst, trials = None, []
        while True:
            with lock:
                if not todo:
                    break
                kind, seed = todo.pop(0)
            for _ in range(3):
                if inst is None or not inst.up:
                    if inst:
                        inst.kill()
                    inst = Instance(args.driver, path)
                if inst.up:
                    break
            rec, healthy = trial(inst, args.driver, kind, args.faults, seed,
                                 inst.want if inst.image else want)
            results.add(rec)
            trials.append(seed)
            print(f"  {kind:8} seed {seed}: {rec['class']}", flush=True)
            if not healthy:
                stop(inst, trials)
                inst, trials = None, []
        if inst:
            stop(inst, trials)

    def stop(inst, trials):  # a disk's image checked: one line of its own in the results
        status = inst.kill()
        if status is not None:
            results.add({"driver": args.driver, "kind": "e2fsck", "faults": 0, "seed": trials,
                         "class": "fsck_clean" if status == 0 else "fsck_errors",
                         "status": status})
            print(f"  e2fsck -fn after {len(trials)} trials: exit {status}", flush=True)

    threads = [threading.Thread(target=worker) for _ in range(args.jobs)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        os.unlink(path)


def report(path, png=None):
    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    table = {}
    for r in rows:  # runs from before privilege denials counted as complaints
        if r["class"] == "recovered" and "privilege" in (r.get("failure") or ""):
            r["class"] = "complaint"
    fsck = [r for r in rows if r["kind"] == "e2fsck"]
    rows = [r for r in rows if r["kind"] != "e2fsck"]
    for r in rows:
        for key in ((r["driver"], r["kind"]), (r["driver"], "all"), ("all", "all")):
            t = table.setdefault(key, {"trials": 0, "faults": 0, **{c: 0 for c in CLASSES}})
            t["trials"] += 1
            t["faults"] += r.get("done", r["faults"])
            t[r["class"]] += 1
    head = ["driver", "kind", "trials", "faults"] + CLASSES  # faults: those rs made
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for (driver, kind), t in sorted(table.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        lines.append("| " + " | ".join([driver, kind] + [str(t[h]) for h in head[2:]]) + " |")
    for driver in sorted({r["driver"] for r in fsck}):
        ran = [r for r in fsck if r["driver"] == driver]
        lines.append(f"\n{driver}: e2fsck -fn of {len(ran)} image(s) after their trials: "
                     f"{sum(r['class'] == 'fsck_clean' for r in ran)} clean")
    print("\n".join(lines))
    plt = pyplot("inject_campaign") if png else None  # tools/deps.sh --plot installs it
    if plt:
        keys = [k for k in sorted(table) if k[1] == "all" and k[0] != "all"] + [("all", "all")]
        fig, ax = plt.subplots(figsize=(8, 1.2 + 0.6 * len(keys)))
        left = [0] * len(keys)
        for c in CLASSES:
            share = [100 * table[k][c] / table[k]["trials"] for k in keys]
            ax.barh([k[0] for k in keys], share, left=left, label=c)
            left = [a + b for a, b in zip(left, share)]
        ax.set_xlabel("% of trials")
        ax.set_title("Fault-injection trials by outcome")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=4, fontsize=8)
        save_plot(plt, fig, png)
    return table


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--driver", choices=sorted(NET_DRIVERS) + sorted(BLOCK_DRIVERS),
                    default="virtio_net")
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--faults", type=int, default=10, help="faults injected per trial")
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--seed", type=int, default=1, help="first trial's seed (then +1 each)")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="QEMU instances at once")
    ap.add_argument("--out", default=os.path.join(BUILD, "inject.jsonl"))
    ap.add_argument("--report", metavar="JSONL", help="print the table of a run and stop")
    ap.add_argument("--png", help="with --report: draw the outcomes into this PNG")
    args = ap.parse_args()
    if args.report:
        report(args.report, args.png)
        return
    for kind in args.kinds.split(","):
        if kind not in KINDS:
            raise SystemExit(f"--kinds: {kind}: choose from {', '.join(KINDS)}")
    if not 1 <= args.faults <= 1000 or args.trials < 0 or args.jobs < 1:
        raise SystemExit("--faults 1..1000, --trials >= 0, -j >= 1")
    campaign(args)
    report(args.out)


if __name__ == "__main__":
    main()
