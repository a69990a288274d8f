"""inet, the TCP/IP server on lwIP (net/inet, docs/INET.md). Two boots.

1. root, ds and inet with the argument "selftest", which runs lwIP over the loopback interface
   inside the server (TCP echo of 1 MiB, a refused connection, UDP, ICMP echo, timers) and
   prints TEST inet.NAME lines, then keeps serving. Records them, inet.suite_finished, and
   inet.stayed_up: 2.5 s after the tests (over two heartbeat periods: rs replaces a service
   silent that long) inet has started once, never restarted, and no lwIP assertion failed.
2. inet over virtio_net on QEMU's restricted user networking ("selftest net", TEST inet.net.NAME):
   ARP and ping to slirp's 10.0.2.2, and 16 MiB through a TCP echo server on the host's
   127.0.0.1 (QEMU's guestfwd makes it 10.0.2.100:7) while netkill has rs kill the driver every
   0.3 s (the stream takes 1.5 to 5 s). The host checks what its echo server received: inet.net.host_saw_the_stream.
3. inet over tests/drivers/badnet, a hostile driver with no hardware ("selftest badnet",
   TEST inet.bad.NAME): thousands of malformed frames, then one kind of garbage answer per driver
   instance. The host checks rs's counters and log as badnet printed them
   (inet.bad.rs_recorded_complaints), that the kernel refused badnet's overruns, and that inet
   never restarted (inet.bad.stayed_up).

Called by tools/test.py as run(record, module)."""
import os
import queue
import re
import socket
import threading
import time

from qemu import Boot, collect_tests

HERE = os.path.dirname(os.path.abspath(__file__))
STREAM_BYTES = 16 * 1024 * 1024


def stream_fnv1a(data):
    """FNV-1a (32 bits) of data: what inet prints for the bytes it sent."""
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


class EchoServer:
    """A TCP echo server on the host's 127.0.0.1; keeps every byte it received. Each connection
    has a reader and a writer thread with a queue between them: the reader never waits for the
    writer, because QEMU's guestfwd writes to us from its main loop and blocks there (serial and
    guest frozen) while we do not read, and our writes wait for QEMU to read."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.received = bytearray()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            chunks = queue.Queue()
            threading.Thread(target=self._read, args=(conn, chunks), daemon=True).start()
            threading.Thread(target=self._write, args=(conn, chunks), daemon=True).start()

    def _read(self, conn, chunks):
        while True:
            try:
                data = conn.recv(65536)
            except OSError:
                data = b""
            chunks.put(data)
            if not data:
                return
            self.received += data

    @staticmethod
    def _write(conn, chunks):
        with conn:
            while data := chunks.get():
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def close(self):
        self.sock.close()


def inet_conf_words():
    """The address and gateway words of inet's manifest (net/inet/inet.conf): the one place."""
    with open(os.path.join(HERE, "..", "net", "inet", "inet.conf")) as f:
        args = next(l.split("#")[0].split()[1:] for l in f if l.startswith("args "))
    return [w for w in args if w.startswith(("ip=", "gw="))]


def run_loopback(record, module):
    boot = Boot([module("root"), module("ds"), module("inet", "selftest")])
    try:
        collect_tests(boot, record, "inet", "inet", timeout=180)
        time.sleep(2.5)
        starts = [t for _, t in boot.lines if t.startswith("inet: lwIP ")]
        asserts = [t for _, t in boot.lines if t.startswith("inet: assertion")]
        ok = len(starts) == 1 and "restarted" not in starts[0] and not asserts
        record("inet.stayed_up", ok, f"{len(starts)} starts, {len(asserts)} assertions",
               None if ok else boot.tail(30))
    finally:
        boot.kill()


def run_virtio_net(record, module):
    echo = EchoServer()
    netdev = f"user,id=n0,restrict=on,guestfwd=tcp:10.0.2.100:7-tcp:127.0.0.1:{echo.port}"
    args = " ".join(["selftest net nic=virtio_net"] + inet_conf_words())
    boot = Boot([module("root"), module("ds"), module("pci"), module("virtio_net"),
                 module("inet", args), module("netkill", "virtio_net 300")],
                extra=["-netdev", netdev,
                       "-device", "virtio-net-pci,netdev=n0,disable-modern=on"])
    try:
        collect_tests(boot, record, "inet.net", "inet", timeout=240)
        sums = [re.search(r"fnv1a sent 0x([0-9a-f]+)", t) for _, t in boot.lines
                if t.startswith("inet: tcp echo:")]
        got = bytes(echo.received)
        ok = len(got) == STREAM_BYTES and sums and sums[-1] and \
            int(sums[-1].group(1), 16) == stream_fnv1a(got)
        record("inet.net.host_saw_the_stream", bool(ok),
               f"{len(got)} bytes at the host's echo server", None if ok else boot.tail(30))
        for _, t in boot.lines:  # the measurements inet printed (not results)
            if t.startswith(("inet: tcp echo:", "inet: virtio_net during", "netkill: ")) and \
                    "kill " not in t:
                print(f"  measured {t}", flush=True)
    finally:
        boot.kill()
        echo.close()


def run_badnet(record, module):
    """inet over tests/drivers/badnet, the hostile driver: malformed frames, then garbage answers
    (one kind per driver instance, each reported to rs), then a well-behaved instance."""
    args = " ".join(["selftest badnet nic=badnet"] + inet_conf_words())
    boot = Boot([module("root"), module("ds"), module("badnet"), module("inet", args)])
    try:
        collect_tests(boot, record, "inet.bad", "inet", timeout=180)
        # rs's log keeps the last 64 events: every failure of badnet it still holds must be a
        # complaint, and they must be most of the cases (two events each: failed, restarted)
        _, said = boot.wait_for(r"badnet: rs: restarts (\d+), failures logged (\d+), "
                                r"complaints (\d+), inet restarts (\d+)", 10)
        cases = [re.search(r"inet: badnet: (\d+) garbage cases", t) for _, t in boot.lines]
        cases = [int(m.group(1)) for m in cases if m]
        ok = bool(said and cases) and int(said.group(1)) == cases[-1] and \
            said.group(2) == said.group(3) and int(said.group(3)) >= min(cases[-1], 16) and \
            said.group(4) == "0"
        record("inet.bad.rs_recorded_complaints", ok,
               f"rs: {said.group(0) if said else 'no report'}; cases {cases}",
               None if ok else boot.tail(40))
        # the instance that named ds's endpoint as badnet.net was refused before any NET_INIT
        foreign = [t for _, t in boot.lines if "announced endpoint" in t]
        ok = len(foreign) == 1 and "not its own" in foreign[0]
        record("inet.bad.foreign_announcement_refused", ok, foreign[0] if foreign else "no line",
               None if ok else boot.tail(30))
        refused = [t for _, t in boot.lines if t.startswith("badnet: the kernel refused")]
        ok = len(refused) >= 2 and not any("NOT REFUSED" in t for t in refused)
        record("inet.bad.kernel_refused_overruns", ok, "; ".join(refused[:2]),
               None if ok else boot.tail(40))
        starts = [t for _, t in boot.lines if t.startswith("inet: lwIP ")]
        asserts = [t for _, t in boot.lines if t.startswith("inet: assertion")]
        ok = len(starts) == 1 and "restarted" not in starts[0] and not asserts
        record("inet.bad.stayed_up", ok, f"{len(starts)} starts, {len(asserts)} assertions",
               None if ok else boot.tail(30))
        for _, t in boot.lines:  # the measurements inet printed (not results)
            if t.startswith("inet: badnet: ") and "reported to rs" not in t:
                print(f"  measured {t}", flush=True)
    finally:
        boot.kill()


def run(record, module):
    run_loopback(record, module)
    run_virtio_net(record, module)
    run_badnet(record, module)
