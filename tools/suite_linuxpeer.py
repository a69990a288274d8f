"""The Linux peer of `make bench-net` (docs/BENCH-NET.md): a Linux client guest downloads a
4 MiB file from a Linux server guest over virtio-net on a `-netdev socket` link on 127.0.0.1
and the sha256 must match the host's; then twice more, compared in the guest with the
generator (the right seed matches, a wrong one is caught). About 12 s under TCG (two Linux
boots at once). Builds build/peer/ first (`make peer`: fetches Debian's kernel package on
first use). Called by tools/test.py as run(record, module)."""
import os
import subprocess

import linuxpeer as lp
from qemu import NICS, ROOT, Boot, run_boot

SIZE = 4 << 20
SEED = 4


def run(record, module):
    built = subprocess.run(["make", "-s", "peer"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        record("linuxpeer.build", False, built.stdout + built.stderr)
        return
    server = client = None
    try:
        server = lp.start_server("virtio", SIZE, SEED)
        client = lp.LinuxGuest("client", "virtio", server.port, False)
        lp.wait_serving(server, 120)
        client.wait_line("ready", 120)
        r = client.get(f"http://{lp.SERVER_IP}/file", meter=True, timeout=120)
        want = lp.expected_sha256(SEED, SIZE)
        ok = r["ok"] and r["sha256"] == want and r.get("meter", {}).get("bytes") == SIZE
        record("linuxpeer.download_4mib_sha256", ok,
               f"{r['seconds']:.2f} s" if ok else f"{r['line']} (want {want})",
               None if ok else client.tail() + ["--- server ---"] + server.tail())
        # The same bytes compared with the generator in the guest (bench-net's CHECK=compare);
        # a wrong seed must be caught.
        for name, seed, want_match in (("compare", SEED, 1), ("compare_catches_wrong_bytes",
                                                              SEED + 1, 0)):
            r = client.get(f"http://{lp.SERVER_IP}/file", compare=(seed, SIZE), timeout=120)
            meter = r.get("meter", {})
            ok = r["ok"] == bool(want_match) and meter.get("match") == want_match and \
                meter.get("bytes") == SIZE
            record(f"linuxpeer.download_4mib_{name}", ok,
                   f"{r['seconds']:.2f} s, match={meter.get('match')}, diff={meter.get('diff')}"
                   if ok else r["line"],
                   None if ok else client.tail())
        client.quit()
        client = None
        ping_samsara_to_linux(record, server)
    except (RuntimeError, KeyError) as e:
        record("linuxpeer.download_4mib_sha256", False, str(e))
    finally:
        for guest in (client, server):
            if guest:
                guest.quit()


def ping_samsara_to_linux(record, server):
    """A second guest for ping (issue 9): Samsara joins the Linux server's socket link once the
    Linux client has left it (QEMU's listening end accepts again), as 10.0.3.2/24, and BusyBox
    ping (a raw ICMP socket in inet) gets the Linux kernel's echo replies."""
    mods, _ = run_boot("virtio")
    mods = [f"{m} nic=virtio_net ip={lp.CLIENT_IP}/24 gw={lp.SERVER_IP}"
            if os.path.basename(m) == "inet" else m for m in mods]
    netdev = lp.netdev_socket(server.port, False)
    boot = Boot(mods, console=True, extra=["-netdev", netdev, "-device", NICS["virtio"][1]])
    try:
        out = boot.run(f"ping -c 3 {lp.SERVER_IP}; echo st=$?", timeout=60) \
            if boot.wait_prompt("# ", 60) else None
        ok = out is not None and "3 packets transmitted, 3 packets received, 0% packet loss" \
            in out and "st=0" in out
        record("linuxpeer.samsara_pings_linux", ok, "" if ok else f"printed {out!r}",
               None if ok else boot.tail())
    finally:
        boot.kill()
