#!/usr/bin/env python3
"""The Linux peer guest of the wget experiment (docs/BENCH-NET.md).

Debian's own kernel (third_party/linux, unpacked by tools/fetch-linux.sh) boots in QEMU
with a small initramfs built here: Samsara's static BusyBox, peertool (tools/peer/), the
NIC's kernel modules copied from the unpacked package in dependency order, and
tools/peer/init. Guests are joined by `-netdev socket` on 127.0.0.1 only (one listens,
the other connects); no user-mode networking. A LinuxGuest is a tools/qemu.py Boot
driven through its serial console (the init's "peer: ..." command protocol).

Usage: tools/linuxpeer.py initramfs OUT.cpio   (make's rule for build/peer/initramfs.cpio)
"""
import glob
import os
import re
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, ROOT, Boot  # noqa: E402
from qemu import disk as qemu_disk  # noqa: E402

LINUX = os.path.join(ROOT, "third_party", "linux")
PEER = os.path.join(BUILD, "peer")
INITRAMFS = os.path.join(PEER, "initramfs.cpio")
PEERTOOL = os.path.join(PEER, "peertool")
BUSYBOX = os.path.join(BUILD, "busybox", "busybox")
APPLETS = os.path.join(BUILD, "busybox", "applets.txt")
INIT = os.path.join(ROOT, "tools", "peer", "init")
BENCH_DISK = os.path.join(ROOT, "tools", "peer", "bench-disk")

# NIC name -> (the modules to insmod, their dependencies first; QEMU's -device model).
# virtio is pinned to the legacy transport as Samsara's lib/virtio is (1af4:1000);
# rtl8139: QEMU's card is an RTL8139C+ (revision 0x20), which Linux's classic-mode 8139too
# refuses ("use the 8139cp driver"): 8139cp runs it in C+ mode (descriptor rings).
NICS = {
    "virtio": (["virtio_pci", "virtio_net"], "virtio-net-pci,disable-modern=on"),
    "e1000": (["e1000"], "e1000"),
    "rtl8139": (["8139cp"], "rtl8139"),
}
# make bench-disk (docs/BENCH-DISK.md): the disk interface's modules, and the file system's.
# Debian's kernel has no ext2 driver (CONFIG_EXT2_FS is not set): with CONFIG_EXT4_USE_FOR_EXT2=y
# ext4's registers the type ext2 and mounts the image (the kernel logs "mounting ext2 file system
# using the ext4 subsystem"); ext4 wants the crc32c hash at mount even without metadata
# checksums (its .modinfo: softdep pre: crypto-crc32c), crc32c_generic here.
DISKS = {
    "virtio": ["virtio_pci", "virtio_blk"],
    "ahci": ["ahci", "sd_mod"],
}
DISK_FS = ["crc32c_generic", "ext4"]
SERVER_IP, CLIENT_IP = "10.0.3.1", "10.0.3.2"
SERVER_MAC, CLIENT_MAC = "52:54:00:00:03:01", "52:54:00:00:03:02"


def vmlinuz():
    found = sorted(glob.glob(os.path.join(LINUX, "boot", "vmlinuz-*")))
    if not found:
        sys.exit("linuxpeer: no third_party/linux/boot/vmlinuz-*: run tools/fetch-linux.sh")
    return found[-1]


def modinfo(path):
    """The key=value strings of a module's .modinfo section (ELF64 little-endian)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        raise ValueError(f"{path}: not an ELF64 module")
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)

    def section(i):  # (name offset, file offset, size)
        base = shoff + i * shentsize
        name, = struct.unpack_from("<I", data, base)
        off, size = struct.unpack_from("<QQ", data, base + 0x18)
        return name, off, size

    _, stroff, _ = section(shstrndx)
    for i in range(shnum):
        name, off, size = section(i)
        end = data.index(b"\0", stroff + name)
        if data[stroff + name:end] == b".modinfo":
            pairs = (s.split(b"=", 1) for s in data[off:off + size].split(b"\0") if b"=" in s)
            info = {}
            for k, v in pairs:
                info.setdefault(k.decode(), []).append(v.decode())
            return info
    return {}


def module_paths():
    """Module name (dashes as underscores, as the kernel names them) -> .ko path."""
    paths = {}
    for path in glob.glob(os.path.join(LINUX, "lib", "modules", "*", "kernel", "**", "*.ko"),
                          recursive=True):
        paths[os.path.basename(path)[:-3].replace("-", "_")] = path
    return paths


def load_order(roots, paths):
    """The modules roots need, each after its dependencies."""
    order, seen = [], set()

    def visit(name):
        if name in seen:
            return
        seen.add(name)
        if name not in paths:
            raise KeyError(f"module {name} is not in the kernel package")
        for dep in modinfo(paths[name]).get("depends", [""])[0].split(","):
            if dep:
                visit(dep.replace("-", "_"))
        order.append(name)

    for r in roots:
        visit(r)
    return order


class Cpio:
    """A newc archive, owner root, time stamps 0 (reproducible)."""

    def __init__(self):
        self.out = bytearray()
        self.ino = 0

    def add(self, name, mode, data=b"", rdev=(0, 0)):
        self.ino += 1
        fields = [self.ino, mode, 0, 0, 2 if mode & 0o040000 else 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(name) + 1, 0]
        self.out += b"070701" + b"".join(b"%08X" % f for f in fields) + name.encode() + b"\0"
        self.out += b"\0" * (-len(self.out) % 4) + data
        self.out += b"\0" * (-len(self.out) % 4)

    def dir(self, name):
        self.add(name, 0o040755)

    def file(self, name, path, mode=0o100755):
        with open(path, "rb") as f:
            self.add(name, mode, f.read())

    def close(self):
        self.add("TRAILER!!!", 0)
        return bytes(self.out)


def build_initramfs(out):
    paths = module_paths()
    cpio = Cpio()
    for d in ("bin", "dev", "proc", "sys", "srv", "tmp", "lib", "lib/modules", "lib/peer"):
        cpio.dir(d)
    cpio.add("dev/console", 0o020600, rdev=(5, 1))  # init's stdio, before devtmpfs is mounted
    cpio.file("init", INIT)
    cpio.file("bin/busybox", BUSYBOX)
    cpio.file("bin/peertool", PEERTOOL)
    cpio.file("bin/bench-disk", BENCH_DISK)
    with open(APPLETS) as f:
        for applet in f.read().split():
            if applet != "busybox":
                cpio.add("bin/" + applet, 0o120777, b"busybox")
    modules = set()
    lists = {nic: roots for nic, (roots, _) in NICS.items()}
    lists.update({f"disk-{name}": roots for name, roots in DISKS.items()}, ext4=DISK_FS)
    for name, roots in sorted(lists.items()):
        order = load_order(roots, paths)
        modules.update(order)
        cpio.add(f"lib/peer/{name}.order", 0o100644, ("\n".join(order) + "\n").encode())
    for name in sorted(modules):
        cpio.file(f"lib/modules/{name}.ko", paths[name], 0o100644)
    data = cpio.close()
    with open(out + ".tmp", "wb") as f:
        f.write(data)
    os.replace(out + ".tmp", out)


def client_with(files, tmp, memory="1G", extra=()):
    """A client LinuxGuest (its socket listening, no peer) whose initramfs is the peer's with
    files ({path in the guest: path on the host}) appended as a second cpio archive (Linux
    unpacks both), written in tmp."""
    global INITRAMFS
    cpio = Cpio()
    for name, path in files.items():
        cpio.file(name, path)
    initrd = os.path.join(tmp, "peer-with.cpio")
    with open(initrd, "wb") as f, open(INITRAMFS, "rb") as base:
        f.write(base.read())
        f.write(cpio.close())
    saved, INITRAMFS = INITRAMFS, initrd  # LinuxGuest reads it when it starts QEMU
    try:
        return LinuxGuest("client", "virtio", free_port(), True, memory=memory, extra=extra)
    finally:
        INITRAMFS = saved


def free_port():
    """A TCP port on 127.0.0.1 nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def listening(port, pid):
    """Whether process pid listens on 127.0.0.1:port: the LISTEN socket of /proc/net/tcp is
    one of its descriptors (connecting to QEMU's listening socket to find out would make us
    its peer, and another process may hold the port)."""
    want = f"0100007F:{port:04X}"
    with open("/proc/net/tcp") as f:
        inodes = {f"socket:[{c[9]}]" for c in (line.split() for line in f.readlines()[1:])
                  if c[1] == want and c[3] == "0A"}
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            pass
    return False


def netdev_socket(port, listen):
    """QEMU's -netdev socket on the host's loopback only."""
    return f"socket,id=n0,{'listen' if listen else 'connect'}=127.0.0.1:{port}"


class LinuxGuest(Boot):
    """A Linux peer: role "server" (serves /file, `peertool gen SEED BYTES`), "client", or
    "disk" (`make bench-disk`: disk = (IMAGE, INTERFACE), mounted at /mnt; no network)."""

    def __init__(self, role, nic, port, listen, memory="1G", seed=1, size=0, disk=None, extra=()):
        append = f"console=ttyS0 panic=-1 quiet peer_role={role}"
        cmd = ["qemu-system-x86_64", "-machine", "q35", "-accel", "tcg", "-m", memory,
               "-no-reboot", "-display", "none", "-serial", "stdio", "-monitor", "none",
               "-nic", "none", "-kernel", vmlinuz(), "-initrd", INITRAMFS]
        if disk:
            append += f" peer_disk={disk[1]}"
            cmd += qemu_disk(*disk)[1]
        else:
            ip, mac = (SERVER_IP, SERVER_MAC) if role == "server" else (CLIENT_IP, CLIENT_MAC)
            append += (f" peer_nic={nic} peer_ip={ip} peer_seed={seed} peer_bytes={size}")
            cmd += ["-netdev", netdev_socket(port, listen),
                    "-device", f"{NICS[nic][1]},netdev=n0,mac={mac},romfile="]
        self.role = role
        super().__init__([], console=True, command=cmd + list(extra) + ["-append", append])

    def wait_line(self, pattern, timeout, start=0):
        """The match of the first "peer: ..." line matching pattern at or after line index
        start, and the index after it; an error line or QEMU's exit raises."""
        i, m = self.wait_for(rf"^peer: (?:error|{pattern})", timeout, start_index=start)
        if i is None:
            raise RuntimeError(f"{self.role}: no '{pattern}' within {timeout} s; last lines:\n  "
                               + "\n  ".join(self.tail(15)))
        if m.group(0).startswith("peer: error"):
            raise RuntimeError(f"{self.role}: {m.group(0)}")
        return m, i + 1

    def command(self, text, pattern, timeout):
        """Type a command; return the match of its answer (after the following prompt)."""
        with self.cond:
            start = len(self.lines)
        self.send(text + "\n")
        m, after = self.wait_line(pattern, timeout, start)
        self.wait_line("ready", timeout, after)
        return m

    def shell(self, text, timeout=30):
        """Run a shell command in the guest; the lines it printed."""
        with self.cond:
            start = len(self.lines)
        self.send(f"run {text}\n")
        _, after = self.wait_line(r"rc=\d+", timeout, start)
        self.wait_line("ready", timeout, after)
        with self.cond:
            return [t for _, t in self.lines[start:after - 1]]

    def get(self, url, meter=False, compare=None, timeout=600):
        """Download url in the guest; a dict: ok (the pipe succeeded: with compare, the bytes
        matched), seconds (guest clock), sha256 (None with compare), line (the answer, with
        wget's error if it failed), and meter (the meter's fields: bytes, seconds, maxgap, at,
        and match with compare) when meter or compare (= (seed, size)) is given."""
        with self.cond:
            start = len(self.lines)
        how = f" compare {compare[0]} {compare[1]}" if compare else " meter" if meter else ""
        m = self.command(f"get {url}{how}", r"(?:got|failed) .*", timeout)
        fields = dict(re.findall(r"(\w+)=(\S+)", m.group(0)))
        result = {"ok": m.group(0).startswith("peer: got"),
                  "seconds": float(fields["end"]) - float(fields["start"]),
                  "sha256": fields.get("sha256"), "line": m.group(0)}
        with self.cond:
            ms = [t for _, t in self.lines[start:] if t.startswith("peer: meter: ")]
        if ms:
            result["meter"] = {k: float(v) for k, v in re.findall(r"(\w+)=(\S+)", ms[-1])}
        return result

    def quit(self, timeout=30):
        self.send("quit\n")
        if self.wait_exit(timeout) is None:
            self.kill()


def expected_sha256(seed, size):
    """The sha256 of `peertool gen SEED SIZE`, computed on the host (same program) and kept
    in build/peer/."""
    import hashlib
    import subprocess
    cache = os.path.join(PEER, f"sha256-{seed}-{size}")
    if os.path.exists(cache):
        with open(cache) as f:
            return f.read().strip()
    h = hashlib.sha256()
    with subprocess.Popen([PEERTOOL, "gen", str(seed), str(size)], stdout=subprocess.PIPE) as p:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            h.update(chunk)
    if p.returncode != 0:
        raise RuntimeError(f"peertool gen failed: {p.returncode}")
    with open(cache, "w") as f:
        f.write(h.hexdigest() + "\n")
    return h.hexdigest()


def start_server(nic, size, seed=1, port=None):
    """Boot the server guest (listening on 127.0.0.1:port, a free one if not given) and wait
    until QEMU listens; the caller then waits for its "serving" line with wait_serving().
    A free port can be taken before QEMU binds it: then another is tried, three times."""
    memory = f"{max(1024, size // (1 << 20) + 512)}M"
    for attempt in range(3):
        p = port or free_port()
        server = LinuxGuest("server", nic, p, True, memory=memory, seed=seed, size=size)
        deadline = time.monotonic() + 10
        while not listening(p, server.proc.pid) and server.proc.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        if listening(p, server.proc.pid):
            server.port = p
            return server
        server.kill()
        if port or attempt == 2:
            raise RuntimeError("server: QEMU does not listen on 127.0.0.1:%d; last lines:\n  %s"
                               % (p, "\n  ".join(server.tail(10))))


def wait_serving(server, timeout=300):
    """Wait for the server's "serving" line; its gen_start/gen_end fields."""
    m, _ = server.wait_line(r"serving .*", timeout)
    return dict(re.findall(r"(\w+)=(\S+)", m.group(0)))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "initramfs":
        build_initramfs(sys.argv[2])
    else:
        sys.exit(__doc__)
