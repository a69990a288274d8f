"""The malicious-driver suite (issue 14, seed 003; docs/TRACE.md): the whole system with
tests/drivers/badkbd, a "keyboard" driver whose manifest lets it read the i8042's ports, own IRQ 1
and talk to rs. Its first instance behaves. The shell follows it live with `trace badkbd` (in the
background, into a file), then `service restart badkbd`: each later instance tries to send what
it read to inet, vfs and ramfs, port I/O outside its ranges, MMIO outside its (no) BARs, IRQs not
its own, kernel calls not in its manifest, and then floods inet until rs stops it for crossing
its denial_limit (64); restart_limit 3 leaves it down after the third. The host checks that every
attempt was refused (the driver's own lines), counted (KC_PROC_INFO, rs's denial lines), traced
(`trace -n` shows each refusal with its port, range, IRQ, call or target, and the allowed device
operations too), that the live trace followed the new instances, that rs acted as the manifest
says (its log), and that the rest of the system is untouched. In the same boot,
tests/drivers/badbar, a PCI driver of QEMU's edu (two of them: its own and one it holds only for a
moment), maps past its BAR and the other's BAR (check_badbar), and a stopped live `trace tty` must
report the entries the ring lost (check_missed). NMIs injected through QEMU's monitor while the
kernel idles and while the shell loops are ignored (check_nmi). Called by tools/test.py as run(record, module)."""
import os
import re
import tempfile
import time

from qemu import Boot, Monitor, monitor_flags, system_modules
from suite_system import PROMPT

HOSTILE = 3  # restart_limit in tests/drivers/badkbd/badkbd.conf: hostile instances 1..3
ATTEMPTS = ["send the keys to inet", "send the keys to vfs", "send the keys to ramfs",
            "out8 COM1 0x3f8", "out32 PCI config 0xcf8", "in8 ATA 0x1f7",
            "map the local APIC 0xfee00000", "enable IRQ 14", "ack IRQ 11",
            "kernel call proc_kill vfs", "kernel call priv_set", "kernel call dmaalloc"]


def trace_patterns(eps):
    """What `trace` must show of one hostile instance: (name, regex) per refusal, from the
    endpoints of the services it tried to reach."""
    deny = r"DENIED E_PERM, argument (\d): "
    return [("ipc_inet", deny + rf"ipc sendnb to endpoint {eps['inet']}$"),
            ("ipc_vfs", deny + rf"ipc send to endpoint {eps['vfs']}$"),
            ("ipc_ramfs", deny + rf"ipc notify to endpoint {eps['ramfs']}$"),
            ("port_com1", deny + r"out8 port 0x3f8 <- 0x58$"),
            ("port_pci", deny + r"out32 port 0xcf8 <- 0x80000000$"),
            ("port_ata", deny + r"in8 port 0x1f7 -> 0x0$"),
            ("mmio_apic", deny + r"mmio map phys 0xfee00000-0xfee00fff \(4096 bytes\) at 0x20000000$"),
            ("irq_14", deny + r"irq 14 enable$"),
            ("irq_11", deny + r"irq 11 ack$"),
            ("kcall_proc_kill", deny + rf"proc_kill \(0x{eps['vfs']:x}, "),
            ("kcall_priv_set", deny + r"priv_set \("),
            ("kcall_dmaalloc", deny + r"dmaalloc \(0x1000, ")]


def run(record, module):
    sock = os.path.join(tempfile.mkdtemp(prefix="baddrv"), "qmp.sock")
    boot = Boot(system_modules(with_services=["badkbd", "badbar"]), console=True,
                extra=["-device", "edu", "-device", "edu"]  # badbar's and the one not its own
                + monitor_flags(sock))
    try:
        check(record, boot)
        check_badbar(record, boot)
        check_missed(record, boot)
        check_nmi(record, boot, sock)
    finally:
        boot.kill()


def service_eps(boot):
    rows = boot.run("service list", PROMPT, 30) or []
    eps = {}
    for row in rows:
        f = row.split()
        if len(f) > 3 and f[1].isdigit():
            eps[f[0]] = (int(f[1]), f[2], int(f[3]))
    return eps


def counted_and_acted(record, boot, said, label, prefix, denials, limit, hostile):
    """PREFIX denials_counted: each hostile instance of label read its own count (KC_PROC_INFO)
    before its flood, rs saw the doublings up to the limit; PREFIX rs_acts_by_policy: a failure
    per instance for its denials, down at its restart_limit (= hostile). The services after."""
    counted = [t for t in said if t.startswith(f"{label}: {denials} denials counted; flooding")]
    reached = [t for t in said if re.match(rf"root: {label} \(endpoint \d+\) has {limit} denied", t)]
    record(prefix + "denials_counted", len(counted) == hostile and len(reached) == hostile,
           f"{len(counted)} instances counted {denials}, {len(reached)} reached {limit}",
           boot.tail())
    log = boot.run("service log", PROMPT, 30) or []
    failed = [t for t in log if re.search(rf"{label} +failed: privilege denials", t)]
    down = [t for t in log if re.search(rf"{label} +down: {hostile} restarts, the limit", t)]
    after = service_eps(boot)
    record(prefix + "rs_acts_by_policy",
           len(failed) == hostile and len(down) == 1 and after.get(label, (0, ""))[1] == "down",
           f"{len(failed)} failures for denials, down: {bool(down)}, list: {after.get(label)}",
           log[-8:])
    return after


def check(record, boot):
    if not boot.wait_prompt(PROMPT, 180):
        record("baddrv.boot", False, "no shell prompt", boot.tail())
        return
    before = service_eps(boot)
    quiet = before.get("badkbd", (0, "", 0))
    record("baddrv.quiet_instance_runs", quiet[1] == "up" and any(
        re.search(r"badkbd: instance 0: status 0x[0-9a-f]+, IRQ 1 enabled", t) for _, t in boot.lines),
        f"service list: {quiet}", boot.tail())
    # follow it live, in the background, then have rs start the hostile instances
    boot.run("trace badkbd > /tmp/live 2>&1 &", PROMPT, 30)
    boot.run("sleep 1", PROMPT, 30)
    start = len(boot.lines)
    boot.run("service restart badkbd", PROMPT, 60)
    i, _ = boot.wait_for(r"rs: \*\*\* service badkbd failed after 3 restarts", 60, start)
    boot.run("sleep 1; kill $!; sleep 1", PROMPT, 30)
    with boot.cond:
        said = [t for _, t in boot.lines[start:]]

    # refused: every attempt of every hostile instance, by the driver's own account
    results = [re.match(r"badkbd: (.*): (refused \(E_PERM\)|error|ALLOWED)$", t) for t in said]
    results = [(m.group(1), m.group(2)) for m in results if m]
    wrong = [r for r in results if r[1] != "refused (E_PERM)"]
    record("baddrv.every_attempt_refused",
           len(results) == HOSTILE * len(ATTEMPTS) and not wrong and
           all(sum(r[0] == a for r in results) == HOSTILE for a in ATTEMPTS),
           f"{len(results)} attempts, {len(wrong)} not refused: {wrong[:3]}", boot.tail())
    after = counted_and_acted(record, boot, said, "badkbd", "baddrv.", len(ATTEMPTS), 64, HOSTILE)
    # traced: each refusal of each hostile instance, the allowed operations too
    eps = {name: v[0] for name, v in before.items()}
    trace = boot.run("trace -n 5000 badkbd", PROMPT, 60) or []
    by_ep = {}
    for t in trace:
        m = re.match(r" *\d+ \[ *\d+\.\d+\] ep (\d+) +(.*)$", t)
        if m:
            by_ep.setdefault(int(m.group(1)), []).append(m.group(2))
    hostile = [e for e in by_ep if e != quiet[0]]
    missing = []
    for e in hostile:
        for name, pattern in trace_patterns(eps):
            if not any(re.search(pattern, what) for what in by_ep[e]):
                missing.append(f"{e}:{name}")
    record("baddrv.trace_shows_each_refusal", len(hostile) == HOSTILE and not missing,
           f"instances {sorted(hostile)}, missing {missing[:6]}", trace[-10:])
    allowed = [e for e in hostile if any(re.match(r"in8 port 0x64 -> 0x[0-9a-f]+$", w)
                                         for w in by_ep[e])
               and any(w == "irq 1 enable" for w in by_ep[e])]
    flood = [e for e in hostile if sum(w.endswith(f"ipc notify to endpoint {eps['inet']}")
                                       for w in by_ep[e]) >= 64 - len(ATTEMPTS)]
    record("baddrv.trace_shows_device_ops", len(allowed) == HOSTILE and len(flood) == HOSTILE,
           f"port 0x64 and IRQ 1 in {len(allowed)} instances, the flood in {len(flood)}",
           trace[-10:])
    # the live trace followed each new instance
    live = boot.run("cat /tmp/live", PROMPT, 30) or []
    new = [t for t in live if re.match(r"trace: badkbd has a new instance, endpoint \d+$", t)]
    seen = {int(m.group(1)) for m in (re.match(r" *\d+ \[ *\d+\.\d+\] ep (\d+) ", t) for t in live) if m}
    record("baddrv.live_trace_follows_restarts",
           any(t.startswith("trace: badkbd, endpoint") for t in live) and len(new) >= HOSTILE and
           set(hostile) <= seen, f"{len(new)} new instances announced, endpoints {sorted(seen)}",
           live[:6] + live[-6:])
    # the rest of the system: nothing else restarted, the shell and files work
    others = {k: v for k, v in after.items() if k not in ("badkbd", "badbar")}
    restarted = [k for k, v in others.items() if v[2] or v[1] != "up"]
    out = boot.run("echo intact > /tmp/x && cat /tmp/x", PROMPT, 30) or []
    record("baddrv.system_intact", not restarted and "intact" in out and len(others) >= 8,
           f"restarted or down: {restarted}", boot.tail())
    usage = boot.run("trace -n 0 badkbd; echo status $?; trace -n 3 nosuch; echo status $?",
                     PROMPT, 30) or []
    record("baddrv.trace_bad_input", "status 2" in usage and "status 1" in usage and
           any("no such service" in t for t in usage), f"{usage}")


# badbar (tests/drivers/badbar): a PCI driver with a real device, QEMU's edu (two of them: its own
# and one that is not). Each hostile instance's attempts and what each must get.
BAR_HOSTILE = 2  # restart_limit in tests/drivers/badbar/badbar.conf
BAR_ATTEMPTS = [("map the page past its BAR", "E_PERM"), ("map the page before its BAR", "E_PERM"),
                ("map its BAR and one page more", "E_PERM"),
                ("map its last page and the next", "E_PERM"),
                ("map a page of the other edu's BAR", "E_PERM"),
                ("map the other edu's whole BAR", "E_PERM"),
                ("write through the old mapping of the other edu's BAR", "E_FAULT"),
                ("map a length that wraps", "E_INVAL"),
                ("move its BAR onto the other edu's", "E_PERM")]
BAR_DENIALS = 6  # the kernel's: the six mappings (the wrap is an argument error, the BAR move
BAR_LIMIT = 32   # the pci server's refusal); denial_limit in badbar.conf


def bar_patterns(own, size, other, osize):
    """What `trace` must show of one hostile badbar instance: (name, regex) per attempt."""
    def mmio(pa, n, va=0x40000000):
        return rf"mmio map phys 0x{pa:x}-0x{pa + n - 1:x} \({n} bytes\) at 0x{va:x}$"
    deny, end, page = r"DENIED E_PERM, argument 1: ", own + size, 4096
    return [("own_bar", "^" + mmio(own, size, 0x20000000)),
            ("other_while_reserved", "^" + mmio(other, osize, 0x30000000)),
            ("past", deny + mmio(end, page)), ("before", deny + mmio(own - page, page)),
            ("bar_and_page", deny + mmio(own, size + page)),
            ("last_and_next", deny + mmio(end - page, 2 * page)),
            ("other_page", deny + mmio(other, page)), ("other_whole", deny + mmio(other, osize)),
            ("wrap", rf"REFUSED E_INVAL, argument 2: mmio map phys 0x{own:x}-0xffffffffffffffff ")]


def check_badbar(record, boot):
    before = service_eps(boot)
    said = [t for _, t in boot.lines]
    m = next((re.match(r"badbar: instance 0: BAR (0x[0-9a-f]+)\+(0x[0-9a-f]+) reads 0x10000ed$", t)
              for t in said if t.startswith("badbar: instance 0")), None)
    record("baddrv.bar_quiet_instance_maps_its_bar", m is not None and
           before.get("badbar", (0, ""))[1] == "up", f"badbar: {before.get('badbar')}", boot.tail())
    if not m:
        return
    own, size = int(m.group(1), 16), int(m.group(2), 16)
    boot.run("trace -on badbar", PROMPT, 30)  # its allowed mappings traced too
    start = len(boot.lines)
    boot.run("service restart badbar", PROMPT, 60)
    boot.wait_for(r"rs: \*\*\* service badbar failed after 2 restarts", 60, start)
    with boot.cond:
        said = [t for _, t in boot.lines[start:]]
    results = [re.match(r"badbar: (.*): (refused \((E_[A-Z]+)\)|error|ALLOWED)$", t) for t in said]
    results = [(r.group(1), r.group(3) or r.group(2)) for r in results if r]
    wrong = [r for r in results if r not in BAR_ATTEMPTS]
    record("baddrv.bar_every_attempt_refused",
           len(results) == BAR_HOSTILE * len(BAR_ATTEMPTS) and not wrong and
           all(results.count(a) == BAR_HOSTILE for a in BAR_ATTEMPTS),
           f"{len(results)} attempts, {len(wrong)} not refused as expected: {wrong[:3]}",
           boot.tail())
    msi = [t for t in said if t == "badbar: an MSI at vector 13 raised; still running"]
    panic = [t for _, t in boot.lines if "kernel panic" in t]
    record("baddrv.bar_msi_raises_no_vector", len(msi) == BAR_HOSTILE and not panic,
           f"{len(msi)} instances survived their MSI, panic: {panic[:1]}", boot.tail())
    others = [re.match(r"badbar: the other edu at (0x[0-9a-f]+)\+(0x[0-9a-f]+) reads 0x10000ed ", t)
              for t in said]
    others = {(int(o.group(1), 16), int(o.group(2), 16)) for o in others if o}
    still = [t for t in said if re.match(r"badbar: its own BAR reads 0x10000ed still$", t)]
    record("baddrv.bar_devices_work", len(others) == 1 and len(still) == BAR_HOSTILE,
           f"the other edu: {others}, own BAR intact in {len(still)}", boot.tail())
    after = counted_and_acted(record, boot, said, "badbar", "baddrv.bar_", BAR_DENIALS, BAR_LIMIT,
                              BAR_HOSTILE)
    if len(others) != 1:
        return
    other, osize = others.pop()
    trace = boot.run("trace -n 300 badbar", PROMPT, 60) or []
    by_ep = {}
    for t in trace:
        e = re.match(r" *\d+ \[ *\d+\.\d+\] ep (\d+) +(.*)$", t)
        if e:
            by_ep.setdefault(int(e.group(1)), []).append(e.group(2))
    hostile = [e for e in by_ep if e != before["badbar"][0]]
    missing = [f"{e}:{name}" for e in hostile for name, pattern in
               bar_patterns(own, size, other, osize)
               if not any(re.search(pattern, w) for w in by_ep[e])]
    flood = [e for e in hostile if sum(w.endswith(f"phys 0x{own + size:x}-0x{own + size + 4095:x} "
                                                  "(4096 bytes) at 0x40000000") and "DENIED" in w
                                       for w in by_ep[e]) >= BAR_LIMIT - BAR_DENIALS]
    record("baddrv.bar_trace_shows_each_refusal",
           len(hostile) == BAR_HOSTILE and not missing and len(flood) == BAR_HOSTILE,
           f"instances {sorted(hostile)}, missing {missing[:6]}, flood in {len(flood)}",
           trace[-10:])
    rest = {k: v for k, v in after.items() if k not in ("badkbd", "badbar")}
    record("baddrv.bar_system_intact",
           all(v == before.get(k) for k, v in rest.items()) and len(rest) >= 8,
           f"changed: {[k for k, v in rest.items() if v != before.get(k)]}", boot.tail())


def check_missed(record, boot):
    """`trace` says how many entries it missed when the ring (1024 entries) wrapped past what it
    had read: a live `trace tty` stopped while the console prints ~1,500 characters (tty polls
    the UART's status for each: several entries a character), then continued."""
    boot.run("trace tty > /tmp/tty 2>&1 & sleep 1; echo read; sleep 1; kill -STOP $!", PROMPT, 30)
    boot.run("seq 1 400", PROMPT, 60)
    boot.run("kill -CONT $!; sleep 1; kill $!; sleep 1", PROMPT, 30)
    out = boot.run("cat /tmp/tty", PROMPT, 60) or []
    seqs, gaps = [], []
    for t in out:
        m = re.match(r" *(\d+) \[ *\d+\.\d+\] ep ", t)
        if m:
            seqs.append(int(m.group(1)))
        m = re.match(r"trace: missed (\d+) entries \(the ring wrapped\)$", t)
        if m:
            gaps.append((int(m.group(1)), len(seqs)))
    # the entries after the message start at least N past the last one printed before it
    ok = [n for n, i in gaps if 0 < i < len(seqs) and n > 0 and seqs[i] - seqs[i - 1] > n]
    record("baddrv.trace_reports_missed_entries", len(gaps) >= 1 and len(ok) == len(gaps),
           f"missed {[n for n, _ in gaps]}, {len(seqs)} entries", [t for t in out if "trace:" in t][:6])


def check_nmi(record, boot, sock):
    """An NMI (QMP inject-nmi; on real machines a device's SERR#) is ignored wherever it lands: the
    kernel panicked on one that came while it ran (the idle loop, or any kernel code)."""
    monitor = Monitor(sock)
    try:
        for _ in range(5):  # at the prompt: the kernel idles
            monitor.command("inject-nmi")
            time.sleep(0.1)
        start = len(boot.lines)
        boot.send("i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done; echo looped $i\n")
        for _ in range(20):  # while the shell loops: user mode and kernel calls
            monitor.command("inject-nmi")
            time.sleep(0.05)
        looped = boot.wait_for(r"^looped 20000", 60, start)[0] is not None
        out = boot.run("echo nmi alive", PROMPT, 30) or []
    except OSError as e:  # QEMU left: the kernel panicked (-no-reboot)
        looped, out = None, [str(e)]
    finally:
        try:
            monitor.close()
        except OSError:
            pass
    panicked = [t for _, t in boot.lines if "kernel panic" in t]
    record("baddrv.nmi_ignored", bool(looped) and "nmi alive" in out and not panicked,
           f"looped {bool(looped)}, panic lines {panicked[:2]}", boot.tail())
