"""The whole system: boot root, the services and init from the initramfs,
then type commands into the BusyBox shell on the serial console and check
what it prints. Host tools are the referees where they can be (sha256sum).
Called by tools/test.py as run(record, module)."""
import hashlib
import os
import re
import time

from qemu import BUILD, NICS, Boot, collect_tests, make_run_boot, run_boot, system_modules
from suite_wget import serve

PROMPT = "# "


def run(record, module):
    if not os.path.exists(os.path.join(BUILD, "initramfs.cpio")):
        record("system.initramfs_built", False, "build/initramfs.cpio missing (make userland)")
        return
    run_default_boot(record)
    run_shell(record, module)
    run_utest(record, module)


def run_default_boot(record):
    """`make run`'s boot (make_run_boot: its defaults, behind the IOMMU; make_run_fenced): the
    demo driver is not in it, /dev/demo has no driver, and `service update demo` says there is no such service. The shell
    tests and utest boot with demo (with_services). Then the other cards of NIC=: each boots
    to a prompt with its driver up and owning its device (/dev/pci). No boot's log has ds
    refusing a write (rs holds each service's start-up until ds knows its owner.LABEL)."""
    refused = []
    for name in ("e1000", "rtl8139"):
        mods, flags = run_boot(name)
        driver = NICS[name][0]
        boot = Boot(mods, extra=flags, console=True)
        try:
            ok = boot.wait_prompt(PROMPT, 30)
            if ok:
                check(record, boot, f"system.make_run_nic_{name}",
                      f"grep -c 'owner {driver} ' /dev/pci; service list | grep -c '^{driver} .* up '",
                      ["1", "1"])
            else:
                record(f"system.make_run_nic_{name}", False, "no prompt", boot.tail())
        finally:
            boot.kill()
            refused += [t for _, t in boot.lines if t.startswith("ds: refused")]
    data = os.urandom(256 * 1024)
    httpd = serve(data)
    mods, flags = make_run_boot(env={})  # exactly `make run` with no knobs given
    boot = Boot(mods, extra=flags, console=True)
    try:
        ok = boot.wait_prompt(PROMPT, 60)
        record("system.default_boot_prompt", ok, "" if ok else "no prompt", boot.tail())
        if ok:
            make_run_fenced(record, boot, httpd.server_address[1], hashlib.sha256(data).hexdigest())
            check(record, boot, "system.default_boot_without_demo",
                  "service list | grep -c demo; head -c 3 /dev/demo; echo st=$?; "
                  "service update demo /bin/demo; echo st=$?",
                  lambda out: out[:1] == ["0"] and out[-3:] == [
                      "st=1", "error: update demo: no such service", "st=1"])
            check(record, boot, "system.make_run_nic_virtio",
                  "grep -c 'owner virtio_net ' /dev/pci; service list | grep -c '^virtio_net .* up '",
                  ["1", "1"])
    finally:
        boot.kill()
        httpd.shutdown()
    refused += [t for _, t in boot.lines if t.startswith("ds: refused")]
    record("system.boot_log_no_ds_refusal", not refused, "; ".join(refused[:3]))


def make_run_fenced(record, boot, port, want):
    """`make run`'s default system behind the IOMMU (docs/IOMMU.md): remapping on, virtio_net and
    virtio_blk on the virtio 1.x transport with ACCESS_PLATFORM, a download from the host
    (10.0.2.2, QEMU's user networking as make run has it) checked by sha256 and a file written to
    the ext2 root on the virtio disk and compared, with no DMA fault."""
    text = "\n".join(t for _, t in boot.lines)
    on = re.search(r"iommu: VT-d at \w+: DMA remapping on", text)
    platform = [d for d in ("virtio_net", "virtio_blk")
                if re.search(r"%s: .* at MMIO 0x\w+ \(virtio 1.x, IOMMU platform\)" % d, text)]
    ok = bool(on) and len(platform) == 2
    record("system.make_run_iommu_on", ok, f"remapping {'on' if on else 'off'}, "
           f"IOMMU platform: {' '.join(platform) or 'none'}", None if ok else boot.tail())
    work = (f"wget -q -O - http://10.0.2.2:{port}/file | sha256sum; cp /bin/busybox /root/f && "
            "sync && cmp /bin/busybox /root/f && rm /root/f && echo same")
    check(record, boot, "system.make_run_fenced_net_and_disk", work,
          lambda out: len(out) == 2 and out[0].split()[:1] == [want] and out[1] == "same", 60)
    # both drivers killed: their functions are unbound, their DMA memory released, the new
    # instances bound again (kernel/iommu.c); the same work, with no DMA fault
    check(record, boot, "system.make_run_fenced_after_driver_kills",
          "service kill virtio_net; service kill virtio_blk; sleep 1; " + work,
          lambda out: "kill virtio_net: done" in out and "kill virtio_blk: done" in out
          and [o for o in out if not o.startswith(("inet: ", "rs: ", "virtio_", "pci: "))][-2:]
          == [want + "  -", "same"], 60)
    faults = [t for _, t in boot.lines if "DMA fault" in t]
    record("system.make_run_no_dma_fault", not faults, "; ".join(faults[:2]))


def run_shell(record, module):
    boot = Boot(system_modules(with_services=["demo"]), console=True)
    try:
        t0 = time.monotonic()
        ok = boot.wait_prompt(PROMPT, 30)
        took = time.monotonic() - boot.start
        record("system.shell_prompt_within_2s", ok and took < 2.0,
               f"prompt {took*1000:.0f} ms after QEMU started" if ok else "no prompt", boot.tail())
        if not ok:
            return
        shell_tests(record, boot)
    finally:
        boot.kill()


def check(record, boot, name, command, expect, timeout=30):
    """Run command; expect is a list of lines, or a function of the output lines."""
    out = boot.run(command, PROMPT, timeout)
    if out is None:
        record(name, False, f"no prompt after {command!r}", boot.tail())
        return None
    out = [line for line in out if not line.startswith(("root: ", "kernel: ", "pm: ", "demo: restart "))]
    ok = expect(out) if callable(expect) else out == expect
    record(name, ok, "" if ok else f"{command!r} printed {out!r}", None if ok else boot.tail())
    return out


def interrupt_sleep(record, boot, name):
    """^C typed under a running `sleep 30` gives the prompt back."""
    boot.send("sleep 30\n")
    time.sleep(1.0)
    boot.send("\x03")
    ok = boot.wait_prompt(PROMPT, 5)
    record(name, ok, "" if ok else "no prompt after ^C", boot.tail())


def typed(boot, keys, prompt):
    """Type keys: a command that keeps running (prompt False: a second to start), or a control
    character that gives the prompt back (prompt True: whether it came within 10 s)."""
    with boot.cond:
        start = len(boot.lines)
    boot.send(keys)
    if not prompt:
        time.sleep(1.0)
        return True
    return boot.wait_prompt(PROMPT, 10, after=start)


def job_control(record, boot):
    """BusyBox sh's job control on the console (tty, vfs, pm): a background job, ^Z stops the
    foreground one (SIGTSTP to its group), jobs, bg, fg, ^C, ^\\ and kill %N."""
    check(record, boot, "system.job_background", "sleep 100 & jobs",
          lambda out: any(re.match(r"\[1\]\+ +Running +sleep 100", l) for l in out))
    ok = typed(boot, "sleep 50\n", False) and typed(boot, "\x1a", True)
    record("system.job_ctrl_z_prompt", ok, "" if ok else "no prompt after ^Z", boot.tail())
    check(record, boot, "system.job_ctrl_z_stopped", "jobs",
          lambda out: any(re.match(r"\[2\]\+ +Stopped +sleep 50", l) for l in out)
          and any(re.match(r"\[1\]- +Running +sleep 100", l) for l in out))
    check(record, boot, "system.job_bg", "bg %2; jobs",
          lambda out: any(re.match(r"\[2\]\+ +Running +sleep 50", l) for l in out))
    ok = typed(boot, "fg %2\n", False) and typed(boot, "\x03", True)
    record("system.job_fg_ctrl_c", ok, "" if ok else "no prompt after fg and ^C", boot.tail())
    check(record, boot, "system.job_fg_status", "echo status=$?", ["status=130"])
    check(record, boot, "system.job_kill_percent", "kill %1; sleep 1", lambda out: True)
    check(record, boot, "system.job_none_left", "jobs; echo end",
          lambda out: not any("sleep" in l for l in out) and out[-1:] == ["end"])
    ok = typed(boot, "sleep 30\n", False) and typed(boot, "\x1c", True)
    record("system.job_ctrl_backslash", ok, "" if ok else "no prompt after ^\\", boot.tail())
    check(record, boot, "system.job_quit_status", "echo status=$?", ["status=131"])


def shell_tests(record, boot):
    check(record, boot, "system.echo", "echo hello samsara", ["hello samsara"])
    check(record, boot, "system.pipeline", "ls /bin | sort | head -3", ["[", "[[", "acpid"])
    check(record, boot, "system.redirection",
          "echo one > /tmp/r; echo two >> /tmp/r; cat < /tmp/r; wc -l < /tmp/r",
          ["one", "two", "2"])
    # sendfile: every byte of a file larger than the terminal's buffers reaches the console
    check(record, boot, "system.cat_13893_bytes_to_console", "seq 1 3000 > /tmp/seq; cat /tmp/seq",
          [str(i) for i in range(1, 3001)], timeout=60)
    host = hashlib.sha256(open(os.path.join(BUILD, "rootfs/bin/busybox"), "rb").read()).hexdigest()
    check(record, boot, "system.sha256sum_matches_host", "sha256sum /bin/busybox",
          [f"{host}  /bin/busybox"])
    check(record, boot, "system.loop_script",
          "printf 'i=0\\nwhile [ $i -lt 4 ]; do echo step$i; i=$((i+1)); done\\n' > /tmp/s.sh; "
          "sh /tmp/s.sh",
          ["step0", "step1", "step2", "step3"])
    check(record, boot, "system.ps_lists_processes", "sleep 20 & ps; kill $!",
          lambda out: any(l.split()[-2:] == ["sleep", "20"] for l in out if l.strip())
          and any(l.split()[:1] == ["1"] and "init" in l for l in out))
    check(record, boot, "system.kill_status", "sleep 30 & sleep 1; kill $!; wait $!; echo status=$?",
          lambda out: "status=143" in out)
    # ^C: SIGINT to the foreground process group through tty, vfs and pm
    interrupt_sleep(record, boot, "system.ctrl_c_interrupts_sleep")
    check(record, boot, "system.ctrl_c_status", "echo status=$?", ["status=130"])
    job_control(record, boot)
    check(record, boot, "system.mount_lists_proc", "mount",
          ["ramfs on / type ramfs (rw)", "proc on /proc type proc (rw)"])
    check(record, boot, "system.files_and_dirs",
          "mkdir -p /tmp/a/b && cd /tmp/a/b && pwd && touch f && ln -s f g && ls --color=never && cd / && "
          "rm -r /tmp/a && ls /tmp/a 2>&1",
          ["/tmp/a/b", "f  g", "ls: /tmp/a: No such file or directory"])
    # BusyBox syslogd and logger (musl's syslog) over an AF_UNIX datagram socket, /dev/log
    check(record, boot, "system.syslogd_logger_unix_socket",
          "syslogd -n -O /tmp/messages & sleep 1; logger hello-over-unix; sleep 1; kill $!; "
          "grep -c 'root: hello-over-unix' /tmp/messages; stat -c %F /dev/log; rm /dev/log",
          lambda out: "1" in out and "socket" in out)
    # AF_INET through vfs and inet over 127.0.0.1: BusyBox httpd serves, wget fetches; nc both ways
    check(record, boot, "system.httpd_wget_loopback",
          "mkdir -p /tmp/www; echo served-over-tcp > /tmp/www/index.html; "
          "httpd -p 127.0.0.1:8080 -h /tmp/www; sleep 1; "
          "wget -q -O - http://127.0.0.1:8080/index.html; echo st=$?",
          lambda out: "served-over-tcp" in out and "st=0" in out)
    check(record, boot, "system.nc_loopback",
          "nc -l -p 7777 -w 5 > /tmp/ncout & sleep 1; echo hello-nc | nc -w 2 127.0.0.1 7777; "
          "sleep 1; cat /tmp/ncout; wait",
          lambda out: "hello-nc" in out)
    users(record, boot)
    check(record, boot, "system.service_list", "service list",
          lambda out: len(out) >= 5 and out[0].split()[:2] == ["label", "endpoint"]
          and any(l.split()[:1] == ["tty"] and " up " in l for l in out))
    # each service's restart policy and what becomes of its data when it stops (docs/REINCARNATION.md)
    check(record, boot, "system.service_list_policy_and_data", "service list",
          lambda out: out[:1] and out[0].split()[-3:] == ["beats", "policy", "data"]
          and all(any(l.split()[:1] == [label] and l.split()[-2:] == want for l in out)
                  for label, want in (("pm", ["immediate", "kept"]), ("ramfs", ["immediate", "kept"]),
                                      ("ipc", ["immediate", "kept"]),
                                      ("ds", ["immediate", "kept"]), ("tty", ["immediate", "fresh"]))))
    # every service answers rs's heartbeats (service_receive), the core servers too: the
    # beats column counts the answers
    check(record, boot, "system.every_service_answers_heartbeats", "service list",
          lambda out: out[:1] and out[0].split()[-3] == "beats"
          and all(any(l.split()[:1] == [label] and l.split()[-3].isdigit() and int(l.split()[-3]) > 0
                      for l in out) for label in ("pm", "vfs", "ramfs", "ds", "tty")))
    check(record, boot, "system.service_errors", "service kill nosuch; echo st=$?; service frob",
          ["error: kill nosuch: no such running service", "st=1",
           "error: unknown command 'frob' (list, log, restart, kill, down, up, update, scramble, chaos, trace, inject)"])
    # no core server is `restart never` any more (ipc keeps its objects: tools/suite_rs.py's
    # rs.ipc_*; the refusal's words for a `lost` line: a restart-never manifest there); a
    # forced kill of nothing still says so, and the system stays up
    check(record, boot, "system.service_refuses_to_stop_core_servers",
          "service kill -f nosuch; echo alive; service list | grep -c ' up '",
          lambda out: out[:2] == ["error: kill nosuch: no such running service", "alive"]
          and len(out) == 3 and int(out[2]) >= 6)
    # ds comes back with its store (its state region, docs/DS.md); the tty tests below need vfs
    # to hear of tty's restart through the new ds (ep.tty, its subscription kept)
    check(record, boot, "system.ds_killed_and_back",
          "service kill ds; sleep 1; service list | grep '^ds '; service log | grep -c 'ds.*restarted'",
          lambda out: "kill ds: done" in out and any("ds: store kept across a restart" in l for l in out)
          and any(l.split()[:1] == ["ds"] and l.split()[2:4] == ["up", "1"] for l in out)
          and out[-1] == "1" and not any("refused" in l for l in out))
    # service chaos: rs's kill campaigns (docs/REINCARNATION.md); bad limits and unknown
    # services are refused; a short campaign on ds ends with its store kept
    check(record, boot, "system.service_chaos_refusals",
          "service chaos ds 1 0 5; service chaos ds 1 9 8; service chaos ds 1000001 1 2; "
          "service chaos nosuch 1 1 1; service chaos ds 1; echo st=$?",
          lambda out: out[:3] == ["error: chaos ds: COUNT up to 1000000, 1 <= MIN_MS <= MAX_MS <= 60000"] * 3
          and out[3] == "error: chaos nosuch: no such service"
          and out[4].startswith("usage: service ") and out[4].endswith("inject LABEL KIND [COUNT [SEED]]")
          and out[5:] == ["st=2"])
    check(record, boot, "system.service_chaos_kills_ds",
          "n=$(service list | awk '$1==\"ds\" {print $4}'); service chaos ds 5 20 60; sleep 3; "
          "service log | grep -c 'chaos: done, 5 kills'; "
          "echo $(( $(service list | awk '$1==\"ds\" {print $4}') - n ))",
          lambda out: [l for l in out if not l.startswith("ds: ")] == ["chaos ds: started", "1", "5"])
    # the console driver is killed under the shell; rs restarts it and the shell goes on
    check(record, boot, "system.tty_killed_under_the_shell", "service kill tty; sleep 1; echo still here",
          lambda out: "still here" in out)
    # the new tty instance learned the foreground group from vfs: ^C still works
    interrupt_sleep(record, boot, "system.ctrl_c_after_tty_restart")
    check(record, boot, "system.tty_restart_listed", "service list | grep tty; service log | grep -c tty",
          lambda out: len(out) == 2 and out[0].split()[3] == "1" and int(out[1]) >= 3)
    check(record, boot, "system.service_update", "service update demo /bin/demo; service list | grep demo",
          lambda out: out[:2] == ["update demo: send the bytes",
                                  "update: done; the service runs its new program"]
          and out[2].split()[2:5] == ["up", "1", "update"])
    # a planned stop: demo saves its state when asked, and its successor knows it stopped cleanly
    check(record, boot, "system.update_saves_state", "service log | grep demo | grep -c 'state saved'",
          lambda out: out[:1] == ["1"]
          and any("previous instance stopped cleanly" in line for _, line in boot.lines))
    # an update whose writer goes away before the whole program came is dropped at close
    check(record, boot, "system.service_update_aborted_at_close",
          "printf 'update demo 100' > /dev/service; service list | head -1; service log | grep -c aborted",
          ["label      endpoint state    restarts last failure     last_us mean_us beats policy    data",
           "1"])
    check(record, boot, "system.service_update_errors",
          "service update nosuch /bin/demo; echo st=$?; service update demo /nonexistent; echo st=$?",
          lambda out: out[:2] == ["error: update nosuch: no such service", "st=1"] and out[-1] == "st=2")
    # demo's policy script (user/etc/rs/demo.policy) restarts it after the administrator's kill
    # whatever the count, and after failures of its own (here: privilege denials past its
    # manifest's limit) until 4 restarts; then it gives up
    boot.run("service kill demo; sleep 1", PROMPT, 30)
    for i in range(3):
        boot.run("echo violate 64 > /dev/demo; sleep 1", PROMPT, 30)
    check(record, boot, "system.policy_script_decides", "cat /tmp/rs-policy.log; service list | grep demo",
          lambda out: out[:5] == ["demo failed (administrator) after 1 restarts"]
          + [f"demo failed (denials) after {n} restarts" for n in range(2, 5)]
          + ["demo: giving up"] and len(out) == 6 and out[5].split()[2] == "down"
          and out[5].split()[-2:] == ["script", "fresh"])
    check(record, boot, "system.kill_gives_no_save", "service log | grep demo | grep -c 'asked to save'",
          ["1"])
    applets(record, boot)
    # 100,000 random Linux system calls; then the shell must still answer
    out = check(record, boot, "system.sysfuzz_100000_calls",
                "sysfuzz 100000 >/tmp/fz.out 2>&1; cat /tmp/fz.out",
                lambda out: any(re.search(r"sysfuzz: (\d+) calls", l) and "system sane" in l and
                                int(re.search(r"sysfuzz: (\d+) calls", l).group(1)) >= 100000
                                for l in out),
                timeout=300)
    check(record, boot, "system.alive_after_fuzz", "echo alive; ls /tmp | wc -l",
          lambda out: out[:1] == ["alive"])
    ramfs_restarts(record, boot)
    check(record, boot, "system.exit_restarts_shell", "exit", lambda out: any("starting it again" in l for l in out))


def ramfs_restarts(record, boot):
    """ramfs keeps its files in its state region (docs/RAMFS.md, "Restarts"): killed between
    requests, every file, directory, symbolic link and content is there in its next instance.
    The first command after the kill may see one I/O error (the request in flight: vfs does not
    send it again yet), so the kill is a command of its own."""
    boot.run("mkdir -p /keep/d/e; echo hello > /keep/f; ln -s f /keep/l; mkfifo /keep/p;"
             " seq 100000 > /keep/big; chmod 640 /keep/f;"
             " ls -lR /keep > /keep.before; md5sum /keep/big > /keep.sum", PROMPT, 60)
    boot.run("service kill ramfs", PROMPT, 30)
    boot.run("sleep 1", PROMPT, 30)
    check(record, boot, "system.ramfs_killed_keeps_files",
          "ls -lR /keep | cmp - /keep.before && echo same; md5sum -c /keep.sum; cat /keep/l;"
          " service list | grep '^ramfs '",
          lambda out: out[:3] == ["same", "/keep/big: OK", "hello"] and len(out) == 4
          and out[3].split()[2:4] == ["up", "1"])
    check(record, boot, "system.ramfs_kept_logged", "echo again > /keep/g; cat /keep/g; rm -r /keep",
          lambda out: out == ["again"] and any("ramfs: files kept across a restart" in line
                                               for _, line in boot.lines))
    # killed 60 times, every 100 ms, while a writer makes 300 files (written aside, renamed into
    # place, listed when both worked): every listed file must be whole; the writer's errors (the
    # request in flight fails while vfs does not send it again) are counted, not failed
    out = check(record, boot, "system.ramfs_killed_60_times_under_writes",
                "mkdir /tmp/c; (i=0; while [ $i -lt 300 ]; do seq $i $((i+3000)) > /tmp/c/f$i.tmp &&"
                " mv /tmp/c/f$i.tmp /tmp/c/f$i && echo $i >> /tmp/c/ok; i=$((i+1)); done;"
                " echo writer-done) > /tmp/c/log 2>&1 & for k in $(seq 60); do"
                " service kill ramfs > /dev/null 2>&1; usleep 100000; done; wait; sleep 1;"
                " bad=0; for i in $(cat /tmp/c/ok); do seq $i $((i+3000)) | cmp -s - /tmp/c/f$i ||"
                " bad=$((bad+1)); done; echo ok=$(wc -l < /tmp/c/ok) bad=$bad"
                " errors=$(grep -vc writer-done /tmp/c/log); tail -1 /tmp/c/log; rm -r /tmp/c",
                lambda out: any(l.startswith("ok=") and "bad=0" in l for l in out)
                and "writer-done" in out, timeout=120)
    undone = [int(m.group(1)) for _, t in boot.lines
              for m in [re.search(r"ramfs: files kept .* (\d+) changes of the request", t)] if m]
    print(f"  system.ramfs_killed_60_times_under_writes: {[l for l in out or [] if l.startswith('ok=')]}"
          f" restarts logged {len(undone)}, with changes undone {sum(1 for n in undone if n)}")
    # 200 kills from rs's alarm (`service chaos`: in the middle of requests, exec's reads
    # included) under the self-checking loop of the ext2 campaign (suite_ext2.chaos_workload):
    # no wrong sum, no error any program saw (vfs replays the request in flight on the instance
    # that kept the files: ramfs's FS_MOUNT answers 1), every new instance kept the files
    from suite_ext2 import chaos_workload
    first = len(boot.lines)
    out = boot.run(chaos_workload(200, 50, 150, "ramfs"), PROMPT, 240) or []
    summary = [l for l in out if l.startswith("loops=")]
    fields = dict(w.split("=") for w in summary[0].split()) if summary else {}
    kept = sum(1 for _, t in boot.lines[first:] if "ramfs: files kept across a restart" in t)
    undone = sum(1 for _, t in boot.lines[first:]
                 if re.search(r"ramfs: files kept .* [1-9]\d* changes of", t))
    record("system.ramfs_chaos_200_kills",
           bool(fields) and fields["bad"] == "0" and fields["kept_bad"] == "0"
           and fields["errors"] == "0" and fields["stderr"] == "0" and kept >= 200,
           f"{summary} new instances that kept the files {kept}, with a change undone {undone}",
           None if fields else boot.tail(20))


def users(record, boot):
    """Root and an ordinary user (uid 1000): su without a password for root, and
    the device files' owners and modes enforced (rs's /dev/service is root's)."""
    check(record, boot, "system.su_user_id", "su user -c id; su user -c whoami",
          ["uid=1000(user) gid=1000(user) groups=1000(user)", "user"])
    check(record, boot, "system.user_cannot_use_service",
          "su user -c 'service list'; echo st=$?; su user -c 'echo kill tty > /dev/service'; echo st=$?",
          ["service: /dev/service: Permission denied", "st=2",
           "sh: can't create /dev/service: Permission denied", "st=1"])
    check(record, boot, "system.ls_shows_owners",
          "stat -c '%A %U %G %n' /dev/console /dev/null /dev/service /home/user /tmp; "
          "ls -l /dev/service | cut -c1-29",
          ["crw--w---- root tty /dev/console", "crw-rw-rw- root root /dev/null",
           "crw------- root root /dev/service", "drwxr-xr-x user user /home/user",
           "drwxrwxrwt root root /tmp", "crw-------    1 root     root"])
    check(record, boot, "system.user_files",
          "su - user -c 'pwd; touch mine; stat -c \"%A %U %G\" mine; "
          "echo x >> /etc/passwd; cat /etc/shadow; kill -0 1'; echo st=$?",
          ["/home/user", "-rw-r--r-- user user",
           "-sh: can't create /etc/passwd: Permission denied",
           "cat: can't open '/etc/shadow': Permission denied",
           "sh: can't kill pid 1: Operation not permitted", "st=1"])
    # an interactive shell as the user, then back to root's
    boot.send("su user\n")
    ok = boot.wait_prompt("$ ", 10)
    out = boot.run("id -u; exit", PROMPT, 10) if ok else None
    back = boot.run("id -u", PROMPT, 10) if out is not None else None
    record("system.su_interactive_shell", out is not None and "1000" in out and back == ["0"],
           f"user shell printed {out!r}, then root's {back!r}", boot.tail())


def run_utest(record, module):
    """The in-OS Linux system-call suite (user/utest.c) as the first process, with
    vfsprobe (tests/servers/vfsprobe), a hostile service, started last. 1.5 GiB of memory:
    u.mem_untouched_gib maps 1 GiB, which needs that much free (as on Linux)."""
    boot = Boot(system_modules("/bin/utest", with_services=["demo"]) + [module("vfsprobe")],
                extra=["-m", "1536M"])
    try:
        collect_tests(boot, record, "u", "utest", timeout=120)
        # The kernel's own lines name a Linux process after its program (pm tells it at exec),
        # not after the first process pm made ("init"): its out-of-memory kills; pm's lines
        # name the faults it made deadly signals. utest's tests fault on purpose.
        faults = [t for _, t in boot.lines
                  if re.match(r"^(kernel: \S+ \(endpoint \d+\) (killed|out of memory)|"
                              r"pm: \S+ \(pid \d+\) killed by signal)", t)]
        record("system.kernel_names_programs", bool(faults) and all(
            t.startswith(("kernel: utest (", "pm: utest (")) for t in faults),
            faults[0] if faults else "no fault lines")
    finally:
        boot.kill()


# BusyBox applets, one command each, and a line its output must contain.
APPLETS = [
    ("basename /a/b/c.txt .txt", "c"), ("dirname /a/b/c", "/a/b"), ("echo x | cat", "x"),
    ("printf '%05d\\n' 42", "00042"), ("seq 3 | tail -1", "3"), ("expr 6 \\* 7", "42"),
    ("echo hello | tr a-z A-Z", "HELLO"), ("echo a,b,c | cut -d, -f2", "b"),
    ("printf 'b\\na\\n' | sort | head -1", "a"), ("printf 'a\\na\\nb\\n' | uniq | wc -l", "2"),
    ("echo hello world | wc -w", "2"), ("echo abc | rev", "cba"), ("echo hello | sed s/l/L/g", "heLLo"),
    ("echo 'x y' | awk '{print $2}'", "y"), ("printf 'a\\nb\\n' | grep -n b", "2:b"),
    ("echo hi | od -c | head -1", "h   i"), ("echo hi | hexdump -C | head -1", "68 69"),
    ("echo data > /tmp/ap; md5sum /tmp/ap", "6137cde4893c59f76f005a8123d8e8e6"),
    ("sha1sum /tmp/ap", "c5d84736ba451747dd5f0eb9d17e104f3697ef47"), ("cp /tmp/ap /tmp/ap2; cmp /tmp/ap /tmp/ap2 && echo same", "same"),
    ("mv /tmp/ap2 /tmp/ap3; ls /tmp/ap3", "/tmp/ap3"), ("stat -c %s /tmp/ap", "5"),
    ("du -s /tmp/ap | cut -f1", ""), ("touch /tmp/t1; test -f /tmp/t1 && echo yes", "yes"),
    ("[ 3 -gt 2 ] && echo bigger", "bigger"), ("mkdir -p /tmp/x/y; rmdir /tmp/x/y; ls -d /tmp/x", "/tmp/x"),
    ("ln -s /tmp/ap /tmp/lnk; readlink /tmp/lnk", "/tmp/ap"), ("realpath /tmp/../tmp/ap", "/tmp/ap"),
    ("find /etc -name passwd", "/etc/passwd"), ("echo a b | xargs -n1 | tail -1", "b"),
    ("head -c 4 /dev/zero | wc -c", "4"), ("dd if=/dev/zero bs=512 count=4 2>/dev/null | wc -c", "2048"),
    ("yes | head -2 | tail -1", "y"), ("echo 1+2 | bc 2>/dev/null || echo $((1+2))", "3"),
    ("date +%Y | cut -c1-2", "20"), ("id -u", "0"), ("whoami", "root"), ("hostname", ""),
    ("uname -m", "x86_64"), ("env | grep -c PATH", "1"), ("printenv HOME", "/root"),
    ("nproc", "1"), ("which ls", "/bin/ls"), ("true; echo $?", "0"), ("false; echo $?", "1"),
    ("sleep 0.1; echo slept", "slept"), ("tee /tmp/tee < /tmp/ap > /dev/null; cat /tmp/tee", "data"),
    ("gzip -c /tmp/ap | gunzip -c", "data"), ("tar -cf /tmp/a.tar -C /tmp ap && tar -tf /tmp/a.tar", "ap"),
    ("split -b 2 /tmp/ap /tmp/sp; ls /tmp/spaa", "/tmp/spaa"), ("fold -w 2 /tmp/ap | head -1", "da"),
    ("comm -12 /tmp/ap /tmp/ap3", "data"), ("diff /tmp/ap /tmp/ap3 && echo nodiff", "nodiff"),
    ("chmod 600 /tmp/ap; ls -l /tmp/ap | cut -c1-10", "-rw-------"), ("cat /etc/hostname", "samsara"),
    ("timeout 1 sleep 5; echo $?", "143"), ("nohup echo nohup >/tmp/nh 2>/dev/null; cat /tmp/nh", "nohup"),
    ("cat /proc/uptime | cut -d' ' -f2", "0.00"), ("free | head -1", "total"), ("df / | tail -1", "ramfs"),
    ("ps | grep -c ps", ""), ("pidof init", "1"), ("kill -0 1 && echo ok", "ok"), ("clear; echo cleared", "cleared"),
]


def applets(record, boot):
    failed = []
    for command, want in APPLETS:
        out = boot.run(command, PROMPT, 20)
        out = [l for l in (out or []) if not l.startswith(("root: ", "pm: "))]
        if out is None or (want and not any(want in l for l in out)) or (not want and not out):
            failed.append((command, out))
    names = sorted({c.split()[0] for c, _ in APPLETS})
    record("system.busybox_applets", not failed,
           f"{len(APPLETS) - len(failed)} of {len(APPLETS)} commands ({len(names)} applets)"
           + (f"; failed: {failed[:5]}" if failed else ""))
