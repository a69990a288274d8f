#!/usr/bin/env python3
"""make bench: Samsara side by side with Debian's Linux 6.1, then the kernel's own figures.

Both systems boot in the same QEMU (q35, TCG, one CPU, MEM of memory) and run the same static
programs: user/ubench.c (its system-call rows, and `ubench time` around the bulk work) and
BusyBox, on Samsara from the BusyBox shell on the console, on Linux in the peer guest of
tools/linuxpeer.py (ubench appended to its initramfs). One table: operation, Samsara, Linux, ratio,

  - in guest instructions: each system boots once under -icount shift=0, where the guest's TSC
    counts instructions (all of them: the program's, the kernel's, the servers'), so the figures
    repeat whatever the host's load;
  - in wall time: each system boots ROUNDS times without icount, Samsara and Linux interleaved,
    and the table shows the median over the boots (each system-call row is already the median of
    11 runs inside the boot). Without icount QEMU's TSC runs at the host's TSC rate; the guest
    prints its TSC at the start and at the end of the boot's work (`ubench tsc`) and the host
    times those two lines, which gives the frequency (never the guest's tick counter).

The bulk rows are timed inside the guest by `ubench time` (rdtsc before its fork, after its
wait), so they exclude the boot. The kernel rows are tests/bench/kbench.c's (Samsara only:
Linux has no message IPC; its nearest are the pipe and futex ping-pong rows). After the table,
the sections make bench printed before the Linux comparison: kbench in TSC ticks and
instructions, boot times, driver recovery.

Raw results go to build/bench/bench.json; `tools/bench.py --from build/bench/bench.json
--markdown` prints the table of a run as Markdown, and `--update-doc docs/PERFORMANCE.md` puts it
between that file's markers.

Usage: tools/bench.py [--only syscalls,bulk,kernel] [--rounds N] [--json FILE] [--markdown]
       tools/bench.py --from FILE [--markdown | --update-doc docs/PERFORMANCE.md]
"""
import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qemu import BUILD, ROOT, Boot, qemu_command, run_boot, system_modules  # noqa: E402

PARTS = ("syscalls", "bulk", "kernel", "services")
MEM = os.environ.get("MEM") or "512M"  # both guests'
UBENCH = os.path.join(BUILD, "musl", "ubench")
JSON_DEFAULT = os.path.join(BUILD, "bench", "bench.json")

# ubench's rows (user/ubench.c), labelled; a row ubench prints that is not here keeps its name.
SYSCALL_LABELS = {
    "getppid": "getppid",
    "clock_gettime": "clock_gettime(CLOCK_MONOTONIC)",
    "clock_gettime_syscall": "clock_gettime as a system call",
    "write_dev_null": "write 1 byte to /dev/null",
    "open_close": "open+close /tmp/ubench/a/b/file",
    "stat": "stat /tmp/ubench/a/b/file",
    "pread_4k": "pread 4 KiB (ramfs)",
    "pread_64k": "pread 64 KiB (ramfs)",
    "pwrite_4k": "pwrite 4 KiB (ramfs)",
    "pwrite_64k": "pwrite 64 KiB (ramfs)",
    "pipe_pingpong": "pipe ping-pong, 1 byte each way",
    "pipe_1mib": "1 MiB through a pipe (64 KiB writes)",
    "mmap_touched_1mib": "mmap+munmap 1 MiB, every page touched",
    "mmap_untouched_1mib": "mmap+munmap 1 MiB, untouched",
    "fork_exit_wait_0MiB": "fork+exit+wait",
    "fork_exit_wait_1MiB": "fork+exit+wait, 1 MiB touched",
    "fork_exit_wait_16MiB": "fork+exit+wait, 16 MiB touched",
    "fork_exit_wait_64MiB": "fork+exit+wait, 64 MiB touched",
    "fork_exec_true_wait": "fork+exec /bin/true+wait",
    "futex_pingpong": "futex wake+wait ping-pong, two threads",
    "demo_write_4k": "write 4 KiB to /dev/demo (Samsara's test driver)",
    "demo_write_64k": "write 64 KiB to /dev/demo (Samsara's test driver)",
}

# The bulk work: a tree of TREE_FILES files (`ubench tree`) and 20 MiB of text (`ubench gen`),
# made untimed; then each command under `ubench time ROW` (its output on /dev/null), in this
# order (rm_rf removes tar_c's tree, tar_x brings it back for ls_lR).
TREE_FILES = 500
BULK_SETUP = [f"ubench tree /tmp/bt {TREE_FILES}", "ubench gen /tmp/g20 20"]
BULK = [
    ("tar_c", f"tar c of a {TREE_FILES}-file tree", "/bin/tar cf /tmp/bt.tar -C /tmp bt"),
    ("rm_rf", "rm -rf of the tree", "/bin/rm -rf /tmp/bt"),
    ("tar_x", "tar x of the tree", "/bin/tar xf /tmp/bt.tar -C /tmp"),
    ("ls_lR", "ls -lR of the tree", "/bin/ls -lR /tmp/bt"),
    ("true_1000", "1,000 /bin/true from a shell loop",
     "/bin/sh -c 'i=0; while [ $i -lt 1000 ]; do /bin/true; i=$((i + 1)); done'"),
    ("gzip_20mib", "gzip -c of 20 MiB of generated text", "/bin/gzip -c /tmp/g20"),
]
BULK_CLEANUP = "rm -rf /tmp/bt /tmp/bt.tar /tmp/g20"

KERNEL_SECTION = ("Kernel IPC (Samsara only; Linux has no message IPC: its nearest are the pipe "
                  "and futex ping-pong rows)")
KBENCH_LABELS = {
    "sendrec_roundtrip": "sendrec + reply, two address spaces",
    "reply_receive_roundtrip": "sendrec + reply_receive (server loop)",
    "null_kernel_call": "null kernel call (KC_UPTIME)",
    "notify_roundtrip": "notify + notify back (two switches)",
    "notify_pending": "notify, receiver not waiting",
}


class BenchError(Exception):
    pass


# ---- the guests -------------------------------------------------------------------------------

class Samsara:
    """The whole system (ramfs root, the demo driver added) with its shell on the console."""
    name = "samsara"

    def __init__(self, icount):
        cmd = qemu_command(system_modules(with_services=["demo"]), icount=icount, memory=MEM)
        self.boot = Boot([], console=True, command=cmd)
        if not self.boot.wait_prompt("# ", 180):
            self.close()
            raise BenchError("samsara: no shell prompt\n" + "\n".join(self.boot.tail()))

    def run(self, command, timeout):
        out = self.boot.run(command, "# ", timeout)
        if out is None:
            raise BenchError(f"samsara: `{command}` did not finish in {timeout} s\n"
                             + "\n".join(self.boot.tail()))
        return out

    def close(self):
        self.boot.kill()


class Linux:
    """Debian's Linux 6.1 with the peer initramfs and ubench as /bin/ubench."""
    name = "linux"

    def __init__(self, icount):
        import linuxpeer as lp
        self.tmp = tempfile.TemporaryDirectory(prefix="bench-")
        self.boot = lp.client_with({"bin/ubench": UBENCH}, self.tmp.name, memory=MEM,
                                   extra=["-icount", "shift=0"] if icount else [])
        try:
            self.boot.wait_line("ready", 300)
        except RuntimeError as e:
            self.close()
            raise BenchError(f"linux: {e}")

    def run(self, command, timeout):
        try:
            return self.boot.shell(command, timeout)
        except RuntimeError as e:
            raise BenchError(f"linux: `{command}`: {e}")

    def close(self):
        self.boot.quit()
        self.tmp.cleanup()


def tsc_mark(guest):
    """(host seconds, guest TSC) of a `ubench tsc` line."""
    guest.run("ubench tsc", 60)
    with guest.boot.cond:
        for t, text in reversed(guest.boot.lines):
            p = text.split()
            if len(p) == 2 and p[0] == "UTSC" and p[1].isdigit():
                return t, int(p[1])
    raise BenchError(f"{guest.name}: no UTSC line")


def session(system, icount, parts):
    """One boot of system running the parts' work: its raw lines (UBENCH, UBULK) and, without
    icount, the TSC's frequency from the host's times of the first and last UTSC. What fails (a
    guest that does not boot or answer, ubench stopping early, a bulk command's exit status) goes
    to "errors" and the rest goes on: the table shows n/a where a figure is missing."""
    result = {"system": system, "icount": icount, "lines": [], "errors": []}

    def keep(out, kinds=("UBENCH", "UBULK")):
        result["lines"] += [t for t in out if t.split()[:1] and t.split()[0] in kinds]

    try:
        guest = (Samsara if system == "samsara" else Linux)(icount)
    except BenchError as e:
        result["errors"].append(str(e))
        return result
    first = last = None
    try:
        first = tsc_mark(guest)
        if "syscalls" in parts:
            try:
                out = guest.run("ubench", 1200)
                keep(out)
                if "ubench: done" not in out:
                    result["errors"].append(f"{system}: ubench stopped early:\n  "
                                            + "\n  ".join(out[-5:]))
            except BenchError as e:
                with guest.boot.cond:
                    keep([t for _, t in guest.boot.lines], ("UBENCH",))
                raise e
        if "bulk" in parts:
            for command in BULK_SETUP:
                guest.run(command, 600)
            for row, _, command in BULK:
                out = guest.run(f"ubench time {row} {command}", 1200)
                got = [t.split() for t in out if t.split()[:2] == ["UBULK", row]]
                if len(got) == 1 and got[0][3:] == ["0"]:
                    keep([" ".join(got[0])])
                else:
                    result["errors"].append(f"{system}: `{command}` failed:\n  "
                                            + "\n  ".join(out[-5:]))
            guest.run(BULK_CLEANUP, 600)
        last = tsc_mark(guest)
    except BenchError as e:
        result["errors"].append(str(e))
    finally:
        guest.close()
    if not icount:
        if first and last and last[0] - first[0] >= 1:
            result["tsc_hz"] = (last[1] - first[1]) / (last[0] - first[0])
        else:
            result["errors"].append(f"{system}: no TSC calibration: no wall times from this boot")
    return result


# ---- parsing and the table (pure: tools/suite_bench.py checks them on a recorded sample) -------

def parse_lines(lines):
    """{"ubench": {row: TSC ticks per operation}, "bulk": {row: (TSC ticks, exit status)}},
    rows in the order printed."""
    ubench, bulk = {}, {}
    for text in lines:
        p = text.split()
        try:
            if len(p) == 6 and p[0] == "UBENCH":
                ubench[p[1]] = float(p[5])
            elif len(p) == 4 and p[0] == "UBULK":
                bulk[p[1]] = (int(p[2]), int(p[3]))
        except ValueError:
            raise BenchError(f"cannot read the line '{text}'")
    return {"ubench": ubench, "bulk": bulk}


def rows(data):
    """The table: (section, label, Samsara instructions, Linux instructions, Samsara seconds,
    Linux seconds) per row; None where a figure is missing. Instructions come from the icount
    sessions; seconds are the median over the other sessions of ticks / that session's TSC
    frequency (the kernel rows use the median frequency of all sessions)."""
    per = {}  # (system, icount) -> [(parsed, hz)]
    for s in data.get("sessions", []):
        per.setdefault((s["system"], s["icount"]), []).append((parse_lines(s["lines"]),
                                                                s.get("tsc_hz")))

    def instructions(system, kind, row):
        for parsed, _ in per.get((system, True), []):
            if row in parsed[kind]:
                v = parsed[kind][row]
                return float(v[0] if kind == "bulk" else v)
        return None

    def seconds(system, kind, row):
        vals = [(v[0] if kind == "bulk" else v) / hz
                for parsed, hz in per.get((system, False), [])
                for v in [parsed[kind].get(row)] if v is not None and hz]
        return statistics.median(vals) if vals else None

    def order(kind):
        names = []
        for runs in per.values():
            for parsed, _ in runs:
                names += [n for n in parsed[kind] if n not in names]
        return names

    out = []
    for name in order("ubench"):
        out.append(("System calls (per operation)", SYSCALL_LABELS.get(name, name),
                    instructions("samsara", "ubench", name), instructions("linux", "ubench", name),
                    seconds("samsara", "ubench", name), seconds("linux", "ubench", name)))
    labels = {row: label for row, label, _ in BULK}
    for name in order("bulk"):
        out.append(("Bulk work with BusyBox (whole command)", labels.get(name, name),
                    instructions("samsara", "bulk", name), instructions("linux", "bulk", name),
                    seconds("samsara", "bulk", name), seconds("linux", "bulk", name)))
    kb = data.get("kbench") or {}
    hzs = [s["tsc_hz"] for s in data.get("sessions", []) if s.get("tsc_hz")]
    hz = statistics.median(hzs) if hzs else None
    for name, label in KBENCH_LABELS.items():
        ins = (kb.get("icount") or {}).get(name)
        tcg = (kb.get("tcg") or {}).get(name)
        if ins or tcg:
            out.append((KERNEL_SECTION, label, float(ins[0]) if ins else None, None,
                        tcg[0] / hz if tcg and hz else None, None))
    return out


def fmt_instructions(v):
    if v is None:
        return "n/a"
    return f"{v / 1e6:,.1f} M" if v >= 1e7 else f"{v:,.0f}"


def fmt_seconds(v):
    if v is None:
        return "n/a"
    for unit, scale in (("s", 1), ("ms", 1e-3), ("µs", 1e-6)):
        if v >= scale:
            x = v / scale
            return f"{x:.0f} {unit}" if x >= 100 else f"{x:.3g} {unit}"
    return f"{v / 1e-9:.0f} ns"


def fmt_ratio(a, b):
    return f"{a / b:.2f}x" if a is not None and b else "n/a"


def render(data, markdown=False):
    """The table as text lines (Markdown with markdown=True)."""
    head = ["operation", "Samsara ins", "Linux ins", "ratio", "Samsara wall", "Linux wall", "ratio"]
    lines, section = [], None
    widths = [46, 12, 12, 7, 13, 11, 7]
    for sec, label, si, li, sw, lw in rows(data):
        if sec != section:
            section = sec
            if markdown:
                lines += ["", f"**{sec}**", "", "| " + " | ".join(head) + " |",
                          "|" + "---|" + "---:|" * (len(head) - 1)]
            else:
                lines += ["", sec, "  ".join(h.rjust(w) if i else h.ljust(w)
                                              for i, (h, w) in enumerate(zip(head, widths)))]
        cells = [label, fmt_instructions(si), fmt_instructions(li), fmt_ratio(si, li),
                 fmt_seconds(sw), fmt_seconds(lw), fmt_ratio(sw, lw)]
        if markdown:
            lines.append("| " + " | ".join(cells) + " |")
        else:
            lines.append("  ".join(c.rjust(w) if i else c.ljust(w)
                                   for i, (c, w) in enumerate(zip(cells, widths))))
    return lines[1:]


DOC_BEGIN, DOC_END = "<!-- make bench table: begin -->", "<!-- make bench table: end -->"


def update_doc(path, data):
    """Replace the text between DOC_BEGIN and DOC_END in path with this run's Markdown table."""
    with open(path) as f:
        text = f.read()
    begin, end = text.find(DOC_BEGIN), text.find(DOC_END)
    if begin < 0 or end < begin:
        raise BenchError(f"{path}: no '{DOC_BEGIN}' ... '{DOC_END}' to replace")
    table = "\n".join([summary(data) + ".", ""] + render(data, markdown=True))
    text = text[:begin + len(DOC_BEGIN)] + "\n" + table + "\n" + text[end:]
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def summary(data):
    """What produced the figures, one line."""
    return (f"`{data.get('command', 'make bench')}`, {data.get('date', '?')}, "
            f"Samsara {data.get('samsara', '?')}, "
            f"{data.get('linux', 'Linux ?')}, MEM={data.get('mem', '?')}, "
            f"wall time: median of {data.get('rounds', '?')} boots per system, interleaved; "
            f"host load average {data.get('load', '?')}")


# ---- make bench's earlier sections (Samsara only) ----------------------------------------------

def kbench(icount):
    boot = Boot([os.path.join(BUILD, "root"), os.path.join(BUILD, "kbench")], icount=icount)
    try:
        i, _ = boot.wait_for(r"^kbench: done", timeout=300)
        if i is None:
            raise BenchError("kbench did not finish\n" + "\n".join(boot.tail()))
        found = {}
        for _, text in boot.lines:
            parts = text.split()
            if len(parts) == 5 and parts[0] == "BENCH":
                found[parts[1]] = tuple(int(x) for x in parts[2:])
        return found
    finally:
        boot.kill()


def boot_ms():
    """QEMU start to the root server's first line, median of 5 boots."""
    times = []
    for _ in range(5):
        boot = Boot([os.path.join(BUILD, "root")])
        try:
            i, _ = boot.wait_for(r"^root: started", timeout=30)
            if i is None:
                raise BenchError("root never started")
            times.append(boot.lines[i][0] * 1000)
        finally:
            boot.kill()
    return statistics.median(times), min(times), max(times)


def shell_prompt_ms():
    """QEMU start to the BusyBox prompt on the console, median of 5 boots."""
    times = []
    for _ in range(5):
        boot = Boot(system_modules(), console=True)
        try:
            if not boot.wait_prompt("# ", 30):
                raise BenchError("no shell prompt")
            times.append((time.monotonic() - boot.start) * 1000)
        finally:
            boot.kill()
    return statistics.median(times), min(times), max(times)


def recovery():
    """The demo driver killed 1,000 times (tests/servers/demotest): recovery times."""
    boot = Boot([os.path.join(BUILD, m) for m in ("root", "ds", "demo", "demotest 1000")])
    try:
        i, m = boot.wait_for(r"^RECOVERY (.*)", timeout=300)
        if i is None:
            raise BenchError("demotest did not finish")
        return dict(kv.split("=") for kv in m.group(1).split()[1:])
    finally:
        boot.kill()


SERVICE_KILLS = int(os.environ.get("KILLS") or 10)  # kills per service in the services part


def service_rows(guest):
    """`service list` as {label: (state, restarts, last_us, policy, data)}."""
    rows = {}
    for line in guest.run("service list", 60):
        w = line.split()
        if len(w) >= 8 and w[0] != "label" and w[2] in ("up", "down", "starting") \
                and w[3].isdigit() and w[-5].isdigit():
            rows[w[0]] = (w[2], int(w[3]), int(w[-5]), w[-2], w[-1])
    return rows


def services_recovery():
    """Every restartable service (policy immediate or backoff in `service list`) of make run's
    two systems (ROOT=ext2 and ROOT=ramfs, virtio NIC and disk) killed SERVICE_KILLS times from
    the shell (`service kill LABEL`, one at a time, the next after the last is up again): rs's
    recovery time of each (kill request to the new instance's ROOT_READY, from the TSC), median
    and maximum, and whether the shell still ran commands afterwards."""
    result = {}
    for root in ("ext2", "ramfs"):
        mods, flags = run_boot("virtio", root=root)
        boot = Boot(mods, extra=flags, console=True)
        guest = None
        try:
            if not boot.wait_prompt("# ", 180):
                raise BenchError(f"services (root={root}): no shell prompt\n" + "\n".join(boot.tail()))
            guest = Samsara.__new__(Samsara)
            guest.boot = boot
            for label, (state, _, _, policy, data) in sorted(service_rows(guest).items()):
                if policy in ("never", "script") or state != "up" or label in result:
                    continue
                times, errors = [], []
                for _ in range(SERVICE_KILLS):
                    before = service_rows(guest).get(label, (None, 0))[1]
                    out = guest.run(f"service kill {label}", 60)
                    if any(t.startswith("error:") for t in out):
                        errors.append(" ".join(out)[:120])
                        break
                    deadline = time.monotonic() + 30
                    while time.monotonic() < deadline:
                        row = service_rows(guest).get(label)
                        if row and row[0] == "up" and row[1] > before:
                            times.append(row[2])
                            break
                        time.sleep(0.2)
                    else:
                        errors.append("not up again within 30 s")
                        break
                alive = any("alive" in t for t in guest.run("echo alive", 60))
                result[label] = {"root": root, "data": data, "kills": len(times), "us": times,
                                 "errors": errors, "shell": alive}
        except BenchError as e:
            result.setdefault("_errors", []).append(str(e))
        finally:
            boot.kill()
    return result


def services_section(data):
    r = data["services"]
    print(f"\nService recovery: each restartable service killed {SERVICE_KILLS} times from the shell "
          "(rs: kill request to ROOT_READY, TCG)")
    print(f"{'service':12} {'root':6} {'data':6} {'kills':>5} {'median us':>10} {'max us':>8}  shell")
    for label, v in sorted(r.items()):
        if label == "_errors":
            continue
        us = sorted(v["us"])
        med = f"{statistics.median(us):.0f}" if us else "n/a"
        top = f"{us[-1]}" if us else "n/a"
        print(f"{label:12} {v['root']:6} {v['data']:6} {v['kills']:>5} {med:>10} {top:>8}  "
              f"{'ok' if v['shell'] else 'DEAD'}{'  ' + '; '.join(v['errors']) if v['errors'] else ''}")
    for e in r.get("_errors", []):
        print(f"  error: {e}")


def kernel_sections(data):
    tsc, ins = data["kbench"]["tcg"], data["kbench"]["icount"]
    print(f"\n{'operation':40} {'TSC ticks (TCG)':>22} {'guest instructions':>20}")
    print(f"{'':40} {'median [min-max]':>22} {'(-icount shift=0)':>20}")
    for key, label in KBENCH_LABELS.items():
        if key not in tsc or key not in ins:
            continue
        t, i = tsc[key], ins[key]
        print(f"{label:40} {t[0]:>8} [{t[1]}-{t[2]}]".ljust(63) + f" {i[0]:>20}")
    med, lo, hi = data["boot_ms"]
    print(f"\nQEMU start to first user process (root): median {med:.0f} ms "
          f"[{lo:.0f}-{hi:.0f}] over 5 boots")
    med, lo, hi = data["prompt_ms"]
    print(f"QEMU start to the BusyBox shell prompt:   median {med:.0f} ms "
          f"[{lo:.0f}-{hi:.0f}] over 5 boots")
    r = data["recovery"]
    print("\nDriver recovery, 1,000 kills of the demo driver (TCG):")
    print(f"  client-observed (kill request to first good answer): median {r['median_us']} us, "
          f"max {r['max_us']} us")
    print(f"  rs-measured (kill to the new instance's ROOT_READY):  mean {r['root_mean_us']} us, "
          f"max {r['root_max_us']} us")


# ---- main -------------------------------------------------------------------------------------

def describe_samsara():
    try:
        return subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                              capture_output=True, text=True).stdout.strip() or "?"
    except OSError:
        return "?"


def describe_linux():
    try:
        with open(os.path.join(BUILD, "peer", "linux.version")) as f:
            return f.read().strip()
    except OSError:
        return "Linux ?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="", help="comma-separated parts: " + ", ".join(PARTS))
    ap.add_argument("--rounds", type=int, default=2, help="wall-time boots per system (2)")
    ap.add_argument("--json", default=JSON_DEFAULT, help="where the raw results go")
    ap.add_argument("--from", dest="source", help="print the table of this bench.json; no boots")
    ap.add_argument("--markdown", action="store_true", help="the table as Markdown")
    ap.add_argument("--update-doc", metavar="MD", help="with --from: put the Markdown table "
                    "between MD's make-bench-table markers (docs/PERFORMANCE.md)")
    a = ap.parse_args()
    if a.update_doc and not a.source:
        sys.exit("bench: --update-doc goes with --from FILE")
    if a.source:
        try:
            with open(a.source) as f:
                data = json.load(f)
            if a.update_doc:
                update_doc(a.update_doc, data)
                return 0
            out = [("" if a.markdown else "# ") + summary(data)] + render(data, a.markdown)
        except (OSError, ValueError, KeyError, TypeError, BenchError) as e:
            why = f"no field {e}" if isinstance(e, KeyError) else str(e)
            sys.exit(f"bench: cannot use {a.source}: {why}")
        print("\n".join(out))
        return 0
    parts = [p for p in a.only.split(",") if p] or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown or a.rounds < 1:
        sys.exit(f"bench: ONLY is a comma-separated list of {', '.join(PARTS)} "
                 f"(not {', '.join(unknown)}); ROUNDS is at least 1")
    data = {"date": datetime.date.today().isoformat(), "samsara": describe_samsara(),
            "linux": describe_linux(), "mem": MEM, "rounds": a.rounds, "parts": parts,
            "command": "make bench" + (f" ONLY={a.only}" if a.only else "") +
            (f" ROUNDS={a.rounds}" if a.rounds != 2 else ""), "sessions": []}
    started = time.monotonic()
    loads = [os.getloadavg()[0]]
    errors = data["errors"] = []
    try:
        guest_parts = [p for p in parts if p not in ("kernel", "services")]
        if guest_parts:
            plan = [(s, True) for s in ("samsara", "linux")]
            plan += [(s, False) for _ in range(a.rounds) for s in ("samsara", "linux")]
            for system, icount in plan:
                t = time.monotonic()
                data["sessions"].append(session(system, icount, guest_parts))
                errors += data["sessions"][-1]["errors"]
                print(f"bench: {system} {'-icount shift=0' if icount else 'wall time'}: "
                      f"{time.monotonic() - t:.0f} s"
                      f"{', errors' if data['sessions'][-1]['errors'] else ''}",
                      file=sys.stderr, flush=True)
                loads.append(os.getloadavg()[0])
        if "kernel" in parts:
            data["kbench"] = {"tcg": kbench(False), "icount": kbench(True)}
            data["boot_ms"] = boot_ms()
            data["prompt_ms"] = shell_prompt_ms()
            data["recovery"] = recovery()
    except BenchError as e:  # the kernel part: its sections need every figure
        errors.append(str(e))
        parts.remove("kernel")
    if "services" in parts:
        data["services"] = services_recovery()
        errors += data["services"].get("_errors", [])
    loads.append(os.getloadavg()[0])
    data["load"] = f"{min(loads):.1f} to {max(loads):.1f}"
    data["seconds"] = round(time.monotonic() - started)
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(data, f, indent=1)
    print(f"# {summary(data)}")
    print("\n".join(render(data, a.markdown)))
    if "kernel" in parts:
        kernel_sections(data)
    if "services" in parts:
        services_section(data)
    print(f"\n(raw results: {os.path.relpath(a.json)}; {data['seconds']} s)")
    for e in errors:
        print(f"bench: {e}", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
