"""make bench's table generator on a recorded run (tests/bench/sample.json: build/bench/bench.json
of the `make bench` of 2026-11-30 that docs/PERFORMANCE.md shows): the rows it reads from the
guests' UBENCH/UBULK lines, the instruction and wall-time columns and their ratios, the Markdown
docs/PERFORMANCE.md pastes, and a clear error for a line it cannot read. Runs no guest and
measures nothing (host only, well under a second). Called by tools/test.py as
run(record, module)."""
import json
import os

import bench
from qemu import ROOT

SAMPLE = os.path.join(ROOT, "tests", "bench", "sample.json")


def run(record, module):
    with open(SAMPLE) as f:
        data = json.load(f)
    table = {label: r for _, label, *r in bench.rows(data)}

    # Instructions: the -icount sessions' TSC column, as recorded.
    si, li, sw, lw = table["getppid"]
    record("bench.instructions_from_icount_sessions", (si, li) == (3498.0, 361.0),
           f"getppid {si} / {li}")
    # Wall time: ticks / each session's calibrated frequency, the median over the rounds.
    hz = [s["tsc_hz"] for s in data["sessions"] if not s["icount"] and s["system"] == "samsara"]
    ticks = [bench.parse_lines(s["lines"])["ubench"]["getppid"] for s in data["sessions"]
             if not s["icount"] and s["system"] == "samsara"]
    want = sorted(t / h for t, h in zip(ticks, hz))
    ok = len(want) == 2 and abs(sw - (want[0] + want[1]) / 2) < 1e-12
    record("bench.wall_is_median_of_rounds", ok, f"{sw} from {want}")

    text = "\n".join(bench.render(data))
    line = next((t for t in text.splitlines() if t.startswith("getppid ")), "")
    record("bench.text_row", "3,498" in line and "361" in line and "9.69x" in line, line)
    gz = table.get("gzip -c of 20 MiB of generated text")
    record("bench.bulk_row", bool(gz) and bench.fmt_ratio(gz[0], gz[1]) == "1.00x", str(gz))
    ipc = table.get(bench.KBENCH_LABELS["sendrec_roundtrip"])
    record("bench.kernel_row_linux_na", bool(ipc) and ipc[0] > 0 and ipc[1] is None
           and bench.fmt_ratio(ipc[0], ipc[1]) == "n/a", str(ipc))

    md = bench.render(data, markdown=True)
    body = [t for t in md if t.startswith("| ") and not t.startswith("| operation")]
    ok = len(body) == len(table) and all(t.count("|") == 8 for t in body)
    record("bench.markdown", ok and body[0].startswith("| getppid | 3,498 | 361 | 9.69x |"),
           "\n".join(md[:6]))
    try:
        bench.parse_lines(["UBENCH getppid 1.0 1.0 1.0 lots"])
        record("bench.bad_line_refused", False, "no error")
    except bench.BenchError as e:
        record("bench.bad_line_refused", "lots" in str(e), str(e))
