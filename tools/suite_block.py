"""Block devices, the driver side (docs/BLOCK.md): tests/servers/blocktest against each block
driver on a disk image this suite makes (an MBR with two good partitions, one reaching past the
disk's end and an empty one; marks at known places), then lib/bdev across driver kills. After
QEMU exits the image itself is checked: the 32 MiB blocktest wrote to partition 1 while the
driver was killed every 0.5 s must be there, byte for byte, and so must the 4 MiB written while
the device stalled and the 4 MiB written while the driver hung. The stall is made through QEMU's
monitor (stall_device). Results are named block.DRIVER.TEST (block.TEST for virtio_blk). Called by
tools/test.py as run(record, module)."""
import os
import struct
import tempfile
import threading
import time
from array import array

from qemu import (BUILD, DISK_DEFAULT, Boot, Monitor, collect_tests, disk, images_named,
                  monitor_flags, record_logged, run_boot)

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

# (driver label, QEMU flags for the disk, [(result name, a line the driver must have printed)],
# the bytes per device request: its max_transfer). virtio_blk runs on the legacy transport
# (lib/virtio, ids 1af4:1001); MODERN below boots it on the virtio 1.x one (1af4:1042).
DRIVERS = [
    ("virtio_blk", lambda img: disk(img, "virtio")[1],
     [("flush_offered", "flush yes")], 128 << 10),
    # q35's built-in ICH9 AHCI controller, the disk on port 0 (tools/qemu.py: disk), behind
    # QEMU's blkdebug: one write in the stress area fails (ahci_error_rules), the driver must
    # see the task-file error, restart the port, and lib/bdev's retry must put the data there.
    ("ahci", lambda img: disk(ahci_error_rules(img), "ahci")[1],
     [("identified", "ahci: \"QEMU HARDDISK\", 196608 sectors of 512 bytes"),
      ("hba_reset", "disk on port 0"),
      ("error_seen", "ahci: port 0: command failed"),
      ("port_restarted", "ahci: port 0 restarted after an error")], 256 << 10),
]
# (results named PREFIX.*, then as in DRIVERS): virtio_blk on the modern transport, one boot.
MODERN = [("block.virtio_modern", "virtio_blk", lambda img: disk(img, "virtio-modern")[1],
           [("transport", "at MMIO 0x"), ("flush_offered", "flush yes")], 128 << 10)]
ERROR_SECTOR = PARTITIONS[0][1] + 40000  # inside the 32 MiB the stress test writes
# What blocktest writes while the device stalls and while the driver hangs (recovery.c: STALL_AT,
# HANG_AT, HANG_BYTES, STALL_PASS, HANG_PASS): (byte in partition 1, pass).
HANG_BYTES = 4 << 20
HANG_AREAS = {"stall": (32 << 20, 0x7374616c), "hang": (36 << 20, 0x68616e67)}
# The stall: writes throttled so that one device request of max_transfer bytes, after one that
# went through, waits STALL_S seconds: past the drivers' 5 s timeout. It is lifted once the driver
# gives up (its log line, STALL_GIVEN_UP). It must end by itself: QEMU's AHCI reset waits for the
# requests in flight (blk_aio_cancel), so an endless stall (blkdebug's `break`, or 1 byte/s)
# freezes QEMU, monitor too, once the driver's successor resets the controller.
STALL_S = 8
STALL_GIVEN_UP = r"(did not finish a request|not done) in \d+ ms: exiting"
NO_LIMITS = dict(bps=0, bps_rd=0, bps_wr=0, iops=0, iops_rd=0, iops_wr=0)


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


def stress_pattern(last_pass, position=0, length=STRESS_BYTES):
    """What blocktest's stress test wrote at partition 1's start in its last pass, or pattern
    `last_pass` at byte `position` (recovery.c: pattern)."""
    mask = (1 << 64) - 1
    first = position // 8
    return array("Q", (((first + i + 1) * 0x9E3779B97F4A7C15 & mask) ^ 0x0123456789ABCDEF ^
                       last_pass for i in range(length // 8))).tobytes()


def stall_device(boot, monitor, run_bytes, seen):
    """The device stall (recovery.c: test_device_stall): when blocktest asks, throttle the disk's
    writes (QEMU's block_set_io_throttle on drive disk0) so that a request waits STALL_S seconds;
    lift it when the driver logs that it gave up. seen gets the times (s) and any error."""
    try:
        i, _ = boot.wait_for(r"blocktest: device stall: throttle the disk now", 300)
        if i is None:
            seen["error"] = "blocktest never asked for the stall"
            return
        rate = run_bytes // STALL_S
        monitor.command("block_set_io_throttle", device="disk0", **dict(NO_LIMITS, bps_wr=rate))
        start = time.monotonic()
        j, _ = boot.wait_for(STALL_GIVEN_UP, 3 * STALL_S, i)
        seen["given_up_s"] = time.monotonic() - start if j is not None else None
        monitor.command("block_set_io_throttle", device="disk0", **NO_LIMITS)
        seen["lifted_s"] = time.monotonic() - start
    except (OSError, RuntimeError) as e:
        seen["error"] = str(e)


def run_driver(record, module, driver, flags, logged, run_bytes, prefix=None):
    prefix = prefix or ("block" if driver == "virtio_blk" else f"block.{driver}")
    with tempfile.TemporaryDirectory(prefix="block-") as tmp, \
            images_named(module, "blocktest", "blockother", "blockpeer") as (_, links):
        img = os.path.join(tmp, "disk.img")
        qmp = os.path.join(tmp, "qmp.sock")
        make_image(img)
        boot = Boot([module("root"), module("ds"), module("pci"), module(driver),
                     module("blocktest", driver), links[0] + f" other {driver}",
                     links[1] + f" peer {driver}"],
                    extra=flags(img) + monitor_flags(qmp))
        seen, monitor = {}, None
        try:
            monitor = Monitor(qmp)
            staller = threading.Thread(target=stall_device, args=(boot, monitor, run_bytes, seen),
                                       daemon=True)
            staller.start()
            collect_tests(boot, record, prefix, "blocktest", timeout=120, exit_status=1,
                          printed="block.")
            staller.join(5)
            for name, needle in logged:
                record_logged(record, boot, f"{prefix}.{name}", needle)
            ok = "error" not in seen and seen.get("given_up_s") is not None
            record(f"{prefix}.stall_timeout_logged", ok,
                   seen.get("error", "") or (f"the driver gave up {seen['given_up_s']:.1f} s into "
                                             "the stall" if ok else "the driver never gave up"),
                   None if ok else boot.tail(40))
            for _, t in boot.lines:  # the measurements blocktest printed (not results)
                if t.startswith(("blocktest: recovery", "blocktest: stress", "blocktest: two",
                                 "blocktest: device stall: the", "blocktest: driver hang")):
                    print(f"  {driver}: measured {t}", flush=True)
        finally:
            boot.kill()
            if monitor:
                monitor.close()
        passes = [int(t.split()[-1]) for _, t in boot.lines
                  if t.startswith("blocktest: stress last pass ")]
        with open(img, "rb") as f:
            f.seek(PARTITIONS[0][1] * SECTOR)
            on_disk = f.read(STRESS_BYTES)
            ok = bool(passes) and on_disk == stress_pattern(passes[-1])
            record(f"{prefix}.stress_data_on_disk", ok,
                   "" if ok else "partition 1 does not hold the 32 MiB blocktest wrote")
            for what, (at, pattern_pass) in HANG_AREAS.items():
                f.seek(PARTITIONS[0][1] * SECTOR + at)
                ok = f.read(HANG_BYTES) == stress_pattern(pattern_pass, at, HANG_BYTES)
                record(f"{prefix}.{what}_data_on_disk", ok, "" if ok else
                       f"partition 1 does not hold the 4 MiB blocktest wrote at {at >> 20} MiB")


def fs_stall(record):
    """The file server on a stalled disk: the system with ext2 as root on virtio_blk (a copy of
    the default image); `sync` while the disk's writes are throttled (as for stall_device), lifted
    when the driver gives up. ext2 sits in its call to the driver all that time, answering no
    heartbeat; rs must see that it waits for a live driver and leave it alone (it used to kill it
    2 s in, and its unwritten cache with it), and the sync must finish."""
    with tempfile.TemporaryDirectory(prefix="block-fs-") as tmp:
        img, qmp = os.path.join(tmp, "disk.img"), os.path.join(tmp, "qmp.sock")
        with open(DISK_DEFAULT, "rb") as src, open(img, "wb") as dst:
            dst.write(src.read())
        mods, flags = run_boot("none", (), "ext2", "virtio", img)
        with Boot(mods, extra=flags + monitor_flags(qmp), console=True) as b:
            monitor = Monitor(qmp)
            try:
                if not b.wait_prompt("# ", 90):
                    record("block.fs.prompt", False, "no prompt", b.tail())
                    return
                start = len(b.lines)
                monitor.command("block_set_io_throttle", device="disk0",
                                **dict(NO_LIMITS, bps_wr=(128 << 10) // STALL_S))
                b.send("dd if=/dev/zero of=/stall bs=64k count=16; sync; echo synced-$?\n")
                given_up, _ = b.wait_for(STALL_GIVEN_UP, 3 * STALL_S, start)
                monitor.command("block_set_io_throttle", device="disk0", **NO_LIMITS)
                synced, _ = b.wait_for(r"^synced-0", 30, start)
                b.wait_prompt("# ", 30, start)
                log = []
                for _ in range(3):  # the log's lines, once the shell has printed them
                    log = b.run("service log", timeout=30) or []
                    if log:
                        break
            finally:
                monitor.close()
            text = "\n".join(t for _, t in b.lines[start:])
            restarted = "vfs: ext2 (mounted on /) restarted" in text
            ok = given_up is not None and synced is not None and not restarted
            record("block.fs.ext2_survives_device_stall", ok,
                   "ext2 restarted" if restarted else "" if ok else "no stall or no sync",
                   None if ok else b.tail(30))
            ok = any("ext2" in t and "silent, waiting for virtio_blk" in t for t in log) and \
                not any("ext2" in t and "failed" in t for t in log)
            record("block.fs.rs_saw_ext2_waiting", ok, "", None if ok else log[-20:] or b.tail(20))


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
    for driver, flags, logged, run_bytes in DRIVERS:
        run_driver(record, module, driver, flags, logged, run_bytes)
    for prefix, driver, flags, logged, run_bytes in MODERN:
        run_driver(record, module, driver, flags, logged, run_bytes, prefix)
    fs_stall(record)
    no_device(record)
