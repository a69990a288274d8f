"""Networking, the driver side (docs/NET.md): for each card, nettest plays inet against its
driver on QEMU's user networking (restricted: slirp answers ARP for 10.0.2.2 and nothing leaves
the host), reads the MAC, exchanges ARP with slirp, then has rs kill the driver again and again
and checks that traffic resumes each time; the recovery times it prints are shown. Results are
named net.DRIVER.TEST. Called by tools/test.py as run(record, module)."""
from qemu import Boot, collect_tests, record_logged

USER_NET = ["-netdev", "user,id=n0,restrict=on"]

# (driver label, QEMU device, [(result name, a line the driver must have printed)]). virtio_net
# runs on the legacy transport (lib/virtio, ids 1af4:1000); MODERN_CARDS below boots it on the
# virtio 1.x one. No option ROMs (romfile=): iPXE would run at boot. rtl8139's receive ring must
# have wrapped during many_frames, a frame split at its end.
CARDS = [
    ("virtio_net", "virtio-net-pci,netdev=n0,disable-modern=on", []),
    ("e1000", "e1000,netdev=n0,romfile=", []),
    ("rtl8139", "rtl8139,netdev=n0,romfile=",
     [("rx_ring_wrapped", "rtl8139: a frame wrapped around the receive ring")]),
]


# (results named net.NAME.*, driver label, QEMU device, lines): the modern transport, one boot.
MODERN_CARDS = [
    ("virtio_net_modern", "virtio_net", "virtio-net-pci,netdev=n0,disable-legacy=on",
     [("transport", "at MMIO 0x")]),
]


def run_card(record, module, driver, device, logged, name=None):
    name = name or driver
    boot = Boot([module("root"), module("ds"), module("pci"), module(driver),
                 module("nettest", driver)], extra=USER_NET + ["-device", device])
    try:
        collect_tests(boot, record, f"net.{name}", "nettest", timeout=180, exit_status=1,
                      printed="net.")
        for what, needle in logged + [("pci_restart_kept_reservation",
                                       "pci: restarted: 1 reservation(s) taken back")]:
            record_logged(record, boot, f"net.{name}.{what}", needle)
        for _, t in boot.lines:  # the measurements nettest printed (not results)
            if t.startswith("nettest: recovery") or t.startswith("nettest: 10.0.2.2"):
                print(f"  {name}: measured {t}", flush=True)
    finally:
        boot.kill()


def run(record, module):
    for driver, device, logged in CARDS:
        run_card(record, module, driver, device, logged)
    for name, driver, device, logged in MODERN_CARDS:
        run_card(record, module, driver, device, logged, name)
