"""The pci server's driver requests (docs/PCI.md): tests/servers/pcitest with an e1000, an
rtl8139, an e1000e and a modern virtio-rng (a 64-bit BAR) on q35's bus; the BARs it was given are compared with what QEMU reports (QMP
query-pci). Then the whole system with the same NICs: /dev/pci and lspci list the bus.
Called by tools/test.py as run(record, module)."""
import json
import os
import re
import socket
import time

from qemu import Boot, collect_tests, images_named, record_logged, system_modules

# romfile= : no option ROM (SeaBIOS would run each NIC's iPXE at boot)
NICS = ["-device", "e1000,romfile=", "-device", "rtl8139,romfile="]


def qmp_query_pci(path, timeout=10):
    """QEMU's view of the bus: {(bus, slot, function): device dict} through QMP."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(path)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
    f = s.makefile("rw")
    f.readline()  # the greeting
    answers = []
    for cmd in ("qmp_capabilities", "query-pci"):
        f.write(json.dumps({"execute": cmd}) + "\n")
        f.flush()
        while True:
            msg = json.loads(f.readline())
            if "return" in msg or "error" in msg:
                answers.append(msg)
                break
    s.close()
    devs = {}
    for bus in answers[1].get("return", []):
        for d in bus["devices"]:
            devs[(d["bus"], d["slot"], d["function"])] = d
    return devs


def run(record, module):
    run_pcitest(record, module)
    run_listing(record, module)


def run_pcitest(record, module):
    with images_named(module, "pcitest", "pciother", "pcinone") as (tmp, links):
        sock = os.path.join(tmp, "qmp")
        with Boot([module("root"), module("ds"), module("pci"), module("pcitest"),
                   links[0] + " other", links[1] + " none"],
                  extra=NICS + ["-device", "e1000e,romfile=", "-device",
                               "virtio-rng-pci,disable-legacy=on", "-qmp",
                                f"unix:{sock},server=on,wait=off"]) as boot:
            check_pcitest(record, boot, sock)


def check_pcitest(record, boot, sock):
    try:
        # The firmware assigns the BARs before the kernel's first line (asked earlier, QEMU
        # shows them unassigned, -1), and pcitest reserves a function (sizing its BARs with
        # decoding off) only after root, ds and pci have started: ask in between.
        boot.wait_for(r"^Samsara kernel booting", timeout=30)
        qemu_view = qmp_query_pci(sock)
    except (OSError, ValueError) as e:
        qemu_view = None
        record("pci.qmp_query", False, f"no answer from QMP: {e}")
    collect_tests(boot, record, "pci", "pcitest", timeout=120, exit_status=1)
    text = [t for _, t in boot.lines]
    for t in text:
        if t.startswith("pcitest: "):
            print(f"  {t}", flush=True)
    # every BAR pcitest was given is the one QEMU's firmware assigned, kind and size too
    bars = [re.match(r"pcitest: bar (\w\w):(\w\w)\.(\w) (\d) (io|mem) 0x(\w+) 0x(\w+)$", t)
            for t in text if t.startswith("pcitest: bar ")]
    wrong = []
    for b in bars:
        key = (int(b.group(1), 16), int(b.group(2), 16), int(b.group(3), 16))
        regions = {r["bar"]: r for r in (qemu_view or {}).get(key, {}).get("regions", [])}
        r = regions.get(int(b.group(4)))
        if (not r or r["address"] != int(b.group(6), 16) or r["size"] != int(b.group(7), 16)
                or (r["type"] == "io") != (b.group(5) == "io")):
            wrong.append(f"{b.group(0)} (QEMU: {r})")
    ok = qemu_view is not None and len(bars) == 6 and not wrong
    record("pci.bars_match_qemu", ok, f"{len(bars)} BARs; {wrong}" if wrong else f"{len(bars)} BARs",
           None if ok else boot.tail())
    found = [re.match(r"pcitest: found (\w\w):(\w\w)\.(\w) \S+ class \w+ irq (\d+)$", t)
             for t in text if t.startswith("pcitest: found ")]
    wrong = [m.group(0) for m in found if qemu_view is None or qemu_view.get(
        (int(m.group(1), 16), int(m.group(2), 16), int(m.group(3), 16)), {}).get("irq")
        != int(m.group(4))]
    record("pci.irq_matches_qemu", len(found) == 4 and not wrong, f"{wrong}")
    # the dead driver's function was quiesced for rs, and the refusals were logged
    want = ["pci: pciother died: ", "rs: pciother: pci quiesced 1 device(s)",
            "pci: refused request 0x4903 from endpoint ",
            "a configuration field drivers may not write"]
    record_logged(record, boot, "pci.quiesce_and_refusals_logged", *want)


def run_listing(record, module):
    """The whole system with the two NICs: lspci (/dev/pci) lists every function."""
    boot = Boot(system_modules(), extra=NICS, console=True)
    try:
        ok = boot.wait_prompt("# ", 120)
        lines = boot.run("lspci", timeout=30) if ok else None
        text = "\n".join(lines or [])
        shape = re.compile(r"^\w\w:\w\w\.\w class \w\w:\w\w:\w\w \w{4}:\w{4} irq (\d+|-) owner \S+"
                           r"( bar\d (io|mem) 0x\w+(\+0x\w+)?)*$")
        rows = [t for t in (lines or []) if t.strip()]
        ok = (len(rows) >= 6 and all(shape.match(t) for t in rows) and
              re.search(r"class 02:00:00 8086:100e irq \d+ owner - bar0 mem 0x\w+ bar1 io 0x\w+",
                        text) and "10ec:8139" in text and "8086:2922" in text)
        record("pci.lspci_lists_the_bus", bool(ok), f"{len(rows)} lines",
               None if ok else boot.tail(40))
    finally:
        boot.kill()
