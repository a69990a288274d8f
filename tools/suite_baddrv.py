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
says (its log), and that the rest of the system is untouched. Called by tools/test.py as
run(record, module)."""
import re

from qemu import Boot, system_modules
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
    boot = Boot(system_modules(with_services=["badkbd"]), console=True)
    try:
        check(record, boot)
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
    # counted: the driver read its own count (KC_PROC_INFO), rs saw the doublings up to the limit
    counted = [t for t in said if re.match(rf"badkbd: {len(ATTEMPTS)} denials counted; flooding", t)]
    limit = [t for t in said if re.match(r"root: badkbd \(endpoint \d+\) has 64 denied", t)]
    record("baddrv.denials_counted", len(counted) == HOSTILE and len(limit) == HOSTILE,
           f"{len(counted)} instances counted {len(ATTEMPTS)}, {len(limit)} reached 64",
           boot.tail())
    # rs acted as the manifest says: a failure per instance for its denials, down at the limit
    log = boot.run("service log", PROMPT, 30) or []
    failed = [t for t in log if re.search(r"badkbd +failed: privilege denials", t)]
    down = [t for t in log if re.search(r"badkbd +down: 3 restarts, the limit", t)]
    after = service_eps(boot)
    record("baddrv.rs_acts_by_policy",
           len(failed) == HOSTILE and len(down) == 1 and after.get("badkbd", (0, ""))[1] == "down",
           f"{len(failed)} failures for denials, down: {bool(down)}, list: {after.get('badkbd')}",
           log[-8:])
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
    others = {k: v for k, v in after.items() if k != "badkbd"}
    restarted = [k for k, v in others.items() if v[2] or v[1] != "up"]
    out = boot.run("echo intact > /tmp/x && cat /tmp/x", PROMPT, 30) or []
    record("baddrv.system_intact", not restarted and "intact" in out and len(others) >= 8,
           f"restarted or down: {restarted}", boot.tail())
    usage = boot.run("trace -n 0 badkbd; echo status $?; trace -n 3 nosuch; echo status $?",
                     PROMPT, 30) or []
    record("baddrv.trace_bad_input", "status 2" in usage and "status 1" in usage and
           any("no such service" in t for t in usage), f"{usage}")
