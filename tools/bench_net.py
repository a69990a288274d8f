#!/usr/bin/env python3
"""make bench-net: the wget experiment (docs/BENCH-NET.md, issue 9).

A Linux server guest (Debian's kernel, BusyBox httpd, tools/linuxpeer.py) serves a random
file made in the guest by `peertool gen SEED BYTES`; the host knows its sha256 by running
the same program. A client guest on the same `-netdev socket` link (127.0.0.1 only)
downloads it with BusyBox `wget -O - URL | peertool meter | sha256sum`, timed by the guest
clock: first a Linux client (the baseline), then Samsara (the whole system: its network
driver, inet, vfs's sockets), once per interval while a shell loop in the guest has rs kill
the network driver every T seconds (T = 1, 2, 4, 8, 15, and a run without kills). Then a
table per NIC (like the paper's) and a PNG plot.

Usage: tools/bench_net.py [--nic virtio|e1000|rtl8139|all] [--size MiB] [--runs N]
       [--check sha256|sha256-only|compare] [--intervals 1,2,4,8,15,0] [--rounds N] [--no-linux]
       [--no-samsara] [--json FILE] [--png FILE]
"""
import argparse
import json
import os
import re
import statistics
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxpeer as lp  # noqa: E402
import qemu  # noqa: E402

URL = f"http://{lp.SERVER_IP}/file"
GAPS_MS = 10  # bench-get's PEERTOOL_GAPS_MS: the meter lists gaps this long or longer
STALL_WINDOW = 0.5  # s after a kill in which the application's stall is looked for
# Samsara's initramfs with peertool and tools/peer/bench-get (mk/peer.mk).
SAMSARA_INITRAMFS = os.path.join(lp.PEER, "samsara", "initramfs.cpio")
INTERVALS = [1, 2, 4, 8, 15, 0]  # seconds between kills, 0: none; run in this order


def linux_baseline(nic, server, size, runs, check, expected, seed=1):
    """A Linux client on nic downloads the server's file runs times, checked by check:
    "sha256" (the pipe through peertool meter and sha256sum), "sha256-only" (no meter) or
    "compare" (peertool meter compares with the generator). A dict: the client's boot time
    and one result per run (see LinuxGuest.get)."""
    started = time.monotonic()
    client = lp.LinuxGuest("client", nic, server.port, False)
    try:
        client.wait_line("ready", 300)
        client_ready = time.monotonic() - started
        lp.wait_serving(server, 600)
        results = []
        for i in range(runs):
            r = client.get(URL, meter=check == "sha256",
                           compare=(seed, size) if check == "compare" else None, timeout=1800)
            r["sha_ok"] = r["ok"] and (check == "compare" or r["sha256"] == expected())
            results.append(r)
            print(f"  {nic} Linux run {i + 1}: {describe(r, size)}", flush=True)
        return {"client_ready_s": client_ready, "runs": results}
    finally:
        client.quit()


class SamsaraGuest(qemu.Boot):
    """The whole Samsara system as the client: `make run`'s boot with the NIC's driver after
    pci, on the server's `-netdev socket` link with the Linux client's MAC, inet configured
    as 10.0.3.2/24 (its boot module's arguments replace the manifest's), and the initramfs
    with peertool and bench-get."""

    def __init__(self, nic, port):
        self.driver = qemu.NICS[nic][0]
        mods = qemu.system_modules()
        names = [os.path.basename(m) for m in mods]
        mods[names.index("initramfs.cpio")] = SAMSARA_INITRAMFS
        mods[names.index("inet")] += (f" nic={self.driver} ip={lp.CLIENT_IP}/24 "
                                      f"gw={lp.SERVER_IP}")
        mods.insert(names.index("pci") + 1, os.path.join(qemu.BUILD, self.driver))
        super().__init__(mods, console=True, extra=[
            "-netdev", lp.netdev_socket(port, False),
            "-device", f"{lp.NICS[nic][1]},netdev=n0,mac={lp.CLIENT_MAC},romfile="])

    def ready(self, timeout=120):
        """Wait for the shell and for inet's interface; a RuntimeError if either is missing."""
        if not self.wait_prompt("# ", timeout):
            raise RuntimeError("Samsara: no shell prompt; last lines:\n  " +
                               "\n  ".join(self.tail(20)))
        if self.wait_for(rf"^inet: {self.driver} up as ", 10)[0] is None:
            raise RuntimeError(f"Samsara: inet did not bring {self.driver} up; last lines:\n  "
                               + "\n  ".join(self.tail(20)))

    def get(self, url, every, check="sha256", seed=1, size=0, timeout=1800):
        """Download url with bench-get while rs kills the driver every `every` s (0: never).
        A dict like LinuxGuest.get's (ok, seconds, sha256, line, meter) plus kills (the
        killer's count), failed (rs's "failed" events of the driver during the download),
        recovery_us (rs's "ready after N us" of each restart: kill to ROOT_READY) and
        stall_ms (per kill rs logged, the longest gap in the meter's input that overlaps
        the STALL_WINDOW after it; GAPS_MS when none was that long: an upper bound)."""
        how = {"sha256": "meter", "compare": f"compare {seed} {size}"}.get(check, "plain")
        # run by sh: exec of a "#!" script fails on Samsara today (docs/BENCH-NET.md)
        out = self.run(f"sh /bin/bench-get {url} {self.driver} {every} {how}", timeout=timeout)
        if out is None:
            raise RuntimeError("Samsara: bench-get did not finish; last lines:\n  " +
                               "\n  ".join(self.tail(20)))
        peer = [line[len("peer: "):] for line in out if line.startswith("peer: ")]
        end = [p for p in peer if re.match(r"(got|failed) ", p)]
        line = end[-1] if end else "no answer"
        fields = dict(re.findall(r"(\w+)=(\S+)", line))
        kills = [int(p.split()[1]) for p in peer if re.match(r"kills \d+$", p)]
        killed, recovery_us = rs_restarts(peer, self.driver)
        result = {"ok": line.startswith("got "),
                  "seconds": float(fields.get("end", 0)) - float(fields.get("start", 0)),
                  "sha256": fields.get("sha256"), "line": line,
                  "kills": kills[-1] if kills else 0, "failed": len(killed),
                  "recovery_us": recovery_us, "stall_ms": stalls_ms(meter_gaps(peer), killed)}
        meters = [p for p in peer if p.startswith("meter: ") and "=" in p]
        if meters:
            result["meter"] = {k: float(v) for k, v in re.findall(r"(\w+)=(\S+)", meters[-1])}
        return result

    def quit(self):
        self.kill()


def rs_restarts(peer, driver):
    """From the "rs: T LABEL EVENT" lines of peer (the guest's "peer: " lines, prefix cut): the
    times rs saw driver fail, and each restart's "ready after N us" (kill to ROOT_READY)."""
    mine = [r.split(None, 2) for r in (p[len("rs: "):] for p in peer if p.startswith("rs: "))
            if len(r.split()) > 2 and r.split()[1] == driver]
    killed = [float(t) for t, _, event in mine if event.startswith("failed")]
    ready = (re.match(r"ready after (\d+) us", event) for _, _, event in mine)
    return killed, [int(m.group(1)) for m in ready if m]


def meter_gaps(peer):
    """(start, length) of each "meter: gap START LEN" line in peer."""
    return [(float(m.group(1)), float(m.group(2))) for m in
            (re.match(r"meter: gap (\S+) (\S+)$", p) for p in peer) if m]


def stalls_ms(gaps, killed):
    """The application's stall per kill: the longest gap overlapping the STALL_WINDOW after it
    (GAPS_MS when none was that long: an upper bound)."""
    return [1000 * max([g for s, g in gaps if s < k + STALL_WINDOW and s + g > k] +
                       [GAPS_MS / 1000]) for k in killed]


def samsara_client(nic, server, size, intervals, check, expected, seed=1, rounds=1):
    """The experiment proper: Samsara on nic downloads the server's file once per interval
    in intervals (seconds between driver kills, 0 for none), rounds times over (interval
    after interval, then again: load that comes and goes spreads over all), in one boot. A
    dict: the boot time and one result per download (SamsaraGuest.get's, with interval,
    round and sha_ok)."""
    started = time.monotonic()
    guest = SamsaraGuest(nic, server.port)
    try:
        guest.ready()
        boot_s = time.monotonic() - started
        results = []
        for rnd, every in ((rnd, every) for rnd in range(rounds) for every in intervals):
            r = guest.get(URL, every, check, seed, size, timeout=1800 + size // (64 << 10))
            r["interval"], r["round"] = every, rnd + 1
            r["sha_ok"] = r["ok"] and (check == "compare" or r["sha256"] == expected())
            results.append(r)
            print(f"  {nic} Samsara{f' round {rnd + 1}' if rounds > 1 else ''}, "
                  f"{f'kill every {every} s' if every else 'no kills'}: "
                  f"{describe(r, size)}, {r['kills']} kills, rs recovery "
                  f"{summary_ms(r['recovery_us'])}, application's stall "
                  f"{summary_ms([1000 * ms for ms in r['stall_ms']])}", flush=True)
        return {"boot_s": boot_s, "runs": results}
    finally:
        guest.quit()


def summary_ms(us):
    """mean/max of a list of microseconds, in ms."""
    return f"mean {sum(us) / len(us) / 1000:.1f} ms, max {max(us) / 1000:.1f} ms" if us else "-"


def run_nic(nic, size, runs, check, intervals, linux=True, samsara=True, seed=1, rounds=1):
    """One server guest; the Linux client, then the Samsara client, on its link."""
    expected = {}
    hasher = threading.Thread(target=lambda: expected.update(sha=lp.expected_sha256(seed, size)))
    hasher.start()

    def want():
        hasher.join()
        return expected["sha"]

    started = time.monotonic()
    server = lp.start_server(nic, size, seed)
    try:
        serving = lp.wait_serving(server, 600)
        report = {"nic": nic, "size": size, "check": check,
                  "server_ready_s": time.monotonic() - started,
                  "gen_s": float(serving["gen_end"]) - float(serving["gen_start"])}
        tcp = [snmp(server.shell("grep '^Tcp:' /proc/net/snmp", 30))]
        for name, wanted in (("linux", linux), ("samsara", samsara)):
            if not wanted:
                continue
            if name == "linux":
                report[name] = linux_baseline(nic, server, size, runs, check, want, seed)
            else:
                report[name] = samsara_client(nic, server, size, intervals, check, want, seed,
                                              rounds)
            tcp.append(snmp(server.shell("grep '^Tcp:' /proc/net/snmp", 30)))
            # the server's TCP counters during this client's downloads
            report[name]["server_tcp"] = {k: v - tcp[-2].get(k, 0) for k, v in tcp[-1].items()}
        return report
    finally:
        server.quit()


def snmp(lines):
    """The Tcp: counters of /proc/net/snmp (a header line, then a value line)."""
    rows = [line.split()[1:] for line in lines if line.startswith("Tcp:")]
    return dict(zip(rows[0], (int(v) for v in rows[1]))) if len(rows) == 2 else {}


def describe(r, size):
    if not r["ok"]:
        return "FAILED " + r["line"]
    text = f"{r['seconds']:.2f} s, {size / r['seconds'] / (1 << 20):.2f} MiB/s, " \
           f"{'bytes' if r['sha256'] is None else 'sha256'} " \
           f"{'ok' if r['sha_ok'] else 'WRONG ' + str(r['sha256'])}"
    if "meter" in r:
        text += f", longest gap {r['meter']['maxgap'] * 1000:.0f} ms"
    return text


def mibs(r, size):
    return size / r["seconds"] / (1 << 20) if r["ok"] and r["seconds"] > 0 else 0.0


def samsara_rows(b):
    """The paper's table for one NIC: a dict per interval over its rounds (the median time,
    the kills per run, every restart's recovery, the longest gap of any run), with loss and
    extra time against the median run without kills, and the no-kill throughput over the
    Linux client's mean."""
    size, runs = b["size"], b["samsara"]["runs"]
    linux = [mibs(r, size) for r in b.get("linux", {}).get("runs", []) if r["ok"]]
    rows = []
    for every in sorted({r["interval"] for r in runs}, key=lambda t: t or 1 << 30):
        mine = [r for r in runs if r["interval"] == every]
        good = [r for r in mine if r["ok"]]
        us = [u for r in mine for u in r["recovery_us"]]
        stalls = [ms for r in mine for ms in r.get("stall_ms", [])]
        gaps = [r["meter"]["maxgap"] * 1000 for r in good if "meter" in r]
        secs = statistics.median(r["seconds"] for r in good) if good else None
        rows.append({"interval": every, "runs": len(mine), "ok": all(r["sha_ok"] for r in mine),
                     "kills": sum(r["kills"] for r in mine) / len(mine), "seconds": secs,
                     "mibs": size / secs / (1 << 20) if secs else 0.0,
                     "rs_mean_ms": sum(us) / len(us) / 1000 if us else None,
                     "rs_max_ms": max(us) / 1000 if us else None, "restarts_seen": len(us),
                     "app_mean_ms": sum(stalls) / len(stalls) if stalls else None,
                     "app_max_ms": max(stalls) if stalls else None,
                     "gap_ms": max(gaps) if gaps else None})
    base = next((r for r in rows if r["interval"] == 0 and r["seconds"]), None)
    for row in rows:
        if base and row["seconds"]:
            row["loss_pct"] = 100 * (1 - row["mibs"] / base["mibs"])
            row["extra_ms_per_kill"] = (1000 * (row["seconds"] - base["seconds"]) / row["kills"]
                                        if row["kills"] else None)
        if row["interval"] == 0 and linux and row["seconds"]:
            row["over_linux"] = row["mibs"] / (sum(linux) / len(linux))
    return rows


def fmt(v, spec):
    """v formatted by spec, or "-" as wide."""
    width = re.match(r"\d*", spec).group(0)
    return format(v, spec) if v is not None else format("-", f">{width}")


def print_tables(report, size_mib, check):
    if any("linux" in b for b in report):
        print_linux(report, size_mib, check)
    print_samsara(report, size_mib, check)


def print_linux(report, size_mib, check):
    print()
    print(f"Linux client ({size_mib} MiB, {check}):")
    print(f"{'nic':8} {'run':>3} {'seconds':>8} {'MiB/s':>7} {'gap ms':>7} {'check':>6}"
          f" {'retrans':>7}")
    for b in report:
        for i, r in enumerate(b.get("linux", {}).get("runs", [])):
            gap = f"{r['meter']['maxgap'] * 1000:.0f}" if "meter" in r else "-"
            print(f"{b['nic']:8} {i + 1:>3} {r['seconds']:8.2f} {mibs(r, b['size']):7.2f} "
                  f"{gap:>7} {'ok' if r['sha_ok'] else 'WRONG':>6} "
                  f"{b['linux']['server_tcp'].get('RetransSegs', '?') if i == 0 else '':>7}")


def print_samsara(report, size_mib, check):
    if not any("samsara" in b for b in report):
        return
    print()
    print(f"Samsara client ({size_mib} MiB, {check}; the network driver killed every T s; "
          f"loss and extra time against Samsara's run without kills; recovery as rs sees it: "
          f"kill to ROOT_READY; as the application sees it: the longest gap without input "
          f"overlapping the {STALL_WINDOW} s after each kill ({GAPS_MS} ms if none was longer), "
          f"and the run's longest gap):")
    print("(with rounds: the median time of an interval's runs, its kills per run, every "
          "restart's recovery, the longest gap of any run)")
    print(f"{'nic':8} {'T s':>4} {'runs':>4} {'kills':>5} {'seconds':>8} {'MiB/s':>7} "
          f"{'loss %':>7} {'ms/kill':>8} {'rs mean':>8} {'rs max':>7} {'app mean':>8} "
          f"{'app max':>7} {'max gap':>7} {'check':>6}")
    for b in report:
        if "samsara" not in b:
            continue
        for row in samsara_rows(b):
            print(f"{b['nic']:8} {row['interval'] or 'none':>4} {row['runs']:>4} "
                  f"{row['kills']:>5g} {fmt(row['seconds'], '8.2f')} {row['mibs']:7.2f} "
                  f"{fmt(row.get('loss_pct'), '7.2f')} "
                  f"{fmt(row.get('extra_ms_per_kill'), '8.0f')} "
                  f"{fmt(row['rs_mean_ms'], '8.1f')} {fmt(row['rs_max_ms'], '7.1f')} "
                  f"{fmt(row['app_mean_ms'], '8.0f')} {fmt(row['app_max_ms'], '7.0f')} "
                  f"{fmt(row['gap_ms'], '7.0f')} {'ok' if row['ok'] else 'WRONG':>6}")
    for b in report:
        if "samsara" not in b:
            continue
        ratio = [r["over_linux"] for r in samsara_rows(b) if "over_linux" in r]
        print(f"({b['nic']}: Samsara without kills at {fmt(ratio[0] if ratio else None, '.2f')}"
              f" x the Linux client's throughput; server retransmitted "
              f"{b['samsara']['server_tcp'].get('RetransSegs', '?')} of "
              f"{b['samsara']['server_tcp'].get('OutSegs', '?')} segments to Samsara, "
              f"{b.get('linux', {}).get('server_tcp', {}).get('RetransSegs', '?')} to Linux; "
              f"Samsara booted in {b['samsara']['boot_s']:.1f} s)")


def pyplot(who):
    """matplotlib.pyplot without a display, or None (with a word why) if there is none."""
    try:
        import matplotlib
    except ImportError:  # Debian's python3-matplotlib, seen from another python3 (pyenv's)
        sys.path.append("/usr/lib/python3/dist-packages")
        try:
            import matplotlib
        except ImportError:
            print(f"{who}: no matplotlib (tools/deps.sh --plot installs it): no plot")
            return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_plot(plt, fig, path):
    """Write fig as a PNG at path; path."""
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def plot(report, size_mib, path):
    """Throughput and loss against the interval, one line per NIC (matplotlib, no display)."""
    plt = pyplot("bench-net")
    if plt is None:
        return None
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    ticks = sorted({r["interval"] for b in report if "samsara" in b for r in b["samsara"]["runs"]
                    if r["interval"]}) or [1]
    for b in report:
        if "samsara" not in b:
            continue
        rows = samsara_rows(b)
        killed = [r for r in rows if r["interval"] and r["ok"]]
        xs = [r["interval"] for r in killed]
        line, = ax1.plot(xs, [r["mibs"] for r in killed], "o-", label=f"Samsara {b['nic']}")
        base = [r for r in rows if not r["interval"] and r["ok"]]
        if base:
            ax1.axhline(base[0]["mibs"], color=line.get_color(), linestyle="--", linewidth=0.8,
                        label=f"Samsara {b['nic']}, no kills")
        linux = [mibs(r, b["size"]) for r in b.get("linux", {}).get("runs", []) if r["ok"]]
        if linux:
            ax1.axhline(sum(linux) / len(linux), color=line.get_color(), linestyle=":",
                        linewidth=0.8, label=f"Linux {b['nic']}")
        if all("loss_pct" in r for r in killed):
            ax2.plot(xs, [r["loss_pct"] for r in killed], "o-", color=line.get_color(),
                     label=b["nic"])
    for ax, title, unit in ((ax1, "throughput", "MiB/s"), (ax2, "loss against no kills", "%")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.set_xlabel("seconds between kills of the network driver")
        ax.set_ylabel(unit)
        ax.set_title(f"wget of {size_mib} MiB: {title}")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=6, ncol=3 if ax is ax1 else 1,
                  loc="lower center" if ax is ax1 else "best")
        ax.set_xlim(ticks[0] * 0.8, ticks[-1] * 1.25)
        ax.minorticks_off()
    ax1.set_ylim(bottom=0)
    ax2.axhline(0, color="black", linewidth=0.5)
    return save_plot(plt, fig, path)


def add_run_args(ap, name, intervals, driver, who, rounds_help):
    """The options bench-net and bench-disk share: the kill intervals, the rounds, which systems
    run, where the results go (name.json and name.png beside the Linux peer's files)."""
    ap.add_argument("--intervals", default=",".join(map(str, intervals)),
                    help=f"seconds between kills of Samsara's {driver}, 0 for a run without "
                    "kills, in the order run (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=1, help=rounds_help)
    ap.add_argument("--no-linux", action="store_true", help=f"leave the Linux {who} out")
    ap.add_argument("--no-samsara", action="store_true", help=f"leave the Samsara {who} out")
    ap.add_argument("--json", default=os.path.join(lp.PEER, f"{name}.json"))
    ap.add_argument("--png", default=os.path.join(lp.PEER, f"{name}.png"))


def parse_intervals(text):
    """--intervals' seconds: "1,0.5,0" -> [1, 0.5, 0]."""
    return [float(t) if "." in t else int(t) for t in text.split(",") if t]


def write_json(path, report):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump(report, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nic", default="virtio", choices=sorted(lp.NICS) + ["all"])
    ap.add_argument("--size", type=int, default=512, help="MiB (512; 64 for a quick run)")
    ap.add_argument("--runs", type=int, default=1, help="downloads per NIC by the Linux client")
    ap.add_argument("--check", default="sha256", choices=["sha256", "sha256-only", "compare"],
                    help="sha256: wget | peertool meter | sha256sum (the default); sha256-only: "
                    "wget | sha256sum; compare: wget | peertool meter SEED SIZE (compares with "
                    "the generator: no hash, so the network, not sha256, limits the rate)")
    add_run_args(ap, "bench-net", INTERVALS, "network driver", "client",
                 "Samsara's downloads per interval (the table shows medians)")
    args = ap.parse_args()
    nics = sorted(lp.NICS) if args.nic == "all" else [args.nic]
    size = args.size << 20
    intervals = parse_intervals(args.intervals)
    print(f"bench-net: {args.size} MiB from a Linux server, checked by {args.check}, "
          f"kernel {os.path.basename(lp.vmlinuz())}, NICs {', '.join(nics)}; clients: "
          f"{'Linux' if not args.no_linux else ''}"
          f"{', ' if not args.no_linux and not args.no_samsara else ''}"
          f"{'Samsara (kills every ' + args.intervals + ' s)' if not args.no_samsara else ''}",
          flush=True)
    report, failed = [], 0
    started = time.monotonic()
    for nic in nics:
        try:
            b = run_nic(nic, size, args.runs, args.check, intervals, not args.no_linux,
                        not args.no_samsara, rounds=args.rounds)
        except RuntimeError as e:
            print(f"bench-net: {nic}: {e}", flush=True)
            failed += 1
            continue
        report.append(b)
        for client in ("linux", "samsara"):
            failed += sum(not r["sha_ok"] for r in b.get(client, {}).get("runs", []))
    write_json(args.json, report)
    print_tables(report, args.size, args.check)
    for b in report:
        linux = f"; Linux client ready {b['linux']['client_ready_s']:.1f} s" if "linux" in b else ""
        print(f"({b['nic']}: server serving {b['server_ready_s']:.1f} s after start, file made "
              f"in {b['gen_s']:.1f} s{linux})")
    png = plot(report, args.size, args.png) if any("samsara" in b for b in report) else None
    print(f"bench-net: {'all checksums right' if not failed else f'{failed} FAILED or WRONG'}"
          f" in {time.monotonic() - started:.0f} s; details in {os.path.relpath(args.json)}"
          + (f", plot in {os.path.relpath(png)}" if png else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
