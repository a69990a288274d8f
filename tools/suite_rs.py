"""Reincarnation: the demo driver is killed 1,000 times by an administrator's
request while a client uses it; every answer must continue the counter (its
state came back), and root's figures give the recovery time. Called by
tools/test.py as run(record, module)."""
import os
import re

from qemu import Boot, collect_tests, images_named, record_logged


def run(record, module):
    run_kills(record, module)
    run_rstest(record, module)
    run_bad_manifest(record, module)
    run_bus_master_off(record, module)
    run_update_escalation(record, module)
    run_ipc_restarts(record, module)


def run_kills(record, module):
    boot = Boot([module("root"), module("ds"), module("demo"), module("demotest", "1000")])
    try:
        i, m = boot.wait_for(r"^TEST (rs\.\S+) (PASS|FAIL)", timeout=240)
        if i is None:
            record("rs.demo_killed_1000_times", False, "no result", boot.tail())
            return
        figures = [t for _, t in boot.lines if t.startswith(("RECOVERY", "demotest: 1000"))]
        record(m.group(1), m.group(2) == "PASS", "; ".join(figures),
               None if m.group(2) == "PASS" else boot.tail())
    finally:
        boot.kill()


def run_rstest(record, module):
    """rs's other ways of noticing failure (heartbeats, denials, complaints), its
    back-off and limit, administrator requests, and who may send rs what:
    tests/servers/rstest. rsother is rstest's image under another name (a link),
    the service that depends on no one. slowstart and slowhung are demo's image
    computing 500 ms and 3 s in their start-up (rs's start-up grace)."""
    with images_named(module, "rstest", "rsother") as (_, (other,)), \
            images_named(module, "demo", "slowstart", "slowhung") as (_, (slow, hung)), \
            Boot([module("root"), module("ds"), module("pci"), module("demo"),
                  module("crashy", "crash"), module("rstest"), other + " other",
                  slow + " slow 500 slowstart", hung + " slow 3000 slowhung"]) as boot:
        collect_tests(boot, record, "rs", "rstest", timeout=120, exit_status=1)
        for _, t in boot.lines:  # the measurements the tests printed (not results)
            if t.startswith("rs.") and ":" in t:
                print(f"  measured {t}", flush=True)
        # every refusal is logged on the console too, with its reason
        want = ["/dev/service write from rstest: only vfs forwards /dev/service (refusal 1)",
                "complaint from rsother: its manifest does not name the target under 'ipc'",
                "pci: refused request 0x4901 from endpoint "]
        record_logged(record, boot, "rs.refusals_logged", *want)


def bundle_manifests(name, confs):
    """A manifests boot module from (path, text) pairs, in build/NAME."""
    import subprocess
    from qemu import BUILD, ROOT
    top = os.path.join(BUILD, name)
    for path, text in confs:
        os.makedirs(os.path.join(top, os.path.dirname(path)), exist_ok=True)
        with open(os.path.join(top, path), "w") as f:
            f.write(text)
    bundle = os.path.join(top, "manifests")  # a boot module must be called "manifests"
    subprocess.run([os.path.join(ROOT, "tools/pack-manifests.sh"), bundle] + [p for p, _ in confs],
                   cwd=top, check=True)
    return bundle


def run_bus_master_off(record, module):
    """A driver's PCI device (here q35's AHCI controller, 8086:2922 at 00:1f.2,
    named in demo's manifest for the test) is quiesced by the pci server when rs
    asks at the driver's death, before its replacement runs: bus mastering off and
    INTx disabled, read back from the device. The driver holds DMA memory, which rs
    frees after each quiesce: after 20 kills the free frames are what they were.
    Without the pci server rs says so and keeps the DMA memory quarantined."""
    from qemu import ROOT
    read = lambda p: open(os.path.join(ROOT, p)).read()
    demo = (read("tests/fixtures/demo/demo.conf").replace("policy ", "# policy ")
            + "pci 8086:2922\nkcalls dmaalloc\nargs dma 16\n")
    confs = [("tests/fixtures/demo/demo.conf", demo),
             ("servers/ds/ds.conf", read("servers/ds/ds.conf")),
             ("drivers/bus/pci/pci.conf", read("drivers/bus/pci/pci.conf")),
             ("tests/servers/demotest/demotest.conf", read("tests/servers/demotest/demotest.conf"))]
    bundle = bundle_manifests("busmaster", confs)
    boot = Boot([module("root"), module("ds"), module("pci"), module("demo"),
                 module("demotest", "20"), bundle])
    try:
        i, m = boot.wait_for(r"^TEST (rs\.\S+) (PASS|FAIL)", timeout=90)
        text = [t for _, t in boot.lines]
        lines = [t for t in text if t.startswith("pci: demo died: ")]
        shape = re.compile(r"pci: demo died: 00:1f\.2 \(8086:2922\) command 0x[0-9a-f]{4} -> "
                           r"0x([0-9a-f]{4}), bus master and INTx off$")
        after = [shape.match(t) for t in lines]
        ok = (i is not None and m.group(2) == "PASS" and len(lines) == 20 and
              all(a and int(a.group(1), 16) & 0x404 == 0x400 for a in after) and
              text.count("rs: demo: pci quiesced 1 device(s)") == 20)
        record("rs.bus_mastering_off_at_death", ok, "; ".join(lines[:1]), None if ok else boot.tail())
        frames = [t for t in text if t.startswith("demotest: ") and "free frames" in t]
        released = text.count("rs: demo: DMA memory released (16 pages)")
        ok = (len(frames) == 1 and frames[0].split()[1] == frames[0].split()[7] and released == 20)
        record("rs.dma_released_after_quiesce", ok, f"{frames}; {released} releases",
               None if ok else boot.tail())
    finally:
        boot.kill()
    bundle = bundle_manifests("nopci", confs)
    boot = Boot([module("root"), module("ds"), module("demo"), module("demotest", "2"), bundle])
    try:
        i, m = boot.wait_for(r"^TEST (rs\.\S+) (PASS|FAIL)", timeout=60)
        text = [t for _, t in boot.lines]
        ok = (i is not None and
              text.count("rs: demo: pci server unreachable (E_SRCH): its devices may still do DMA")
              == 2 and text.count("rs: demo: its DMA memory stays quarantined") == 2 and
              not any("DMA memory released" in t for t in text))
        record("rs.no_pci_server_dma_kept", ok, "", None if ok else boot.tail())
    finally:
        boot.kill()


def run_bad_manifest(record, module):
    """A manifest with an error: rs names its file and line, does not start that
    service, and starts the others."""
    from qemu import ROOT
    bundle = bundle_manifests("bad", [
        ("tests/fixtures/demo/demo.conf", "# demo, broken on purpose\nlabel demo\nrestart immediate\nfrob 1\n"),
        ("drivers/tty/tty.conf", open(os.path.join(ROOT, "drivers/tty/tty.conf")).read())])
    boot = Boot([module("root"), module("demo"), module("tty"), bundle])
    try:
        i, _ = boot.wait_for(r"^rs: started \d+ services", timeout=30)
        text = [t for _, t in boot.lines]
        ok = (i is not None and "rs: tests/fixtures/demo/demo.conf:4: unknown key 'frob'" in text and
              "rs: not starting demo: its manifest has errors" in text and
              boot.lines[i][1] == "rs: started 1 services: tty")
        record("rs.bad_manifest_named_and_skipped", ok, "", None if ok else boot.tail())
    finally:
        boot.kill()


def run_update_escalation(record, module):
    """`service update` runs a program of the administrator's choice with the privileges of
    the manifest it replaces: never one that says `manage yes` (demo, here, for the test) or
    `users yes` (pm, vfs), forced or not; rs itself is no service."""
    import glob
    from qemu import ROOT, system_modules
    confs = []
    for path in sorted(glob.glob(os.path.join(ROOT, "*", "**", "*.conf"), recursive=True)):
        rel = os.path.relpath(path, ROOT)
        if rel.split(os.sep)[0] not in ("servers", "fs", "drivers", "tests"):
            continue
        text = open(path).read()
        if rel == os.path.join("tests", "fixtures", "demo", "demo.conf"):
            text += "manage yes\n"
        if rel == os.path.join("servers", "ipc", "ipc.conf"):  # restart never, no `lost` line:
            text = text.replace("restart immediate", "restart never")  # the general words
        confs.append((rel, text))
    bundle = bundle_manifests("manage", confs)
    boot = Boot(system_modules(with_services=["demo"]) + [bundle], console=True)
    try:
        if not boot.wait_prompt("# ", 30):
            record("rs.update_cannot_escalate", False, "no prompt", boot.tail())
            return
        command = ("service update demo /bin/demo; echo st=$?; service update -f demo /bin/demo; "
                   "service update vfs /bin/demo; service update -f pm /bin/demo; "
                   "service update root /bin/demo; service list | grep -c ' up '")
        out = boot.run(command, "# ", 30)
        want = ["error: update demo: refused: its manifest says 'manage yes'", "st=1",
                "error: update demo: refused: its manifest says 'manage yes'",
                "error: update vfs: refused: its manifest says 'users yes'",
                "error: update pm: refused: its manifest says 'users yes'",
                "error: update root: no such service"]
        ok = out is not None and out[:6] == want and len(out) == 7 and int(out[6]) >= 6
        record("rs.update_cannot_escalate", ok, "" if ok else f"printed {out!r}",
               None if ok else boot.tail())
        # The ipc server made `restart never` above (its region still listed `kept`): `service
        # kill` without -f is refused in general words, exit status 1, and ipc stays up
        out = boot.run("service kill ipc; echo st=$?; service list | grep '^ipc '", "# ", 30)
        want = ("error: kill ipc: refused: ipc is not restarted after a kill (restart never): "
                "what it keeps in memory is lost and requests to it fail; "
                "use service kill -f ipc to kill it anyway")
        ok = (out is not None and out[:2] == [want, "st=1"] and len(out) == 3
              and out[2].split()[2] == "up" and out[2].split()[-2:] == ["never", "kept"])
        record("rs.kill_never_policy_needs_force", ok, "" if ok else f"printed {out!r}",
               None if ok else boot.tail())
        # The ipc server (restart never) killed: pm forgets it; ids still change (su), and
        # forks are not refused one by one (docs/IPC-SYSV.md, "When the server dies").
        out = boot.run("service kill -f ipc; sleep 1; su user -c 'echo hi'; echo st=$?; "
                       "su user -c true; echo st=$?", "# ", 30)
        ok = (out is not None and "hi" in out and out.count("st=0") == 2 and
              any("ipc server (endpoint" in line and "is gone" in line for line in out) and
              not any("did not take pid" in line for line in out))
        listed = boot.run("service list | grep '^ipc '", "# ", 30)
        ok = ok and listed is not None and len(listed) == 1 and listed[0].split()[2] == "down"
        record("rs.ipc_gone_ids_still_change", ok, "" if ok else f"printed {out!r}, {listed!r}",
               None if ok else boot.tail())
    finally:
        boot.kill()


def run_ipc_restarts(record, module):
    """The ipc server keeps its System V objects across its deaths (docs/IPC-SYSV.md,
    "Restarts"): user/sysvkeep.c checks itself; a scrambled region starts fresh."""
    from qemu import system_modules
    boot = Boot(system_modules(), console=True)
    try:
        if not boot.wait_prompt("# ", 60):
            record("rs.ipc_kill_keeps_objects", False, "no prompt", boot.tail())
            return
        # A queue with 3 messages, a semaphore set, an attached segment, a child in msgrcv;
        # `service kill ipc`: the same messages, values, ids and times; the child got EINTR;
        # the segment still attached is the same memory as a new attachment of it
        out = boot.run("sysvkeep kill; echo st=$?; service log | grep 'ipc.*ready after' | tail -1",
                       "# ", 60)
        ok = (out is not None and "sysvkeep: 28 passed, 0 failed" in out and "st=0" in out and
              any("ipc: objects kept across a restart: 1 queues, 1 semaphore sets, 1 segments"
                  in line and "(1 waited: EINTR)" in line for line in out))
        ready = [line for line in out or [] if "ready after" in line]
        record("rs.ipc_kill_keeps_objects", ok, ready[-1].strip() if ok and ready else
               f"printed {out!r}", None if ok else boot.tail())
        # 200 kills at random instants (rs's chaos: in the middle of requests) while a loop
        # sends, receives, semops and counts in a segment, checking each; a call answered
        # EINTR is looked up in the objects (it took effect or not, never half)
        out = boot.run("service chaos ipc 200 20 90; sysvkeep loop 20; echo st=$?; sleep 1; "
                       "service log | grep -c 'ipc.*chaos: done, 200 kills'; "
                       "service list | grep '^ipc '", "# ", 120)
        summary = [line for line in out or [] if line.startswith("sysvkeep: ")]
        ok = (out is not None and "st=0" in out and out[-2:-1] == ["1"] and
              out[-1].split()[2] == "up" and any(l.endswith(" 0 failed") for l in summary))
        record("rs.ipc_chaos_200_kills", ok, "; ".join(summary) if ok else f"printed {out!r}",
               None if ok else boot.tail())
        # A scrambled region: the next instance starts fresh, says so, and serves new calls
        out = boot.run("service scramble ipc; sleep 1; sysvkeep loop 1; echo st=$?", "# ", 60)
        ok = (out is not None and "st=0" in out and
              any("ipc: state region unusable (bad header): starting fresh" in l for l in out) and
              not any("objects kept" in l for l in out))
        record("rs.ipc_scrambled_starts_fresh", ok, "" if ok else f"printed {out!r}",
               None if ok else boot.tail())
    finally:
        boot.kill()
