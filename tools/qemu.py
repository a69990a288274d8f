"""Boot Samsara in QEMU headless under TCG and read its serial console.

Shared by tools/test.py and tools/bench.py. A Boot runs QEMU with the
kernel and a list of boot modules, collects serial lines (with host
timestamps) and waits for patterns with a deadline; QEMU leaves through
isa-debug-exit (status = (value << 1) | 1) or is killed at the deadline.
"""
import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")


# Knobs, shared with `make run` (which passes its make variables on in the environment):
# MEM (guest memory, default 512M) and QEMU_EXTRA (flags appended to QEMU's command line).
# cdrom: boot that ISO image through the firmware and its boot loader (make iso's, GRUB's)
# instead of QEMU's -kernel and -initrd; modules must then be empty.
def qemu_command(modules, icount=False, memory=None, extra=(), cdrom=None):
    memory = memory or os.environ.get("MEM") or "512M"
    cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", memory,
           "-no-reboot", "-display", "none", "-serial", "stdio", "-monitor", "none",
           "-nic", "none",  # every device explicit: q35 would add an e1000e with an iPXE ROM
           "-device", "isa-debug-exit,iobase=0x501,iosize=1"]
    if cdrom:
        assert not modules, "a CD boot's modules are the ones on the CD"
        cmd += ["-cdrom", cdrom, "-boot", "order=d"]
    else:
        cmd += ["-kernel", os.path.join(BUILD, "kernel32.elf")]
    if icount:
        cmd += ["-icount", "shift=0"]
    if modules and modules[0].split()[0].endswith("/root") and \
            not any(m.split()[0].endswith("/manifests") for m in modules):
        modules = list(modules) + [os.path.join(BUILD, "manifests")]  # what rs starts services by
    if modules:
        cmd += ["-initrd", ",".join(modules)]
    return cmd + list(extra) + os.environ.get("QEMU_EXTRA", "").split()


# The boot modules of the whole system, in start order: the one list (the Makefile asks for it
# with `python3 tools/qemu.py --system-modules [SERVICE...]`). root adds the manifests bundle
# (qemu_command). pci comes before every driver that names PCI devices: rs asks it to quiesce
# them at their death. Test services (the demo driver) are not part of it: a boot that needs one
# names it (`with_services`, `make run WITH=demo`), and it starts after pm, before the initramfs.
SYSTEM_MODULES = ["root", "ds", "pci", "ramfs", "tty", "vfs", "inet", "ipc", "pm /sbin/init",
                  "initramfs.cpio"]


# NIC=virtio|virtio-modern|e1000|rtl8139|none (make run; default RUN_NIC_DEFAULT below; virtio:
# the legacy transport; virtio-modern: the virtio 1.x transport, docs/NET.md): the network card on QEMU's user
# networking (the guest reaches the host's 127.0.0.1 as 10.0.2.2) and its driver, which joins the
# boot after pci. Tests name their cards themselves (tools/suite_net.py) and boot with -nic none.
NICS = {
    "virtio": ("virtio_net", "virtio-net-pci,netdev=n0,disable-modern=on"),
    "virtio-modern": ("virtio_net", "virtio-net-pci,netdev=n0,disable-legacy=on"),
    "e1000": ("e1000", "e1000,netdev=n0,romfile="),
    "rtl8139": ("rtl8139", "rtl8139,netdev=n0,romfile="),
    "none": (None, None),
}


def nic(name):
    """(driver module or None, QEMU flags) for NIC=name; SystemExit for an unknown name."""
    if name not in NICS:
        raise SystemExit(f"NIC={name}: choose one of {', '.join(NICS)}")
    driver, device = NICS[name]
    return driver, (["-netdev", "user,id=n0", "-device", device] if device else ["-nic", "none"])


# DISKIF=virtio|ahci: the interface a disk image is attached by, and the label of its driver.
# ahci puts the image on q35's built-in ICH9 AHCI controller (00:1f.2), port `index` (0..5);
# virtio on a legacy virtio-blk-pci device (ids 1af4:1001), virtio-modern on a virtio 1.x one
# (1af4:1042, disable-legacy=on).
DISKIFS = {
    "virtio": "virtio_blk",
    "virtio-modern": "virtio_blk",
    "ahci": "ahci",
}


def disk(image, interface="virtio", index=0, snapshot=False):
    """(driver label, QEMU flags) for a raw disk image on DISKIF=interface; SystemExit for an
    unknown interface. snapshot=True: writes go to a temporary overlay, the image stays as it is."""
    if interface not in DISKIFS:
        raise SystemExit(f"DISKIF={interface}: choose one of {', '.join(DISKIFS)}")
    drive = f"file={image},if=none,id=disk{index},format=raw" + (",snapshot=on" if snapshot else "")
    device = {"virtio": f"virtio-blk-pci,drive=disk{index},disable-modern=on",
              "virtio-modern": f"virtio-blk-pci,drive=disk{index},disable-legacy=on",
              "ahci": f"ide-hd,drive=disk{index},bus=ide.{index}"}[interface]
    return DISKIFS[interface], ["-drive", drive, "-device", device]


# The root file system (make run ROOT=ramfs|ext2; docs/FILESYSTEMS.md). ramfs: the initramfs in
# memory, as always; a disk image DISK, if given, is mounted on /mnt by the ext2 server. ext2: the
# disk image DISK (default build/disk.img, made by `make` with mke2fs from the initramfs's staging
# folder) is the root, and tmpfs, a second ramfs, is on /tmp. The disk is on DISKIF (disk()), its
# driver after pci, the ext2 server (its arguments: the driver's label) before vfs; vfs's argument
# names the root and the mounts. The default root is ROOT_DEFAULT (make run, make iso, and the
# tests' boots of make run's system, which write to a snapshot of build/disk.img); the tests'
# other boots (system_modules) keep ramfs.
ROOT_DEFAULT = "ext2"
# make iso's root when ROOT is not given: the CD boots alone (`qemu-system-x86_64 -cdrom
# samsara.iso -nographic`, no disk), so its root is the initramfs on ramfs (docs/BOOT.md).
ISO_ROOT_DEFAULT = "ramfs"
DISK_DEFAULT = os.path.join(BUILD, "disk.img")


def root_setup(root, diskif, image=None, keep=False):
    """For ROOT=root and the disk image image (None: none; ROOT=ext2 defaults to DISK_DEFAULT,
    whose writes go to a temporary overlay unless keep: only make run keeps them): (modules to
    add after pci, the other services to add before vfs, vfs's argument, QEMU flags);
    SystemExit for an unknown root."""
    if root not in ("ramfs", "ext2"):
        raise SystemExit(f"ROOT={root}: choose ramfs or ext2")
    snapshot = False
    if root == "ext2" and not image:
        image, snapshot = DISK_DEFAULT, not keep
    if not image:
        return [], [], "", []  # vfs's manifest says root=ramfs
    driver, flags = disk(os.path.abspath(image), diskif, snapshot=snapshot)
    ext2 = os.path.join(BUILD, "ext2") + " " + driver
    if root == "ramfs":
        return [os.path.join(BUILD, driver)], [ext2], "root=ramfs mount=/mnt:ext2", flags
    return ([os.path.join(BUILD, driver)], [ext2, os.path.join(BUILD, "tmpfs")],
            "root=ext2 mount=/tmp:tmpfs", flags)


def system_modules(init="/sbin/init", with_services=()):
    """The whole system: root, the services in start order (with_services after pm), the
    initramfs."""
    mods = [m if not m.startswith("pm ") else "pm " + init for m in SYSTEM_MODULES]
    mods[-1:-1] = list(with_services)
    return [os.path.join(BUILD, m) for m in mods]


class Boot:
    """One QEMU run: serial output as lines (with host timestamps) and as raw bytes; with
    console=True, QEMU's stdin (COM1's receive side) is a pipe that send() types into.
    command: a whole QEMU command line instead of Samsara's (the Linux peer, tools/linuxpeer.py)."""

    def __init__(self, modules, icount=False, extra=(), console=False, command=None, cdrom=None):
        self.lines = []          # (seconds since start, text)
        self.partial = ""        # output after the last newline (a prompt)
        self.raw = bytearray()   # every byte as it came, for checks on the wire (\r\n, echo)
        self.cond = threading.Condition()
        self.start = time.monotonic()
        self.proc = subprocess.Popen(command or qemu_command(modules, icount, extra=extra,
                                                             cdrom=cdrom),
                                     stdin=subprocess.PIPE if console else subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        buf = b""
        while True:
            chunk = self.proc.stdout.read1(4096)
            if not chunk:
                break
            buf += chunk
            with self.cond:
                self.raw += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    text = raw.decode("utf-8", "replace").replace("\r", "")
                    self.lines.append((time.monotonic() - self.start, text))
                self.partial = buf.decode("utf-8", "replace").replace("\r", "")
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def send(self, text):
        """Type text (str or bytes) on the serial console (QEMU's stdin); nothing once QEMU
        has gone."""
        try:
            self.proc.stdin.write(text.encode() if isinstance(text, str) else text)
            self.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pass

    def run(self, command, prompt="# ", timeout=30):
        """Type a shell command; wait for the next prompt; return the lines it printed.
        The terminal echoes the command, wrapped at 80 columns: skip past all of it."""
        with self.cond:
            start = len(self.lines)
        self.send(command + "\n")
        if not self.wait_prompt(prompt, timeout, after=start):
            return None
        with self.cond:
            lines = [t for _, t in self.lines[start:]]
        for i, line in enumerate(lines):
            if command[:12] not in line:
                continue
            acc = ""  # the echo starts here; it may wrap over several lines
            for j in range(i, len(lines)):
                acc += lines[j]
                if command in acc:
                    return lines[j + 1:]
        return None

    def wait_prompt(self, prompt, timeout, after=None):
        """Wait until the unfinished last line ends with prompt (e.g. '# '), with
        at least one full line printed since line index `after` (the echo)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not self.partial.endswith(prompt) or (after is not None and len(self.lines) <= after):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return False
                self.cond.wait(min(left, 0.5))
            return True

    def wait_for(self, pattern, timeout, start_index=0):
        """Index and match of the first line at or after start_index matching pattern."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start_index
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = regex.search(self.lines[i][1])
                    if m:
                        return i, m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    return None, None
                self.cond.wait(min(left, 0.5))

    def wait_exit(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.reader.join(2)

    def tail(self, n=30):
        with self.cond:
            return [t for _, t in self.lines[-n:]]


def collect_tests(boot, record, prefix, program, timeout=120, exit_status=None, printed=None,
                  answer=None):
    """Record every "TEST <printed>NAME PASS|FAIL" line an in-OS test program (lib/test) prints
    as <prefix>.NAME, then "<prefix>.suite_finished" from its final "<program>: N passed, M
    failed" line (and, if exit_status is given, QEMU's exit status). printed is "<prefix>."
    unless given (ktest prints bare names). answer = (pattern, fn): fn(match) for every line
    matching pattern (the tty suite types what ttytest asks for). A kernel panic anywhere fails
    the suite."""
    printed = f"{prefix}." if printed is None else printed
    index, names, failed = 0, set(), 0
    asks = rf"|(?P<ask>{answer[0]})" if answer else ""
    # A TEST line may follow echoed input on the same console line (the tty suite's), so it need
    # not start the line; the final count must match the TEST lines seen, so none goes missing.
    line = re.compile(rf"^(.*?TEST {re.escape(printed)}(?P<name>\S+) (?P<result>PASS|FAIL)|"
                      rf"{re.escape(program)}: (?P<passed>\d+) passed, (?P<failed>\d+) failed){asks}")
    while True:
        i, m = boot.wait_for(line.pattern, timeout=timeout, start_index=index)
        if i is None:
            record(f"{prefix}.suite_finished", False, "no final line before the deadline",
                   boot.tail(40))
            return
        index = i + 1
        if answer and m.group("ask"):
            answer[1](re.search(answer[0], m.group("ask")))
            continue
        if m.group("name"):
            names.add(m.group("name"))
            ok = m.group("result") == "PASS"
            failed += not ok
            record(f"{prefix}.{m.group('name')}", ok, tail=None if ok else boot.tail(40))
            continue
        status = boot.wait_exit(30) if exit_status is not None else exit_status
        panics = [t for _, t in boot.lines if "kernel panic" in t]
        ok = (m.group("failed") == "0" and not failed and names and not panics and
              status == exit_status)
        record(f"{prefix}.suite_finished", bool(ok),
               f"{len(names)} tests" + (f", QEMU exit status {status}" if exit_status else "")
               + (f"; {panics[0]}" if panics else ""), None if ok else boot.tail(40))
        return


@contextlib.contextmanager
def images_named(module, program, *names):
    """A temporary folder (removed afterwards) with links to program's image under other names:
    a boot module's name is its file's base name, so a link named NAME boots the image as the
    service NAME. Yields the folder and the links' paths."""
    tmp = tempfile.mkdtemp(prefix=f"{program}-")
    try:
        links = [os.path.join(tmp, name) for name in names]
        for link in links:
            os.symlink(os.path.abspath(module(program).split()[0]), link)
        yield tmp, links
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Monitor:
    """QEMU's QMP monitor on a unix socket (monitor_flags): command() sends one QMP command and
    returns its answer, hmp() one human-monitor command (e.g. `qemu-io DRIVE "..."`) and returns
    what it printed. Asynchronous events are skipped. Used by the block suite to make a disk
    stall (tools/suite_block.py)."""

    def __init__(self, path, timeout=30):
        import json
        import socket
        self.json = json
        deadline = time.monotonic() + timeout
        while True:  # QEMU makes the socket as it starts
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.settimeout(timeout)
                self.sock.connect(path)
                self.file = self.sock.makefile("rwb")
                self._answer()  # the greeting
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        self.command("qmp_capabilities")

    def _answer(self):
        while True:
            line = self.file.readline()
            if not line:
                raise OSError("QEMU closed its monitor")
            msg = self.json.loads(line)
            if "event" not in msg:
                return msg

    def command(self, name, **arguments):
        """The command's "return" value; RuntimeError with QEMU's message if it failed."""
        self.file.write(self.json.dumps({"execute": name, "arguments": arguments}).encode() + b"\n")
        self.file.flush()
        msg = self._answer()
        if "error" in msg:
            raise RuntimeError(f"QMP {name}: {msg['error'].get('desc')}")
        return msg.get("return")

    def hmp(self, line):
        return self.command("human-monitor-command", **{"command-line": line})

    def close(self):
        self.file.close()
        self.sock.close()


def monitor_flags(path):
    """QEMU flags for a QMP monitor on the unix socket path (Monitor(path) talks to it)."""
    return ["-qmp", f"unix:{path},server=on,wait=off"]


def record_logged(record, boot, name, *needles):
    """Record name as passed if every needle stands somewhere in the serial output (a server's
    refusal log lines, say)."""
    text = "\n".join(t for _, t in boot.lines)
    ok = all(n in text for n in needles)
    record(name, ok, "", None if ok else boot.tail())


def fenced(flags):
    """QEMU flags with q35's IOMMU (intel-iommu) and every modern virtio device
    (disable-legacy=on) behind it (iommu_platform=on: QEMU refuses it on legacy devices, which
    therefore bypass the IOMMU); emulated devices (e1000, rtl8139, ahci) always go through it."""
    return ["-device", "intel-iommu"] + [f + ",iommu_platform=on" if "disable-legacy=on" in f
                                         else f for f in flags]


def run_boot(nic_name="virtio", with_services=(), root=ROOT_DEFAULT, diskif="virtio",
             image=None, keep=False, iommu=False):
    """`make run`'s boot: (modules, QEMU flags) for NIC=nic_name and ROOT=root with the disk
    image on DISKIF=diskif (root_setup; keep: make run's writes to build/disk.img stay); the
    card's and the disk's drivers right after pci, the file servers before vfs; iommu: behind
    intel-iommu (fenced). The tests' boots name their own cards (legacy virtio unless said)."""
    driver, flags = nic(nic_name)
    drivers, servers, vfs_arg, disk_flags = root_setup(root, diskif, image, keep)
    if iommu:
        flags, disk_flags = fenced(flags), fenced(disk_flags)[2:]
    mods = system_modules(with_services=with_services)
    at = SYSTEM_MODULES.index("pci") + 1
    mods[at:at] = ([os.path.join(BUILD, driver)] if driver else []) + drivers
    vfs = mods.index(os.path.join(BUILD, "vfs"))
    mods[vfs] += " " + vfs_arg if vfs_arg else ""
    mods[vfs:vfs] = servers
    if root != "ramfs":
        mods.remove(os.path.join(BUILD, "ramfs"))
    return mods, flags + disk_flags


# make run's defaults (docs/IOMMU.md): the default system's DMA is fenced by q35's IOMMU, its
# virtio card and disk on the virtio 1.x transport with iommu_platform=on. IOMMU=off: no IOMMU.
RUN_NIC_DEFAULT = "virtio-modern"
RUN_DISKIF_DEFAULT = "virtio-modern"
RUN_IOMMU_DEFAULT = "on"


def run_env(iso=False, env=None):
    """make run's choices from the environment (env, default os.environ): NIC, ROOT, DISKIF, DISK,
    IOMMU (a bool); for make iso (iso) the root is ISO_ROOT_DEFAULT unless ROOT is given.
    SystemExit for a bad IOMMU."""
    env = os.environ if env is None else env
    iommu = env.get("IOMMU") or RUN_IOMMU_DEFAULT
    if iommu not in ("on", "off"):
        raise SystemExit(f"IOMMU={iommu}: choose on or off")
    return (env.get("NIC") or RUN_NIC_DEFAULT,
            env.get("ROOT") or (ISO_ROOT_DEFAULT if iso else ROOT_DEFAULT),
            env.get("DISKIF") or RUN_DISKIF_DEFAULT, env.get("DISK") or None, iommu == "on")


def make_run_boot(with_services=(), iso=False, keep=False, env=None):
    """`make run`'s boot exactly (make iso's with iso): (modules, QEMU flags) for NIC, ROOT,
    DISKIF, DISK, IOMMU (from env, default the environment; {}: make run's defaults) and WITH,
    the manifests bundle last; keep: the writes to build/disk.img stay (make run), else they go
    to a snapshot (the tests)."""
    nic_name, root, diskif, image, iommu = run_env(iso, env)
    mods, flags = run_boot(nic_name, with_services, root, diskif, image, keep, iommu)
    return mods + [os.path.join(BUILD, "manifests")], flags


def make_run_modules(with_services=(), iso=False):
    """`make run`'s modules (make_run_boot): what -initrd gets; with iso, what make iso puts on
    the CD."""
    return make_run_boot(with_services, iso)[0]


ISO_DIR = "/boot/samsara"  # where make iso puts the kernel and the modules on the CD


def grub_cfg(modules):
    """make iso's grub.cfg (docs/BOOT.md): GRUB on the serial line and the screen, no menu wait,
    the kernel by Multiboot (v1) and each module with the command line QEMU's -initrd gives it:
    the file's path, then its arguments (GRUB 2's `module` passes only the words after the
    file, and the kernel names a module by the base name of its line's first word)."""
    lines = ["serial --unit=0 --speed=115200", "terminal_input serial console",
             "terminal_output serial console", "set timeout=0", "set default=0",
             "menuentry Samsara {", f"  multiboot {ISO_DIR}/kernel32.elf"]
    names = set()
    for m in modules:
        path, _, args = m.partition(" ")
        name = os.path.basename(path)
        if name in names:
            raise SystemExit(f"make iso: two boot modules named {name}")
        names.add(name)
        if re.search(r"[^\w./=,:+ -]", args):  # GRUB's shell would read quotes, $ and ;
            raise SystemExit(f"make iso: {name}'s arguments need quoting for GRUB: {args}")
        lines.append(f"  module {ISO_DIR}/{name} {ISO_DIR}/{name} {args}".rstrip())
    return "\n".join(lines + ["}"]) + "\n"


if __name__ == "__main__" and sys.argv[1:2] == ["--system-modules"]:
    print(",".join(make_run_modules(sys.argv[2:])))
if __name__ == "__main__" and sys.argv[1:2] == ["--iso-modules"]:
    print(",".join(make_run_modules(sys.argv[2:], iso=True)))
if __name__ == "__main__" and sys.argv[1:2] == ["--grub-cfg"]:
    print(grub_cfg(make_run_modules(sys.argv[2:], iso=True)), end="")
if __name__ == "__main__" and sys.argv[1:2] == ["--nic-flags"]:
    print(" ".join(nic(os.environ.get("NIC") or RUN_NIC_DEFAULT)[1]))
if __name__ == "__main__" and sys.argv[1:3] in (["--run-flags"], ["--run-flags", "iso"]):
    # the IOMMU, the card's and the disk's flags
    print(" ".join(make_run_boot(iso=sys.argv[2:3] == ["iso"], keep=True)[1]))
