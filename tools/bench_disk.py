#!/usr/bin/env python3
"""make bench-disk: the disk experiment (docs/BENCH-DISK.md, issue 10).

On an ext2 image the host makes with `mke2fs -t ext2 -b 4096` (a fresh one per boot), the guest
runs tools/peer/bench-disk: a sequential write of SIZE MiB (`peertool gen | peertool meter | dd
bs=1M`, then sync), its read back (`dd bs=1M | peertool meter SEED SIZE`: every byte compared
with the generator), FILES files of 4 KiB made (then sync) and read back (`peertool files`,
every file compared), each phase timed by the guest clock. First Debian's Linux kernel (ext4's
driver mounting the ext2 image: Debian has no CONFIG_EXT2_FS), then Samsara (virtio_blk or
ahci, ext2 at /mnt) once per interval while a shell loop has rs kill the disk driver every T
seconds (0: no kills); the same QEMU configuration (q35, TCG, one CPU, MEM, the same disk
interface). After every boot the host runs `e2fsck -fn` on the image and checks the big file
and every small file with debugfs and peertool: zero errors and every byte right is the
requirement. Then a table per interface and a PNG plot.

Usage: tools/bench_disk.py [--diskif virtio|ahci|all] [--size MiB] [--files N]
       [--intervals 0,1] [--rounds N] [--no-linux] [--no-samsara] [--json FILE] [--png FILE]
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_net  # noqa: E402
import linuxpeer as lp  # noqa: E402
import qemu  # noqa: E402

PHASES = ["write", "read", "create", "readsmall"]  # tools/peer/bench-disk's, in order
FILE_BYTES = 4096
SEED_BIG, SEED_SMALL = 1, 2  # bench-disk's seeds
INTERVALS = [0, 1]  # Samsara's seconds between kills, 0: none; run in this order
PROMPT = "# "
MEM = os.environ.get("MEM") or "512M"  # both guests'


def make_image(path, size, files):
    """A fresh ext2 image, 4 KiB blocks, room for the big file (size bytes) and the small
    ones twice over."""
    mib = (size * 5 // 4 + files * 2 * FILE_BYTES) // (1 << 20) + 64
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext2", "-b", "4096", path, f"{mib}M"],
                   check=True, capture_output=True)


def host_check(img, size, files, tmp):
    """e2fsck -fn, then the big file and every small file read from the image by debugfs and
    compared with the generator by the host's peertool. A dict: fsck (exit status), fsck_tail
    (its last lines when not 0), big_ok, small_ok, ok."""
    out = subprocess.run(["e2fsck", "-fn", img], capture_output=True, text=True)
    result = {"fsck": out.returncode}
    if out.returncode:
        result["fsck_tail"] = (out.stdout + out.stderr).splitlines()[-15:]
    dump = os.path.join(tmp, "dump")
    shutil.rmtree(dump, ignore_errors=True)
    os.makedirs(dump)
    subprocess.run(["debugfs", "-R", f"dump /big {dump}/big", img], capture_output=True)
    subprocess.run(["debugfs", "-R", f"rdump /small {dump}", img], capture_output=True)
    big_path = os.path.join(dump, "big")
    with open(big_path if os.path.exists(big_path) else os.devnull, "rb") as f:
        big = subprocess.run([lp.PEERTOOL, "meter", str(SEED_BIG), str(size)], stdin=f,
                             capture_output=True, text=True)
    small = subprocess.run([lp.PEERTOOL, "files", "read", f"{dump}/small", str(files),
                            str(FILE_BYTES), str(SEED_SMALL)], capture_output=True, text=True)
    result.update(big_ok=big.returncode == 0, small_ok=small.returncode == 0,
                  small_line=small.stderr.strip().splitlines()[0] if small.stderr else "")
    shutil.rmtree(dump, ignore_errors=True)
    result["ok"] = result["fsck"] == 0 and result["big_ok"] and result["small_ok"]
    return result


def parse(peer, size, files):
    """bench-disk's "peer: " lines (prefix cut): per phase its seconds, rc, meter fields, gaps
    and ok (its meter's line says every byte went through, and was right where compared); the
    kills; the lines of stderr."""
    want_bytes = dict(write=size, read=size, create=files * FILE_BYTES,
                      readsmall=files * FILE_BYTES)
    phases, current = {}, None
    for p in peer:
        m = re.match(r"phase (\w+) rc=(\d+) start=(\S+) end=(\S+)", p)
        if m:
            current = phases[m.group(1)] = {
                "rc": int(m.group(2)), "seconds": float(m.group(4)) - float(m.group(3)),
                "meter": {}, "gaps": []}
        elif current is not None and p.startswith("meter: gap "):
            current["gaps"] += bench_net.meter_gaps([p])
        elif current is not None and p.startswith("meter: "):
            current["meter"] = {k: float(v) for k, v in re.findall(r"(\w+)=(\S+)", p)}
    kills = [int(p.split()[1]) for p in peer if re.match(r"kills \d+$", p)]
    done = [p for p in peer if p.startswith("done rc=")]
    for name, ph in phases.items():  # the guest's own check: the meter's line is required
        m = ph["meter"]
        ph["ok"] = ph["rc"] == 0 and m.get("bytes") == want_bytes[name] and \
            (name != "read" or m.get("match") == 1) and \
            (name not in ("create", "readsmall") or m.get("bad") == 0)
    return {"phases": phases, "kills": kills[-1] if kills else 0,
            "done": bool(done) and done[-1] == "done rc=0",
            "stderr": [p for p in peer if p.startswith("stderr: ")]}


def run_bench(guest, driver, every, size, files, timeout):
    """bench-disk in guest (a LinuxGuest or a SamsaraDisk); parse()'s dict plus the kills'
    recovery as rs saw it and the application's stall per kill."""
    out = guest.bench(f"sh /bin/bench-disk /mnt {size} {files} {driver or 'none'} {every}",
                      timeout)
    peer = [line[len("peer: "):] for line in out if line.startswith("peer: ")]
    r = parse(peer, size, files)
    killed, r["recovery_us"] = bench_net.rs_restarts(peer, driver)
    r["failed"], r["killed_at"], r["stalls"] = len(killed), killed, stalls(r["phases"], killed)
    r["stall_ms"] = [ms for ms, _ in r["stalls"]]
    r["ok"] = r["done"] and all(r["phases"].get(n, {}).get("ok") for n in PHASES)
    return r


def stalls(phases, killed):
    """The application's stall per kill: [ms, phase] of the longest gap in progress overlapping
    the STALL_WINDOW after it, phase None and GAPS_MS (an upper bound) when there was none that
    long. Progress is counted per read of the pipe in write and read, whose dd moves 1 MiB at a
    time (gaps of 30 to 60 ms without kills), and per file in create and readsmall (well under
    1 ms): only the small-file phases resolve a stall shorter than dd's step."""
    out = []
    for k in killed:
        best = [bench_net.GAPS_MS, None]
        for name, ph in phases.items():
            for start, length in ph["gaps"]:
                if start < k + bench_net.STALL_WINDOW and start + length > k and \
                        1000 * length > best[0]:
                    best = [1000 * length, name]
        out.append(best)
    return out


class LinuxDisk(lp.LinuxGuest):
    """Debian's kernel with the image on interface, mounted at /mnt (tools/peer/init)."""

    def __init__(self, img, interface):
        super().__init__("disk", None, None, False, memory=MEM, disk=(img, interface))
        self.mounted = self.wait_line(r"mounted .*", 300)[0].group(0)[len("peer: "):]
        self.wait_line("ready", 60)
        self.dmesg = [t[len("peer: dmesg: "):] for _, t in self.lines
                      if t.startswith("peer: dmesg: ")]
        if " /mnt ext2 " not in self.mounted:
            raise RuntimeError(f"Linux: the image is not mounted as ext2: {self.mounted}")

    def bench(self, command, timeout):
        return ["peer: " + line if not line.startswith("peer: ") else line
                for line in self.shell(command, timeout)]


class SamsaraDisk(qemu.Boot):
    """make run's boot with ROOT=ramfs and the image on interface mounted on /mnt (as make run
    ROOT=ramfs DISK=... does), and the initramfs with peertool and bench-disk."""

    def __init__(self, img, interface):
        self.driver = qemu.DISKIFS[interface]
        # ROOT=ramfs with the image mounted on /mnt (make run ROOT=ramfs DISK=img), no card
        mods, flags = qemu.run_boot("none", (), "ramfs", interface, img)
        names = [os.path.basename(m.split()[0]) for m in mods]
        mods[names.index("initramfs.cpio")] = bench_net.SAMSARA_INITRAMFS
        super().__init__(mods, extra=flags, console=True)
        if not self.wait_prompt(PROMPT, 120):
            raise RuntimeError("Samsara: no shell prompt; last lines:\n  " +
                               "\n  ".join(self.tail(20)))
        out = self.run("grep ' /mnt ' /proc/mounts", PROMPT, 30) or []
        if not any(" /mnt ext2 " in line for line in out):
            raise RuntimeError(f"Samsara: ext2 is not mounted at /mnt: {out}; last lines:\n  "
                               + "\n  ".join(self.tail(20)))

    def bench(self, command, timeout):
        out = self.run(command, PROMPT, timeout)
        if out is None:
            raise RuntimeError("Samsara: bench-disk did not finish; last lines:\n  " +
                               "\n  ".join(self.tail(20)))
        return out

    def quit(self):
        self.kill()


def one_boot(system, interface, every, size, files, tmp):
    """A fresh image, one boot of system ("linux" or "samsara") running bench-disk, QEMU
    stopped, the image checked on the host. run_bench's dict plus boot_s and host."""
    img = os.path.join(tmp, "disk.img")
    make_image(img, size, files)
    started = time.monotonic()
    guest = (LinuxDisk if system == "linux" else SamsaraDisk)(img, interface)
    try:
        boot_s = time.monotonic() - started
        driver = guest.driver if system == "samsara" else None
        r = run_bench(guest, driver, every, size, files, 600 + size // (64 << 10))
        r["boot_s"] = boot_s
        if system == "linux":
            r["mounted"], r["dmesg"] = guest.mounted, guest.dmesg
    finally:
        guest.quit()  # Linux: sync, umount, power off; Samsara: QEMU killed after the sync
    r["host"] = host_check(img, size, files, tmp)
    r["ok"] = r["ok"] and r["host"]["ok"]
    return r


def rate(r, phase, size, files):
    """MiB/s for write and read, files/s for create and readsmall; None if the phase failed."""
    ph = r["phases"].get(phase)
    if not ph or not ph["ok"] or ph["seconds"] <= 0:
        return None
    return (size / (1 << 20) if phase in ("write", "read") else files) / ph["seconds"]


def describe(r, size, files):
    if not r["phases"]:
        return "FAILED: no phases"
    text = ", ".join(f"{n} {r['phases'][n]['seconds']:.2f} s" if n in r["phases"] else f"{n} -"
                     for n in PHASES)
    host = r["host"]
    text += (f"; e2fsck {'clean' if host['fsck'] == 0 else 'exit ' + str(host['fsck'])}, "
             f"bytes {'ok' if host['big_ok'] and host['small_ok'] else 'WRONG'}")
    if not r["ok"]:
        text += " FAILED" + "".join(f" ({line})" for line in r["stderr"][:3])
    return text


def rows(b):
    """One row per system and interval over the rounds: median seconds per phase, the kills
    per run, every restart's recovery, every kill's stall, the longest gap."""
    size, files, out = b["size"], b["files"], []
    keys = [("linux", 0)] * bool(b.get("linux")) + \
        [("samsara", t) for t in dict.fromkeys(r["interval"] for r in b.get("samsara", []))]
    for system, every in keys:
        runs = b["linux"] if system == "linux" else \
            [r for r in b["samsara"] if r["interval"] == every]
        row = {"system": system, "interval": every, "runs": len(runs),
               "ok": all(r["ok"] for r in runs),
               "kills": sum(r["kills"] for r in runs) / len(runs)}
        for n in PHASES:
            secs = [r["phases"][n]["seconds"] for r in runs
                    if n in r["phases"] and r["phases"][n]["ok"]]
            row[n] = statistics.median(secs) if secs else None
            row[n + "_rate"] = ((size / (1 << 20) if n in ("write", "read") else files) /
                                row[n]) if row[n] else None
        row["total"] = sum(row[n] for n in PHASES) if all(row[n] for n in PHASES) else None
        us = [u for r in runs for u in r["recovery_us"]]
        stalls = [ms for r in runs for ms in r["stall_ms"]]
        fine = [ms for r in runs for ms, phase in r.get("stalls", [])
                if phase in (None, "create", "readsmall")]
        gaps = [ph["meter"].get("maxgap", 0) * 1000 for r in runs for ph in r["phases"].values()]
        row.update(rs_mean_ms=sum(us) / len(us) / 1000 if us else None,
                   rs_max_ms=max(us) / 1000 if us else None,
                   app_mean_ms=sum(stalls) / len(stalls) if stalls else None,
                   app_max_ms=max(stalls) if stalls else None,
                   app_small_mean_ms=sum(fine) / len(fine) if fine else None,
                   app_small_max_ms=max(fine) if fine else None, app_small_kills=len(fine),
                   gap_ms=max(gaps) if gaps else None)
        out.append(row)
    linux = next((r for r in out if r["system"] == "linux"), None)
    base = next((r for r in out if r["system"] == "samsara" and not r["interval"]), None)
    for row in out:
        for n in PHASES:
            if linux and linux[n + "_rate"] and row[n + "_rate"]:
                row[n + "_over_linux"] = row[n + "_rate"] / linux[n + "_rate"]
            if row["system"] == "samsara" and base and base[n + "_rate"] and row[n + "_rate"]:
                row[n + "_loss_pct"] = 100 * (1 - row[n + "_rate"] / base[n + "_rate"])
        if row["system"] == "samsara" and base and base["total"] and row["total"]:
            row["total_loss_pct"] = 100 * (1 - base["total"] / row["total"])
    return out


def label(row):
    if row["system"] == "linux":
        return "Linux"
    return f"Samsara, kill every {row['interval']:g} s" if row["interval"] else "Samsara"


def print_tables(report, size_mib, files):
    fmt = bench_net.fmt
    print()
    print(f"bench-disk: {size_mib} MiB written and read sequentially (dd bs=1M), {files} files of"
          f" 4 KiB made and read; guest memory {MEM}; seconds are medians over the rounds;"
          f" rates MiB/s (write, read) and files/s (create, readsmall); recovery as rs sees it"
          f" (kill to ROOT_READY) and as the application sees it (the longest gap in progress"
          f" overlapping the {bench_net.STALL_WINDOW} s after each kill: app over every kill, small"
          f" over the kills in the small-file phases, whose progress is counted per file, not"
          f" per dd block of 1 MiB); check: guest's"
          f" comparison, e2fsck -fn and the host's reading of every byte")
    print(f"{'if':6} {'system':28} {'runs':>4} {'kills':>5} {'write':>7} {'read':>7} "
          f"{'create':>7} {'rdsmall':>7} {'rs mean':>7} {'rs max':>7} {'app mean':>8} "
          f"{'app max':>7} {'small mean':>10} {'small max':>9} {'max gap':>7} {'check':>6}")
    for b in report:
        for row in rows(b):
            print(f"{b['diskif']:6} {label(row):28} {row['runs']:>4} {row['kills']:>5.1f} " +
                  " ".join(fmt(row[n + '_rate'], '7.1f') for n in PHASES) +
                  f" {fmt(row['rs_mean_ms'], '7.1f')} {fmt(row['rs_max_ms'], '7.1f')} "
                  f"{fmt(row['app_mean_ms'], '8.0f')} {fmt(row['app_max_ms'], '7.0f')} "
                  f"{fmt(row['app_small_mean_ms'], '10.0f')} {fmt(row['app_small_max_ms'], '9.0f')} "
                  f"{fmt(row['gap_ms'], '7.0f')} {'ok' if row['ok'] else 'WRONG':>6}")
    print()
    print("Ratios (Samsara's rate over Linux's, same run) and loss under kills (rate against "
          "Samsara's run without kills; total: the four phases' seconds added):")
    print(f"{'if':6} {'system':28} " + " ".join(f"{n:>9}" for n in PHASES) + "   " +
          " ".join(f"{'loss ' + n:>14}" for n in PHASES) + f" {'total s':>7} {'loss total':>10}")
    for b in report:
        for row in rows(b):
            if row["system"] == "linux":
                continue
            print(f"{b['diskif']:6} {label(row):28} " +
                  " ".join(fmt(row.get(n + '_over_linux'), '9.2f') for n in PHASES) + "   " +
                  " ".join(fmt(row.get(n + '_loss_pct'), '14.1f') for n in PHASES) +
                  f" {fmt(row['total'], '7.2f')} {fmt(row.get('total_loss_pct'), '10.1f')}")


def plot(report, size_mib, files, path):
    """Each phase's rate over Linux's, one group of bars per interface and phase."""
    plt = bench_net.pyplot("bench-disk")
    if plt is None:
        return None
    fig, axes = plt.subplots(1, len(report), figsize=(5.5 * len(report), 4.2), squeeze=False)
    for ax, b in zip(axes[0], report):
        rs = [r for r in rows(b) if r["system"] == "samsara"]
        width = 0.8 / max(1, len(rs))
        for i, row in enumerate(rs):
            ys = [row.get(n + "_over_linux") or 0 for n in PHASES]
            ax.bar([x + i * width for x in range(len(PHASES))], ys, width, label=label(row))
        ax.axhline(1, color="black", linestyle="--", linewidth=0.8, label="Linux (= 1)")
        ax.set_xticks([x + width * (len(rs) - 1) / 2 for x in range(len(PHASES))])
        ax.set_xticklabels([f"write {size_mib} MiB", f"read {size_mib} MiB",
                            f"create {files}", f"read {files}"], fontsize=8)
        ax.set_ylabel("rate over Linux's")
        ax.set_title(f"ext2 on {b['diskif']}: Samsara against Linux 6.1")
        ax.grid(True, axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    return bench_net.save_plot(plt, fig, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    both = sorted(set(qemu.DISKIFS) & set(lp.DISKS))  # interfaces both systems are booted on
    ap.add_argument("--diskif", default="virtio", choices=both + ["all"])
    ap.add_argument("--size", type=int, default=256, help="MiB (256; 64 for a quick run)")
    ap.add_argument("--files", type=int, default=10000, help="small files of 4 KiB (10000)")
    bench_net.add_run_args(ap, "bench-disk", INTERVALS, "disk driver", "guest",
                           "boots per system and interval, interleaved (the table shows medians)")
    args = ap.parse_args()
    ifs = sorted(both, reverse=True) if args.diskif == "all" else [args.diskif]
    size = args.size << 20
    intervals = bench_net.parse_intervals(args.intervals)
    runs = [("linux", 0)] * (not args.no_linux) + [("samsara", t) for t in intervals] * \
        (not args.no_samsara)
    print(f"bench-disk: {args.size} MiB and {args.files} files of 4 KiB on ext2, interfaces "
          f"{', '.join(ifs)}, memory {MEM}, kernel {os.path.basename(lp.vmlinuz())}; "
          f"{args.rounds} round(s) of: " +
          ", ".join("Linux" if s == "linux" else f"Samsara (kills every {t} s)" if t else
                    "Samsara (no kills)" for s, t in runs), flush=True)
    report, failed, started = [], 0, time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-disk-") as tmp:
        for interface in ifs:
            b = {"diskif": interface, "size": size, "files": args.files, "memory": MEM}
            for rnd in range(args.rounds):
                for system, every in runs:
                    what = "Linux" if system == "linux" else \
                        f"Samsara, {f'kill every {every} s' if every else 'no kills'}"
                    try:
                        r = one_boot(system, interface, every, size, args.files, tmp)
                    except RuntimeError as e:
                        print(f"  {interface} {what}: {e}", flush=True)
                        failed += 1
                        continue
                    r["interval"], r["round"] = every, rnd + 1
                    b.setdefault(system, []).append(r)
                    failed += not r["ok"]
                    extra = "" if system == "linux" else \
                        (f"; {r['kills']} kills, rs recovery {bench_net.summary_ms(r['recovery_us'])},"
                         f" application's stall "
                         f"{bench_net.summary_ms([1000 * ms for ms in r['stall_ms']])}")
                    print(f"  {interface} {what}{f' round {rnd + 1}' if args.rounds > 1 else ''}:"
                          f" {describe(r, size, args.files)}{extra}", flush=True)
            report.append(b)
    bench_net.write_json(args.json, report)
    print_tables(report, args.size, args.files)
    linux = [r for b in report for r in b.get("linux", [])]
    if linux:
        print(f"(Linux: {linux[0]['mounted']}; {'; '.join(linux[0]['dmesg'][:1])})")
    png = plot(report, args.size, args.files, args.png) if report else None
    print(f"bench-disk: {'every check right' if not failed else f'{failed} FAILED or WRONG'} in "
          f"{time.monotonic() - started:.0f} s; details in {os.path.relpath(args.json)}" +
          (f", plot in {os.path.relpath(png)}" if png else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
