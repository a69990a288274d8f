"""Fault injection (issue 14; docs/FAULTS.md), a short run of tools/inject_campaign.py's
trials: without inject=1 on the kernel command line `service inject` is refused (the kernel
counts the call as a denial); with it, a batch of random byte corruptions of virtio_net's code
and a `jmp .` at its saved rip are each detected (rs's last failure of it: an exception or a
complaint; the heartbeat) and recovered: the driver is replaced exactly once, the download after
the trial has the right sha256 (the one during it is reported), and the new instance runs its
intact image (the injected pages were the old instance's own copies,
so the driver is replaced once, not again and again). demo (priority 2, heartbeat 100), kept off
the CPU while virtio_net spins, is not killed with it (rs's `starved`). A garbage answer from
virtio_net (to inet) and from virtio_blk (to ext2's lib/bdev) is refused by its client,
complained of, the driver replaced once, the data right (garbage_refused). A failed trial keeps
its evidence in build/inject-fail-TEST-HHMMSS.log (keep_evidence). Called by tools/test.py as
run(record, module)."""
import hashlib
import os
import tempfile
import time

import inject_campaign as ic
from qemu import BUILD, Monitor, monitor_flags


def run(record, module):
    data = os.urandom(ic.SIZE)
    want = hashlib.sha256(data).hexdigest()
    fd, path = tempfile.mkstemp(prefix="inject-", dir=BUILD)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    try:
        inst = ic.Instance("virtio_net", path, inject=False)
        try:
            out = inst.run("service inject virtio_net code 1 1; echo status=$?", 60) if inst.up \
                else None
            out = [t for t in out or [] if "@@" not in t]
            ok = any("refused: fault injection is off" in t for t in out) and "status=1" in out
            record("inject.refused_without_boot_option", ok, " / ".join(out or ["no answer"]),
                   None if ok else inst.boot.tail())
        finally:
            inst.kill()
        sock = os.path.join(BUILD, f"inject-qmp-{os.getpid()}")
        inst = ic.Instance("virtio_net", path, services=[os.path.join(BUILD, "demo")],
                           extra=monitor_flags(sock))
        try:
            # what rs must have seen (its last failure of the driver); the trial's class (the
            # download during it right, too) is reported, not required: on a loaded host a
            # connection may fail while the driver is replaced
            for test, kind, faults, causes in (
                    ("inject.code_corruption_detected_recovered", "code", 300,
                     ("exception", "exit", "heartbeat missed", "complaint")),
                    ("inject.loop_detected_by_heartbeat", "loop", 1, ("heartbeat missed",))):
                if not inst.up:
                    record(test, False, "no prompt", inst.boot.tail())
                    continue
                demo = demo_row(inst)
                rec, healthy = ic.trial(inst, "virtio_net", kind, faults, 14, want)
                if kind == "loop":  # demo (priority 2, heartbeat 100) was starved, not hung
                    after = demo_row(inst)
                    ok = demo[0] is not None and after == demo
                    record("inject.loop_spares_starved_service", ok,
                           f"demo's restarts and last failure {demo} then {after}",
                           None if ok else inst.boot.tail(20))
                restarts = rec.get("restarts", (None, None))
                now = ic.service_row(inst.run("service list", 30) or [], "virtio_net")[0]
                ok = rec.get("failure") in causes and healthy and \
                    restarts[1] == restarts[0] + 1 and \
                    now == restarts[1]  # not replaced again: the new instance's image is intact
                kept = "" if ok else f"; serial log {keep_evidence(inst, sock, test, rec)}"
                record(test, ok, f"{rec['class']} ({rec.get('failure')}), restarts {restarts} "
                       f"then {now}, "
                       f"download after {'right' if healthy else 'wrong'}{kept}",
                       None if ok else inst.boot.tail(30))
            updated_image(record, inst, sock)
            garbage_refused(record, inst, "virtio_net", want)
        finally:
            inst.kill()
            if os.path.exists(sock):
                os.unlink(sock)
        inst = ic.Instance("virtio_blk", path)
        try:
            garbage_refused(record, inst, "virtio_blk", inst.want if inst.up else None)
        finally:
            inst.kill()
            if os.path.exists(sock):
                os.unlink(sock)
    finally:
        os.unlink(path)


def demo_row(inst):
    """(restarts, last failure) of demo from `service list`."""
    return ic.service_row(inst.run("service list | grep '^demo '", 30) or [], "demo")


def keep_evidence(inst, sock, test, rec):
    """A failed trial's evidence, in build/inject-fail-TEST-TIME.log (its path returned): the
    trial's record, where the CPU is (QEMU's registers, sampled five times: a spinning process
    shows one rip), then, if the shell answers again, rs's record and the driver's trace, and
    the whole serial log with host times."""
    where = os.path.join(BUILD, f"inject-fail-{test.split('.')[-1]}-{time.strftime('%H%M%S')}.log")
    parts = [f"trial: {rec}"]
    try:
        mon = Monitor(sock, timeout=10)
        try:
            for _ in range(5):
                parts.append(mon.hmp("info registers"))
                time.sleep(0.5)
        finally:
            mon.close()
    except (OSError, RuntimeError) as e:
        parts.append(f"QEMU's monitor: {e}")
    if not inst.dead():
        out = inst.run("service list; service log | tail -40; trace -n 40 virtio_net; "
                       "trace -n 40 demo", 120)
        parts.append("\n".join(out) if out is not None else "the shell did not answer in 120 s")
    with inst.boot.cond:
        parts.append("\n".join(f"{t:9.3f} {line}" for t, line in inst.boot.lines))
    with open(where, "w") as f:
        f.write("\n\n".join(parts) + "\n")
    return os.path.relpath(where, os.path.dirname(BUILD))


def updated_image(record, inst, sock):
    """A service running an update (`service update demo /bin/demo`: its text pages are
    rs's buffer's frames, shared) gets a `jmp .` at its saved rip: that page becomes its own
    copy first (vm_private_frame), so the heartbeat catches it once and the new instance, from
    the same buffer, runs (restarts +1 exactly, 3 s later)."""
    test = "inject.updated_service_text_private"
    out = inst.run("service update demo /bin/demo >/dev/null; sleep 1; service list | "
                   "grep '^demo '; service inject demo loop; sleep 3; service list | "
                   "grep '^demo '", 60) or []
    rows = [ic.service_row([t], "demo") for t in out]
    rows = [r for r in rows if r[0] is not None]
    ok = len(rows) == 2 and rows[1][0] == rows[0][0] + 1 and "heartbeat" in rows[1][1]
    kept = "" if ok else f"; serial log {keep_evidence(inst, sock, test, {'rows': rows})}"
    record(test, ok, f"demo's restarts and last failure: {rows}{kept}",
           None if ok else inst.boot.tail())


def garbage_refused(record, inst, driver, want):
    """`service inject DRIVER garbage` scrambles the driver's next answer to a dependent (not its
    heartbeat answer to rs, which would have no effect), also when the driver is idle for a
    second first: its client refuses it (lib/bdev for
    ext2, inet), says so in its log, complains to rs, which replaces the driver once, and the
    data stays right (the disk's write read back, the download after the trial)."""
    test = f"inject.garbage_refused_{driver}"
    if not inst.up:
        record(test, False, "no prompt", inst.boot.tail())
        return
    start = len(inst.boot.lines)
    # idle for several heartbeat periods first: the old kernel scrambled the heartbeat answer
    rec, healthy = ic.trial(inst, driver, "garbage", 1, 14, want, settle=1)
    said = {"virtio_blk": f"bdev: {driver}: an answer outside the protocol",
            "virtio_net": f"inet: {driver}: "}[driver]
    refused = [t for _, t in inst.boot.lines[start:] if said in t and "rs" in t]
    restarts = rec.get("restarts", (None, None))
    # the disk's client hides the replacement (the request goes to the next instance): the
    # write is right; a download may fail on a loaded host while the card is replaced
    ok = rec.get("failure") == "complaint" and bool(refused) and healthy and \
        restarts[1] == restarts[0] + 1 and (rec["class"] == "complaint" or driver != "virtio_blk")
    record(test, ok, f"{rec['class']} ({rec.get('failure')}), restarts {restarts}, "
           f"{refused[0] if refused else 'no refusal logged'}, "
           f"data after {'right' if healthy else 'wrong'}",
           None if ok else inst.boot.tail(30))
