"""DMA fenced by the IOMMU (docs/IOMMU.md): q35 with -device intel-iommu, the system on an
ext2 disk behind ahci and an e1000 (both translated by QEMU's VT-d), plus QEMU's edu device and
tests/drivers/baddma, a malicious driver that points edu's DMA engine at the kernel's image.
With the IOMMU: the normal workload (a download checked by sha256, a file written and read
back) works, baddma's own DMA works, its write into the kernel is blocked, logged and kills it,
rs starts the next instance, and the kernel's bytes are unchanged (read by the host through
QMP); that instance's write into the first one's freed DMA memory is blocked too. Without the IOMMU (the same driver, a minimal boot): the write lands, and nothing notices.
virtio through the IOMMU: virtio-net and virtio-blk on the modern transport (disable-legacy=on)
with iommu_platform=on, the root on the virtio disk: the drivers agree on ACCESS_PLATFORM and the
same workload works; and the modern transport without an IOMMU. Last, ktest's devpriv_iommu_regs
alone behind intel-iommu: the IOMMU's register page is never a device range.
Called by tools/test.py as run(record, module)."""
import hashlib
import os
import re
import tempfile

from qemu import BUILD, Boot, Monitor, monitor_flags, run_boot
from suite_wget import serve

TARGET = 0x100000  # baddma's target: the kernel image's first bytes (its Multiboot header)
MAGIC = "0x1badb002"
PATTERN = "0x21414d44"  # "DMA!" as a little-endian word
FAULT = re.compile(r"kernel: iommu: DMA fault: device \S+ \(baddma\) wrote 100000, reason \d+: killed")


def kernel_word(mon, addr=TARGET):
    """The word at physical addr, as QEMU's monitor prints it (e.g. 0x1badb002)."""
    out = mon.hmp(f"xp /1xw {addr:#x}")
    return out.split(":")[-1].strip()


def logged(boot, pattern, timeout=30):
    return boot.wait_for(pattern, timeout)[0] is not None


def freed_memory_unmapped(record, boot, mon):
    """The second instance aims at the first's DMA memory, freed after its death: the binding
    went before the frames did, so the write faults and the third instance starts."""
    _, m = boot.wait_for(r"baddma: writing 64 bytes at physical 0x(\w+) \(the last instance", 30)
    addr = m and m.group(1)
    fault = addr and logged(boot, r"\(baddma\) wrote %s, reason \d+: killed" % addr)
    third = fault and logged(boot, r"baddma: instance 2: own memory ok")
    word = kernel_word(mon, int(addr, 16)) if addr else None
    ok = bool(third) and word != PATTERN
    record("iommu.dead_instance_memory_unmapped", ok, f"word at {addr}: {word}",
           None if ok else boot.tail())


def with_iommu(record, module, tmp):
    data = os.urandom(256 * 1024)
    want = hashlib.sha256(data).hexdigest()
    httpd = serve(data)
    sock = os.path.join(tmp, "qmp")
    mods, flags = run_boot("e1000", with_services=[os.path.join(BUILD, "baddma")], root="ext2",
                           diskif="ahci")
    flags = [f.replace("user,id=n0", "user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-tcp:"
                       f"127.0.0.1:{httpd.server_address[1]}") for f in flags]
    extra = ["-device", "intel-iommu", "-device", "edu"] + flags + monitor_flags(sock)
    try:
        with Boot(mods, extra=extra, console=True) as boot:
            mon = Monitor(sock)
            on = logged(boot, r"iommu: VT-d at \w+: DMA remapping on")
            record("iommu.remapping_on", on, "", None if on else boot.tail())
            own = logged(boot, r"baddma: instance 0: own memory ok")
            record("iommu.own_dma_reaches_own_memory", own, "", None if own else boot.tail())
            blocked = logged(boot, FAULT.pattern)
            record("iommu.dma_into_kernel_blocked_logged_killed", blocked, "",
                   None if blocked else boot.tail())
            again = logged(boot, r"baddma: instance 1: own memory ok")
            text = "\n".join(t for _, t in boot.lines)
            ok = again and "nothing stopped it" not in text
            record("iommu.driver_replaced", ok, "", None if ok else boot.tail())
            word = kernel_word(mon)
            record("iommu.kernel_intact", word == MAGIC, f"word at {TARGET:#x}: {word}")
            freed_memory_unmapped(record, boot, mon)
            ok, out = workload(boot, want)
            record("iommu.workload_through_the_iommu", ok, "", None if ok else [out] + boot.tail())
            log = "\n".join(boot.run("service log", timeout=30) or [])
            ok = "died: DMA blocked at 100000 (IOMMU)" in log
            record("iommu.rs_records_the_dma_failure", ok, "", None if ok else [log])
            mon.close()
    finally:
        httpd.shutdown()


def without_iommu(record, module, tmp):
    sock = os.path.join(tmp, "qmp0")
    mods = [module("root"), module("ds"), module("pci"), module("baddma")]
    with Boot(mods, extra=["-device", "edu"] + monitor_flags(sock)) as boot:
        mon = Monitor(sock)
        before = kernel_word(mon)
        landed = logged(boot, r"nothing stopped it")
        after = kernel_word(mon)
        ok = before == MAGIC and landed and after == PATTERN
        record("iommu.without_iommu_the_write_lands", ok, f"word at {TARGET:#x}: {before} -> "
               f"{after}", None if ok else boot.tail())
        mon.close()


def workload(boot, want):
    """A download checked by sha256 and a file written to the root disk and compared: the
    output, and whether both worked."""
    ready = boot.wait_prompt("# ", 90)
    out = boot.run("wget -q -O - http://10.0.2.100/file | sha256sum; "
                   "cp /bin/busybox /root/f && sync && cmp /bin/busybox /root/f && echo same",
                   timeout=120) if ready else None
    out = "\n".join(out or [])
    return want in out and "same" in out.split(), out


def virtio_modern(record, iommu):
    """virtio-net and virtio-blk on the virtio 1.x transport (the root on the disk): with
    iommu_platform=on behind intel-iommu (both agree on VIRTIO_F_ACCESS_PLATFORM, their DMA
    translated), or without an IOMMU."""
    data = os.urandom(256 * 1024)
    want = hashlib.sha256(data).hexdigest()
    httpd = serve(data)
    mods, flags = run_boot("virtio-modern", root="ext2", diskif="virtio-modern", iommu=iommu)
    fwd = f"user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:{httpd.server_address[1]}"
    flags = [f.replace("user,id=n0", fwd) for f in flags]
    how = "(virtio 1.x, IOMMU platform)" if iommu else "(virtio 1.x)"
    name = "iommu.virtio_modern_" + ("through_the_iommu" if iommu else "without_iommu")
    try:
        with Boot(mods, extra=flags, console=True) as boot:
            ok, out = workload(boot, want)
            text = "\n".join(t for _, t in boot.lines)
            bound = all(re.search(r"%s: .* at MMIO 0x\w+ %s" % (drv, re.escape(how)), text)
                        for drv in ("virtio_net", "virtio_blk"))
            on = not iommu or "DMA remapping on" in text
            fault = "DMA fault" in text
            ok = ok and bound and on and not fault
            record(name, ok, "", None if ok else [out] + boot.tail())
    finally:
        httpd.shutdown()


VIRTIO_PATTERN = "0x54524956"  # "VIRT": the first word of badvirtio's disk, little-endian


def bad_virtio(record, module, tmp, iommu):
    """tests/drivers/badvirtio on a modern virtio disk of "VIRTIO!!" patterns: its first instance
    asks the disk to read a sector into the kernel's image. With iommu_platform=on behind
    intel-iommu: blocked, logged, the driver killed and replaced, the kernel's word unchanged;
    without an IOMMU the sector lands."""
    img = os.path.join(tmp, "badvirtio.img")
    with open(img, "wb") as f:
        f.write(b"VIRTIO!!" * 8192)
    sock = os.path.join(tmp, "qmpv%d" % iommu)
    dev = "virtio-blk-pci,drive=d0,disable-legacy=on" + (",iommu_platform=on" if iommu else "")
    extra = (["-device", "intel-iommu"] if iommu else []) + [
        "-drive", f"file={img},if=none,id=d0,format=raw", "-device", dev] + monitor_flags(sock)
    mods = [module("root"), module("ds"), module("pci"), module("badvirtio")]
    with Boot(mods, extra=extra) as boot:
        mon = Monitor(sock)
        before = kernel_word(mon)
        own = logged(boot, r"badvirtio: instance 0 \(virtio 1.x%s\): own memory ok \(VIRTIO!!\)"
                     % (", IOMMU platform" if iommu else ""))
        if iommu:
            blocked = own and logged(boot, r"kernel: iommu: DMA fault: device \S+ \(badvirtio\) "
                                     r"wrote 100000, reason \d+: killed")
            again = blocked and logged(boot, r"badvirtio: instance 1 .*own memory ok")
            text = "\n".join(t for _, t in boot.lines)
            after = kernel_word(mon)
            ok = before == MAGIC and bool(again) and "nothing stopped it" not in text and after == MAGIC
            record("iommu.virtio_dma_into_kernel_blocked", ok, f"word at {TARGET:#x}: {before} -> "
                   f"{after}", None if ok else boot.tail())
        else:
            landed = own and logged(boot, r"badvirtio: still alive after the read \(done\)")
            after = kernel_word(mon)
            ok = before == MAGIC and bool(landed) and after == VIRTIO_PATTERN
            record("iommu.virtio_without_iommu_the_read_lands", ok, f"word at {TARGET:#x}: "
                   f"{before} -> {after}", None if ok else boot.tail())
        mon.close()


def run(record, module):
    with tempfile.TemporaryDirectory(prefix="iommu-") as tmp:
        without_iommu(record, module, tmp)
        with_iommu(record, module, tmp)
        bad_virtio(record, module, tmp, True)
        bad_virtio(record, module, tmp, False)
    virtio_modern(record, True)
    virtio_modern(record, False)
    iommu_regs_never_granted(record, module)


def iommu_regs_never_granted(record, module):
    """ktest's devpriv_iommu_regs alone behind intel-iommu: KC_PRIV_DEVICE refuses the IOMMU's
    register page as a device range (a lying BAR there gave its driver the fence's switch)."""
    with Boot([module("root"), module("ktest", "exit only=devpriv_iommu_regs")],
              extra=["-device", "intel-iommu"]) as boot:
        i, m = boot.wait_for(r"TEST devpriv_iommu_regs (PASS|FAIL)", 120)
        saw = boot.wait_for(r"devpriv_iommu_regs: an IOMMU", 1)[0] is not None
        record("iommu.regs_never_a_device_range", i is not None and m.group(1) == "PASS" and saw,
               f"IOMMU seen: {saw}", boot.tail(20))
