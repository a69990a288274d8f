"""Networking, the driver side (docs/NET.md): nettest plays inet against each network driver on
QEMU's user networking (restricted: slirp answers ARP for 10.0.2.2 and nothing leaves the host),
reads the MAC, exchanges ARP with slirp, then has rs kill the driver again and again and checks
that traffic resumes each time; the recovery times it prints are shown. One boot per driver:
virtio_net (results net.*) and rtl8139 (net_rtl8139.*). Called by tools/test.py as
run(record, module)."""
from qemu import Boot, collect_tests, record_logged

USER_NET = ["-netdev", "user,id=n0,restrict=on"]
# The virtio transport is pinned: legacy virtio (lib/virtio), ids 1af4:1000.
VIRTIO_NET = USER_NET + ["-device", "virtio-net-pci,netdev=n0,disable-modern=on"]
# No option ROM (romfile=): nothing but our driver touches the card.
RTL8139 = USER_NET + ["-device", "rtl8139,netdev=n0,romfile="]


def run_driver(record, module, driver, extra, prefix, logged=()):
    """Boot root, ds, pci, the driver and `nettest DRIVER`; record nettest's tests as
    PREFIX.NAME and, for each (name, needle) in logged, whether the needle was printed."""
    boot = Boot([module("root"), module("ds"), module("pci"), module(driver),
                 module("nettest", driver)], extra=extra)
    try:
        collect_tests(boot, record, prefix, "nettest", timeout=180, exit_status=1,
                      printed="net.")
        for name, needle in logged:
            record_logged(record, boot, f"{prefix}.{name}", needle)
        for _, t in boot.lines:  # the measurements nettest printed (not results)
            if t.startswith("nettest: recovery") or t.startswith("nettest: 10.0.2.2"):
                print(f"  measured ({driver}) {t}", flush=True)
    finally:
        boot.kill()


def run(record, module):
    run_driver(record, module, "virtio_net", VIRTIO_NET, "net")
    # The receive ring (8 KiB) must have wrapped during net.many_frames, a frame split in two.
    run_driver(record, module, "rtl8139", RTL8139, "net_rtl8139",
               logged=[("rx_ring_wrapped", "rtl8139: a frame wrapped around the receive ring")])
