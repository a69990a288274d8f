"""Block devices, the driver side (docs/BLOCK.md): tests/servers/blocktest against each block
driver on a disk image this suite makes (an MBR with two good partitions, one reaching past the
disk's end and an empty one; marks at known places), then lib/bdev across driver kills. After
QEMU exits the image itself is checked: the 32 MiB blocktest wrote to partition 1 while the
driver was killed every 0.5 s must be there, byte for byte. Results are named block.DRIVER.TEST
(block.TEST for virtio_blk). Called by tools/test.py as run(record, module)."""
import os
import struct
import tempfile
from array import array

from qemu import BUILD, Boot, collect_tests, disk, images_named, record_logged, run_boot

# The layout blocktest expects (tests/servers/blocktest/blocktest.h).
SECTOR = 512
DISK_SIZE = 96 << 20
PARTITIONS = [  # (type, first sector, sectors)
    (0x83, 2048, 81920),      # minor 1: 40 MiB
    (0x83, 83968, 16384),     # minor 2: 8 MiB
    (0x83, 190000, 10000),    # reaches past the disk's end (196608 sectors): ignored
    (0x00, 0, 0),             # empty
]
DISK_MARK = b"blocktest disk"
PART2_MARK = b"blocktest part2"
STRESS_BYTES = 32 << 20

# (driver label, QEMU flags for the disk, [(result name, a line the driver must have printed)]).
# virtio's transport is pinned: legacy virtio (lib/virtio), ids 1af4:1001.
DRIVERS = [
    ("virtio_blk", lambda img: disk(img, "virtio")[1],
     [("flush_offered", "flush yes")]),
    # q35's built-in ICH9 AHCI controller, the disk on port 0 (tools/qemu.py: disk), behind
    # QEMU's blkdebug: one write in the stress area fails (ahci_error_rules), the driver must
    # see the task-file error, restart the port, and lib/bdev's retry must put the data there.
    ("ahci", lambda img: disk(ahci_error_rules(img), "ahci")[1],
     [("identified", "ahci: \"QEMU HARDDISK\", 196608 sectors of 512 bytes"),
      ("hba_reset", "disk on port 0"),
      ("error_seen", "ahci: port 0: command failed"),
      ("port_restarted", "ahci: port 0 restarted after an error")]),
]
ERROR_SECTOR = PARTITIONS[0][1] + 40000  # inside the 32 MiB the stress test writes


def ahci_error_rules(img):
    """A blkdebug rule file beside img failing the first write that touches ERROR_SECTOR with
    EIO; the drive name that reads img through it."""
    rules = os.path.join(os.path.dirname(img), "blkdebug.conf")
    with open(rules, "w") as f:
        f.write(f'[inject-error]\nevent = "write_aio"\nerrno = "5"\nsector = "{ERROR_SECTOR}"\n'
                'once = "on"\n')
    return f"blkdebug:{rules}:{img}"


def make_image(path):
    """A sparse DISK_SIZE-byte image with the partition table and the marks."""
    mbr = bytearray(SECTOR)
    for i, (ptype, first, count) in enumerate(PARTITIONS):
        mbr[446 + 16 * i:446 + 16 * (i + 1)] = struct.pack("<B3sB3sII", 0, b"\0\0\0", ptype,
                                                           b"\0\0\0", first, count)
    mbr[510:512] = b"\x55\xaa"
    with open(path, "wb") as f:
        f.truncate(DISK_SIZE)
        f.write(mbr)
        f.write(DISK_MARK)
        f.seek(PARTITIONS[1][1] * SECTOR)
        f.write(PART2_MARK)


def stress_pattern(last_pass):
    """What blocktest's stress test wrote at partition 1's start in its last pass (recovery.c:
    pattern)."""
    mask = (1 << 64) - 1
    return array("Q", (((i + 1) * 0x9E3779B97F4A7C15 & mask) ^ 0x0123456789ABCDEF ^ last_pass
                       for i in range(STRESS_BYTES // 8))).tobytes()


def run_driver(record, module, driver, flags, logged):
    prefix = "block" if driver == "virtio_blk" else f"block.{driver}"
    with tempfile.TemporaryDirectory(prefix="block-") as tmp, \
            images_named(module, "blocktest", "blockother", "blockpeer") as (_, links):
        img = os.path.join(tmp, "disk.img")
        make_image(img)
        boot = Boot([module("root"), module("ds"), module("pci"), module(driver),
                     module("blocktest", driver), links[0] + f" other {driver}",
                     links[1] + f" peer {driver}"],
                    extra=flags(img))
        try:
            collect_tests(boot, record, prefix, "blocktest", timeout=120, exit_status=1,
                          printed="block.")
            for name, needle in logged:
                record_logged(record, boot, f"{prefix}.{name}", needle)
            for _, t in boot.lines:  # the measurements blocktest printed (not results)
                if t.startswith(("blocktest: recovery", "blocktest: stress", "blocktest: two")):
                    print(f"  {driver}: measured {t}", flush=True)
        finally:
            boot.kill()
        passes = [int(t.split()[-1]) for _, t in boot.lines
                  if t.startswith("blocktest: stress last pass ")]
        with open(img, "rb") as f:
            f.seek(PARTITIONS[0][1] * SECTOR)
            on_disk = f.read(STRESS_BYTES)
        ok = bool(passes) and on_disk == stress_pattern(passes[-1])
        record(f"{prefix}.stress_data_on_disk", ok,
               "" if ok else "partition 1 does not hold the 32 MiB blocktest wrote")


def no_device(record):
    """make run's ROOT=ramfs boot with both disk drivers and no disk (q35's AHCI controller has
    no drive; no virtio-blk device): each says once that it has no device and exits with
    ROOT_EXIT_NO_DEVICE, rs leaves it down (no restart loop), and the shell still answers."""
    mods, flags = run_boot("none", (), "ramfs")
    at = mods.index(os.path.join(BUILD, "pci")) + 1
    mods[at:at] = [os.path.join(BUILD, "virtio_blk"), os.path.join(BUILD, "ahci")]
    with Boot(mods, extra=flags, console=True) as b:
        ok = b.wait_prompt("# ", 60)
        record("block.no_device.prompt", ok, "", None if ok else b.tail())
        if not ok:
            return
        out = b.run("sleep 3; service list | grep -E '^(virtio_blk|ahci) '", "# ", 30) or []
        lines = [t for _, t in b.lines]
        for driver, said in (("virtio_blk", "virtio_blk: no device: the pci server found none"),
                             ("ahci", "ahci: no disk on any of the ports")):
            count = lambda text: sum(text in t for t in lines)  # noqa: E731
            starts = (count(said), count(f"{driver}: no device to drive: exiting"),
                      count(f"rs: service {driver} is down: it found no device to drive"))
            state = next((o.split() for o in out if o.startswith(driver + " ")), [])
            ok = starts == (1, 1, 1) and len(state) > 2 and state[2] == "down"
            record(f"block.no_device.{driver}_gives_up_once", ok,
                   f"logged (no device, exit, rs down) {starts} times; service list: {state}",
                   None if ok else b.tail())
        out = b.run("echo alive", "# ", 10)
        record("block.no_device.system_runs", out == ["alive"], f"{out!r}")


def run(record, module):
    for driver, flags, logged in DRIVERS:
        run_driver(record, module, driver, flags, logged)
    no_device(record)
