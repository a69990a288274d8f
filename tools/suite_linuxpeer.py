"""The Linux peer of `make bench-net` (docs/BENCH-NET.md): a Linux client guest downloads a
4 MiB file from a Linux server guest over virtio-net on a `-netdev socket` link on 127.0.0.1
and the sha256 must match the host's; then twice more, compared in the guest with the
generator (the right seed matches, a wrong one is caught). Then Samsara joins the same link
(QEMU's listening end accepts it once the Linux client has left) as 10.0.3.2/24: BusyBox ping
(a raw ICMP socket in inet) gets the Linux kernel's echo replies, and bench-net's Samsara
client downloads the file while its network driver is killed every 0.3 s (sha256 right, at
least one kill, each kill seen by rs as a restart with its recovery time). Last, `make
bench-disk`'s path, small (docs/BENCH-DISK.md): 8 MiB and 300 files of 4 KiB on a fresh ext2
image, by the Linux guest (ext4's driver) on virtio-blk, and by Samsara on AHCI with the ahci
driver killed every 0.3 s: every phase's check in the guest, e2fsck -fn clean and every byte
right on the host; then one byte of the big file flipped in the image must be caught by the
host's check. About 50 s under TCG. Builds build/peer/ first (`make peer`: fetches Debian's kernel package on first use).
Called by tools/test.py as run(record, module)."""
import subprocess

import os
import tempfile

import bench_disk
import bench_net
import linuxpeer as lp
from qemu import ROOT

SIZE = 4 << 20
SEED = 4


def run(record, module):
    built = subprocess.run(["make", "-s", "peer"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        record("linuxpeer.build", False, built.stdout + built.stderr)
        return
    server = client = None
    stage = "linuxpeer.download_4mib_sha256"  # what an exception fails
    try:
        server = lp.start_server("virtio", SIZE, SEED)
        client = lp.LinuxGuest("client", "virtio", server.port, False)
        lp.wait_serving(server, 120)
        client.wait_line("ready", 120)
        r = client.get(f"http://{lp.SERVER_IP}/file", meter=True, timeout=120)
        want = lp.expected_sha256(SEED, SIZE)
        ok = r["ok"] and r["sha256"] == want and r.get("meter", {}).get("bytes") == SIZE
        record("linuxpeer.download_4mib_sha256", ok,
               f"{r['seconds']:.2f} s" if ok else f"{r['line']} (want {want})",
               None if ok else client.tail() + ["--- server ---"] + server.tail())
        # The same bytes compared with the generator in the guest (bench-net's CHECK=compare);
        # a wrong seed must be caught.
        for name, seed, want_match in (("compare", SEED, 1), ("compare_catches_wrong_bytes",
                                                              SEED + 1, 0)):
            r = client.get(f"http://{lp.SERVER_IP}/file", compare=(seed, SIZE), timeout=120)
            meter = r.get("meter", {})
            ok = r["ok"] == bool(want_match) and meter.get("match") == want_match and \
                meter.get("bytes") == SIZE
            record(f"linuxpeer.download_4mib_{name}", ok,
                   f"{r['seconds']:.2f} s, match={meter.get('match')}, diff={meter.get('diff')}"
                   if ok else r["line"],
                   None if ok else client.tail())
        client.quit()
        stage = "linuxpeer.samsara_4mib_driver_killed"
        client = bench_net.SamsaraGuest("virtio", server.port)
        client.ready()
        ping_samsara_to_linux(record, client)
        r = client.get(f"http://{lp.SERVER_IP}/file", 0.3, "sha256", SEED, SIZE, timeout=120)
        us = r["recovery_us"]
        # a kill the loop made just as it was stopped may miss its count: failed <= kills + 1
        ok = r["ok"] and r["sha256"] == want and r.get("meter", {}).get("bytes") == SIZE and \
            1 <= r["kills"] <= r["failed"] <= r["kills"] + 1 and len(us) == r["failed"]
        record("linuxpeer.samsara_4mib_driver_killed", ok,
               f"{r['seconds']:.2f} s, {r['kills']} kills, rs recovery "
               f"{bench_net.summary_ms(us)}" if ok else
               f"{r['line']}: {r['kills']} kills, {r['failed']} failures and {len(us)} "
               f"recoveries logged by rs (want {want})", None if ok else client.tail(40))
    except (RuntimeError, KeyError) as e:
        record(stage, False, str(e))
    finally:
        for guest in (client, server):
            if guest:
                guest.quit()
    bench_disk_smoke(record)


def bench_disk_smoke(record):
    """bench-disk's whole path on a small scale (bench_disk.one_boot: image, boot, workload,
    host check), Linux on virtio-blk, Samsara on ahci under kills; then a flipped byte caught."""
    size, files = 8 << 20, 300
    with tempfile.TemporaryDirectory(prefix="bench-disk-") as tmp:
        for system, interface, every in (("linux", "virtio", 0), ("samsara", "ahci", 0.3)):
            name = f"linuxpeer.bench_disk_{system}_{interface}"
            try:
                r = bench_disk.one_boot(system, interface, every, size, files, tmp)
            except RuntimeError as e:
                record(name, False, str(e))
                continue
            kills_ok = system == "linux" or 1 <= r["kills"] <= r["failed"] <= r["kills"] + 1 \
                and len(r["recovery_us"]) == r["failed"]
            record(name, r["ok"] and kills_ok, bench_disk.describe(r, size, files) +
                   (f"; {r['kills']} kills, rs recovery "
                    f"{bench_net.summary_ms(r['recovery_us'])}" if every else ""),
                   None if r["ok"] else [str(r["host"])] + r["stderr"])
        img = os.path.join(tmp, "disk.img")  # Samsara's, as it left it
        blk = int(subprocess.run(["debugfs", "-R", "bmap /big 5", img], capture_output=True,
                                 text=True).stdout.strip() or 0)
        with open(img, "r+b") as f:
            f.seek(blk * 4096 + 100)
            byte = f.read(1)
            f.seek(-1, 1)
            f.write(bytes([byte[0] ^ 1]))
        host = bench_disk.host_check(img, size, files, tmp)
        record("linuxpeer.bench_disk_host_catches_a_flipped_byte",
               blk > 0 and not host["big_ok"] and host["small_ok"] and host["fsck"] == 0,
               f"block {blk}: {host}")


def ping_samsara_to_linux(record, guest):
    """A second guest for ping (issue 9): BusyBox ping in Samsara (a bench_net.SamsaraGuest on
    the server's link) gets the Linux kernel's echo replies."""
    out = guest.run(f"ping -c 3 {lp.SERVER_IP}; echo st=$?", timeout=60)
    ok = out is not None and "3 packets transmitted, 3 packets received, 0% packet loss" \
        in out and "st=0" in out
    record("linuxpeer.samsara_pings_linux", ok, "" if ok else f"printed {out!r}",
           None if ok else guest.tail())
