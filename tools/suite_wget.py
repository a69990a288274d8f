"""Downloads that survive their network driver (issue 9's test): BusyBox `wget` in the whole
system (`make run`'s boot, inet and its sockets) fetches 16 MiB of random bytes from an HTTP
server on the host's 127.0.0.1 while a shell loop has rs kill the network driver every 0.5 s;
the sha256 must be the host's, and the driver must have been restarted during it. Once per
card: virtio_net, e1000, rtl8139; on virtio_net also inet itself killed in the middle of a
download (wget fails, the next download works through the new inet and the same driver). The
guest reaches the server only through QEMU's user networking with restrict=on and guestfwd
rules (10.0.2.100:80, :81, :82 -> the server; each rule carries one connection): nothing leaves the host.
Called by tools/test.py as run(record, module)."""
import hashlib
import http.server
import os
import re
import threading
import time

from qemu import NICS, Boot, nic, run_boot

SIZE = 16 << 20
KILL_EVERY = 0.5


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(data):
    """An HTTP server on an ephemeral port of 127.0.0.1 whose /file is data (threads: QEMU
    writes to it from its main loop, so it must never block the guest)."""

    class Handler(Quiet):
        def do_GET(self):
            self.send_response(200 if self.path == "/file" else 404)
            self.send_header("Content-Length", str(len(data) if self.path == "/file" else 0))
            self.end_headers()
            if self.path == "/file":
                try:
                    self.wfile.write(data)
                except ConnectionError:
                    pass  # the guest's end went away (inet_killed kills inet mid-download)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd


def inet_killed(record, boot, want):
    """inet itself killed in the middle of a download: wget fails with an error (its
    connection was inet's), the shell lives on, and the next wget, through the new inet and
    the same network driver (which it initialises again), gets the whole file."""
    test = "wget.inet_killed_mid_download_next_works"
    out = boot.run("(sleep 0.5; service kill inet >/dev/null) & wget -q -O /dev/null "
                   "http://10.0.2.100:81/file; echo first=$?; wait; wget -q -O - "
                   "http://10.0.2.100:82/file | sha256sum; service list | grep '^inet '",
                   timeout=300) or []
    first = [line for line in out if line.startswith("first=")]
    errors = [line for line in out if line.startswith("wget:")]
    got = [line.split()[0] for line in out if re.match(r"^[0-9a-f]{64}  -$", line)]
    row = [line.split() for line in out if line.startswith("inet ")]
    restarts = int(row[-1][3]) if row and len(row[-1]) > 3 and row[-1][3].isdigit() else -1
    ok = first == ["first=1"] and got == [want] and restarts >= 1
    record(test, ok, f"first wget: {first} {errors}, inet restarts {restarts}, then sha256 "
           f"{'right' if got == [want] else got}", None if ok else boot.tail(40))


def ds_then_driver_killed(record, boot, want):
    """ds killed (it comes back with its store and inet's subscription, docs/DS.md), then the
    network driver: inet hears of the driver's new instance from the new ds (ds_notifier), and a
    download through it gets the whole file."""
    test = "wget.ds_then_driver_killed"
    out = boot.run("service kill ds >/dev/null; sleep 1; service kill virtio_net >/dev/null; "
                   "sleep 1; wget -T 30 -q -O - http://10.0.2.100:83/file | sha256sum",
                   timeout=200) or []
    got = [line.split()[0] for line in out if re.match(r"^[0-9a-f]{64}  -$", line)]
    ok = got == [want]
    record(test, ok, f"sha256 {'right' if ok else got}", None if ok else boot.tail(40))


def run(record, module):
    data = os.urandom(SIZE)
    want = hashlib.sha256(data).hexdigest()
    httpd = serve(data)
    port = httpd.server_address[1]
    try:
        for name in ("virtio", "e1000", "rtl8139"):
            driver, device = NICS[name]
            mods, flags = run_boot(name)
            disk_flags = flags[len(nic(name)[1]):]  # make run's disk (a snapshot), its own card
            # one guestfwd carries one connection (its chardev connects once, at QEMU's start;
            # QEMU names it after the guest port): 10.0.2.100:80 the driver-kill download; on
            # virtio, :81 and :82 inet_killed's two, :83 ds_then_driver_killed's
            fwds = range(80, 84 if name == "virtio" else 81)
            netdev = "user,id=n0,restrict=on" + "".join(
                f",guestfwd=tcp:10.0.2.100:{p}-tcp:127.0.0.1:{port}" for p in fwds)
            boot = Boot(mods, extra=["-netdev", netdev, "-device", device] + disk_flags,
                        console=True)
            test = f"wget.{driver}_16mib_killed_every_0_5s"
            try:
                if not boot.wait_prompt("# ", 60):
                    record(test, False, "no prompt", boot.tail())
                    continue
                t0 = time.monotonic()
                out = boot.run(f"(while true; do sleep {KILL_EVERY}; service kill {driver} "
                               f">/dev/null; done) & wget -q -O - http://10.0.2.100/file | "
                               f"sha256sum; kill $!; service list | grep '^{driver} '",
                               timeout=300) or []
                took = time.monotonic() - t0
                got = [line.split()[0] for line in out if re.match(r"^[0-9a-f]{64}  -$", line)]
                row = [line.split() for line in out if line.startswith(driver + " ")]
                restarts = int(row[-1][3]) if row and len(row[-1]) > 3 and row[-1][3].isdigit() \
                    else -1
                ok = got == [want] and restarts >= 1  # killed at least once mid-download
                record(test, ok, f"{took:.1f} s, {restarts} restarts, sha256 "
                       f"{'right' if got == [want] else got}", None if ok else boot.tail(40))
                if name == "virtio":
                    inet_killed(record, boot, want)
                    ds_then_driver_killed(record, boot, want)
            finally:
                boot.kill()
    finally:
        httpd.shutdown()
