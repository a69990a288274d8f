"""Downloads that survive their network driver (issue 9's test): BusyBox `wget` in the whole
system (`make run`'s boot, inet and its sockets) fetches 16 MiB of random bytes from an HTTP
server on the host's 127.0.0.1 while a shell loop has rs kill the network driver every 0.5 s;
the sha256 must be the host's, and the driver must have been restarted during it. Once per
card: virtio_net, e1000, rtl8139; on virtio_net also inet itself killed in the middle of a
download (wget fails, the next download works through the new inet and the same driver), and
issue 13's campaign: inet killed 200 times at random instants under a download loop that checks
each file's sha256 (inet_campaign). The guest reaches the server only through QEMU's user networking with restrict=on and guestfwd
rules (10.0.2.100:80, :81, :82 -> the server; each rule carries one connection; :84 runs
`suite_wget.py --once FILE` for each connection, the campaign's hundreds): nothing leaves the host.
Called by tools/test.py as run(record, module)."""
import hashlib
import http.server
import os
import re
import sys
import tempfile
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


# inet_campaign: inet killed CAMPAIGN_KILLS times, every 100-199 ms, under a download loop
CAMPAIGN_KILLS = 200
CAMPAIGN_SIZE = 256 << 10
CAMPAIGN_PORT = 84


def respond_once(path):
    """`suite_wget.py --once FILE`: one HTTP exchange on stdin/stdout, FILE as the body.
    QEMU's guestfwd `cmd:` form runs this for every connection the guest makes to its address
    (a `tcp:` rule carries only one): the campaign needs hundreds of downloads."""
    try:
        while sys.stdin.buffer.readline() not in (b"\r\n", b"\n", b""):
            pass  # the request's headers: /file or anything, the answer is the same
        with open(path, "rb") as f:
            data = f.read()
        out = sys.stdout.buffer
        out.write(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n" % len(data) + data)
        out.flush()
    except (BrokenPipeError, ConnectionError):
        pass  # the guest's inet died with the connection: its new instance answers with a reset


# What BusyBox wget prints for each failure, the kind it is counted as.
WGET_ERRORS = (("Connection reset by peer", "ECONNRESET"), ("Broken pipe", "EPIPE"),
               ("timed out", "timeout"), ("Address family not supported", "EAFNOSUPPORT"),
               ("Connection refused", "ECONNREFUSED"), ("I/O error", "EIO"),
               ("short read", "short read"), ("server returned error", "HTTP error"))


def error_kind(line):
    for needle, kind in WGET_ERRORS:
        if needle in line:
            return kind
    return "other: " + line[:60]


def restart_counts(lines):
    """Each service's restarts from `service list`'s lines."""
    rows = (line.split() for line in lines)
    return {r[0]: int(r[3]) for r in rows if len(r) > 4 and r[0] != "label" and r[3].isdigit()}


def inet_campaign(record, boot, path, want):
    """issue 13: inet killed CAMPAIGN_KILLS times at random instants (by rs's own alarm,
    `service chaos inet N 100 199`: each kill 100-199 ms after the last instance was ready, in
    the middle of a request too, where a killer below inet always found it idle) while a loop downloads a
    256 KiB file from the host with wget and checks its sha256, again and again until the
    killer is done. Counted: kills, downloads right, downloads with a wrong sha256 (corrupted:
    must be 0), wget's failures by kind (a dead inet's socket fails with ECONNRESET or
    EPIPE), wget timeouts (-T 5: a socket call that waits on a dead inet would show as one;
    none allowed), and the whole loop ends (no hang). Then a download must work, and rs's
    record gives inet's recovery time: the mean over all restarts (`service list`) and the
    max over the restarts still in rs's log."""
    test = "wget.inet_killed_200_times_downloads_checked"
    url = f"http://10.0.2.100:{CAMPAIGN_PORT}/file"
    before = restart_counts(boot.run("service list") or [])
    t0 = time.monotonic()
    out = boot.run(
        f"W={want}; rm -f /tmp/f; r() {{ service list | awk '$1==\"inet\"{{print $4}}'; }}; "
        f"r0=$(r); service chaos inet {CAMPAIGN_KILLS} 100 199 >/dev/null; "
        f"ok=0; bad=0; n=0; f=0; while [ $(r) -lt $((r0 + {CAMPAIGN_KILLS})) ]; do n=$((n + 1)); "
        f"if wget -T 5 -q -O /tmp/f {url} 2>/tmp/e; then "
        f"if [ \"$(sha256sum </tmp/f)\" = \"$W  -\" ]; then ok=$((ok + 1)); "
        f"else bad=$((bad + 1)); fi; else f=$((f + 1)); sed 's/^/fail: /' /tmp/e; fi; done; "
        f"echo kills=$(($(r) - r0)); "
        f"echo campaign ok=$ok bad=$bad failed=$f tries=$n; "
        f"wget -T 10 -q -O - {url} | sha256sum; service list; "
        f"service log | grep 'inet.*ready after'", timeout=240) or []
    took = time.monotonic() - t0
    if not out:
        record(test, False, f"the loop did not end in 240 s (a hang?)", boot.tail(40))
        return
    kills = [int(line[6:]) for line in out if re.match(r"^kills=\d+$", line)]
    summary = [line for line in out if line.startswith("campaign ")]
    fields = dict(w.split("=") for w in summary[-1].split()[1:]) if summary else {}
    kinds = {}
    for line in out:
        if line.startswith("fail: "):
            kind = error_kind(line)
            kinds[kind] = kinds.get(kind, 0) + 1
    after = [line.split()[0] for line in out if re.match(r"^[0-9a-f]{64}  -$", line)]
    row = [line.split() for line in out if line.startswith("inet ")]
    mean = row[-1][6] if row and len(row[-1]) > 6 else "?"
    restarts = row[-1][3] if row and len(row[-1]) > 3 else "?"
    logged = [int(m.group(1)) for m in (re.search(r"ready after (\d+) us", line)
                                        for line in out) if m]
    ok_n, bad_n, tries = (int(fields.get(k, -1)) for k in ("ok", "bad", "tries"))
    timeouts = kinds.get("timeout", 0)
    # the other services: none may have restarted during the campaign (rs's restarts column)
    now = restart_counts(out)
    others = [f"{k} {before.get(k, 0)}->{v}" for k, v in now.items()
              if k != "inet" and v != before.get(k, 0)]
    ok = (kills == [CAMPAIGN_KILLS] and bad_n == 0 and ok_n > 0 and timeouts == 0
          and after == [want] and not others)
    errors = ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())) or "none"
    record(test, ok, f"{took:.1f} s: kills {kills}, inet restarts {restarts}, downloads "
           f"{tries}: right {ok_n}, corrupted {bad_n}, failed {fields.get('failed', '?')}; wget's "
           f"errors: {errors}; then "
           f"{'right' if after == [want] else after}; recovery mean {mean} us, max "
           f"{max(logged) if logged else '?'} us over the last {len(logged)}"
           + (f"; restarted too: {', '.join(others)}" if others else ""),
           None if ok else boot.tail(40))


def run(record, module):
    data = os.urandom(SIZE)
    want = hashlib.sha256(data).hexdigest()
    httpd = serve(data)
    port = httpd.server_address[1]
    small = os.urandom(CAMPAIGN_SIZE)
    campaign_sum = hashlib.sha256(small).hexdigest()
    fd, campaign = tempfile.mkstemp(prefix="campaign-", 
                                       dir=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build"))
    with os.fdopen(fd, "wb") as f:
        f.write(small)
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
            if name == "virtio":  # :84 the campaign's, a responder for each connection
                netdev += (f",guestfwd=tcp:10.0.2.100:{CAMPAIGN_PORT}-cmd:{sys.executable} "
                           f"{os.path.abspath(__file__)} --once {campaign}")
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
                    inet_campaign(record, boot, campaign, campaign_sum)
            finally:
                boot.kill()
    finally:
        httpd.shutdown()
        os.unlink(campaign)


if __name__ == "__main__" and sys.argv[1:2] == ["--once"] and len(sys.argv) == 3:
    respond_once(sys.argv[2])
