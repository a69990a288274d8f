"""The Linux peer of `make bench-net` (docs/BENCH-NET.md): a Linux client guest downloads a
4 MiB file from a Linux server guest over virtio-net on a `-netdev socket` link on 127.0.0.1
and the sha256 must match the host's. About 15 s under TCG (two Linux boots at once). Builds
build/peer/ first (`make peer`: fetches Debian's kernel package on first use). Called by
tools/test.py as run(record, module)."""
import subprocess

import linuxpeer as lp
from qemu import ROOT

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
    except RuntimeError as e:
        record("linuxpeer.download_4mib_sha256", False, str(e))
    finally:
        for guest in (client, server):
            if guest:
                guest.quit()
