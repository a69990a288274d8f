"""Networking, the driver side (docs/NET.md): nettest plays inet against virtio_net on QEMU's
user networking (restricted: slirp answers ARP for 10.0.2.2 and nothing leaves the host),
reads the MAC, exchanges ARP with slirp, then has rs kill the driver again and again and checks
that traffic resumes each time; the recovery times it prints are shown. Called by
tools/test.py as run(record, module)."""
from qemu import Boot, collect_tests

# The transport is pinned: legacy virtio (lib/virtio), ids 1af4:1000.
VIRTIO_NET = ["-netdev", "user,id=n0,restrict=on",
              "-device", "virtio-net-pci,netdev=n0,disable-modern=on"]


def run(record, module):
    boot = Boot([module("root"), module("ds"), module("pci"), module("virtio_net"),
                 module("nettest")], extra=VIRTIO_NET)
    try:
        collect_tests(boot, record, "net", "nettest", timeout=120, exit_status=1)
        for _, t in boot.lines:  # the measurements nettest printed (not results)
            if t.startswith("nettest: recovery") or t.startswith("nettest: 10.0.2.2"):
                print(f"  measured {t}", flush=True)
    finally:
        boot.kill()
