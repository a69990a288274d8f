#!/usr/bin/env python3
"""make bench-net: the wget experiment (docs/BENCH-NET.md, issue 9).

A Linux server guest (Debian's kernel, BusyBox httpd, tools/linuxpeer.py) serves a random
file made in the guest by `peertool gen SEED BYTES`; the host knows its sha256 by running
the same program. A client guest on the same `-netdev socket` link (127.0.0.1 only)
downloads it with BusyBox `wget -O - URL | peertool meter | sha256sum`, timed by the guest
clock. Today the client is Linux: the baseline. Samsara's client (killing its network
driver every T seconds) is to join at samsara_client() below.

Usage: tools/bench_net.py [--nic virtio|e1000|rtl8139|all] [--size MiB] [--runs N]
       [--check sha256|sha256-only|compare] [--json FILE]
"""
import argparse
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import linuxpeer as lp  # noqa: E402

URL = f"http://{lp.SERVER_IP}/file"


def linux_baseline(nic, size, runs, check, seed=1):
    """Boot the server and a Linux client on nic; download the file runs times, checked by
    check: "sha256" (the pipe through peertool meter and sha256sum), "sha256-only" (no
    meter) or "compare" (peertool meter compares with the generator). A dict: boot and
    generation times and one result per run (see LinuxGuest.get)."""
    expected = {}
    hasher = threading.Thread(target=lambda: expected.update(sha=lp.expected_sha256(seed, size)))
    hasher.start()
    started = time.monotonic()
    server = lp.start_server(nic, size, seed)
    client = None
    try:
        client = lp.LinuxGuest("client", nic, server.port, False)
        client.wait_line("ready", 300)
        client_ready = time.monotonic() - started
        serving = lp.wait_serving(server, 600)
        server_ready = time.monotonic() - started
        hasher.join()
        results = []
        for i in range(runs):
            r = client.get(URL, meter=check == "sha256",
                           compare=(seed, size) if check == "compare" else None, timeout=1800)
            r["sha_ok"] = r["ok"] and (check == "compare" or r["sha256"] == expected["sha"])
            results.append(r)
            print(f"  {nic} run {i + 1}: {describe(r, size)}", flush=True)
        retrans = server.shell("grep '^Tcp:' /proc/net/snmp", 30)
        return {"nic": nic, "size": size, "client_ready_s": client_ready,
                "server_ready_s": server_ready,
                "gen_s": float(serving["gen_end"]) - float(serving["gen_start"]),
                "server_tcp": snmp(retrans), "runs": results}
    finally:
        for guest in (client, server):
            if guest:
                guest.quit()


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


def samsara_client(nic, size, intervals):
    """The experiment proper, to be written when Samsara's AF_INET sockets work. It needs:
    - a Samsara boot (tools/qemu.py system_modules(), with console=True) whose NIC is the
      same model on the same link: extra=["-netdev", lp.netdev_socket(server.port, False),
      "-device", f"{lp.NICS[nic][1]},netdev=n0,mac={lp.CLIENT_MAC},romfile="], so the
      Linux server started by lp.start_server() (listening) serves it as it serves the Linux
      client (QEMU accepts a new peer after the previous one left); inet configured as
      10.0.3.2/24 (lp.CLIENT_IP) on that interface;
    - BusyBox wget and peertool in Samsara's initramfs (EXTRA_PROGS=build/peer/peertool),
      running `wget -q -O - URL | peertool meter | sha256sum` as the Linux client does;
    - a killer in the guest: a program that asks rs to kill the network driver every T s
      (T in 1, 2, 4, 8, 15, and no kills) during the download, counting kills and printing
      rs's recovery times;
    - then the table: interval, kills, time, throughput, loss against the no-kill run,
      extra time per kill, mean and max recovery (rs's, and the meter's maxgap), the
      no-kill throughput over Linux's from the same run, and a PNG plot (matplotlib)."""
    raise NotImplementedError("the Samsara client needs Samsara's AF_INET sockets (issue 9)")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nic", default="virtio", choices=sorted(lp.NICS) + ["all"])
    ap.add_argument("--size", type=int, default=512, help="MiB (512; 64 for a quick run)")
    ap.add_argument("--runs", type=int, default=1, help="downloads per NIC by the Linux client")
    ap.add_argument("--check", default="sha256", choices=["sha256", "sha256-only", "compare"],
                    help="sha256: wget | peertool meter | sha256sum (the default); sha256-only: "
                    "wget | sha256sum; compare: wget | peertool meter SEED SIZE (compares with "
                    "the generator: no hash, so the network, not sha256, limits the rate)")
    ap.add_argument("--json", default=os.path.join(lp.PEER, "bench-net.json"))
    args = ap.parse_args()
    nics = sorted(lp.NICS) if args.nic == "all" else [args.nic]
    size = args.size << 20
    print(f"bench-net: Linux client against Linux server, {args.size} MiB checked by "
          f"{args.check}, "
          f"kernel {os.path.basename(lp.vmlinuz())}, NICs {', '.join(nics)}", flush=True)
    report, failed = [], 0
    for nic in nics:
        b = linux_baseline(nic, size, args.runs, args.check)
        report.append(b)
        failed += sum(not r["sha_ok"] for r in b["runs"])
    print()
    print(f"{'nic':8} {'run':>3} {'seconds':>8} {'MiB/s':>7} {'gap ms':>7} {'check':>6}"
          f" {'retrans':>7}")
    for b in report:
        for i, r in enumerate(b["runs"]):
            gap = f"{r['meter']['maxgap'] * 1000:.0f}" if "meter" in r else "-"
            mibs = f"{size / r['seconds'] / (1 << 20):.2f}" if r["ok"] else "-"
            print(f"{b['nic']:8} {i + 1:>3} {r['seconds']:8.2f} {mibs:>7} {gap:>7} "
                  f"{'ok' if r['sha_ok'] else 'WRONG':>6} "
                  f"{b['server_tcp'].get('RetransSegs', '?') if i == 0 else '':>7}")
    for b in report:
        print(f"({b['nic']}: client ready {b['client_ready_s']:.1f} s, server serving "
              f"{b['server_ready_s']:.1f} s after start; file made in {b['gen_s']:.1f} s; "
              f"server TCP segments out {b['server_tcp'].get('OutSegs', '?')}, retransmitted "
              f"{b['server_tcp'].get('RetransSegs', '?')} over all runs)")
    print("Samsara client: not yet (needs AF_INET sockets; tools/bench_net.py samsara_client)")
    os.makedirs(os.path.dirname(args.json), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(report, f, indent=1)
    print(f"bench-net: {'all checksums right' if not failed else f'{failed} WRONG'}; "
          f"details in {os.path.relpath(args.json)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
