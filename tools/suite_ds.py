"""ds, the data store: boots root, ds, dstest and dsowner (dstest's image
under another name, a service restarted at once when it dies) and records
one result per in-OS test (TEST ds.NAME PASS|FAIL), then ds.suite_finished:
the summary line came, nothing failed, and QEMU left with status 1. Called
by tools/test.py as run(record, module)."""
import os
import shutil
import tempfile

from qemu import Boot, collect_tests, record_logged


def run(record, module):
    # The module name is the file's base name: a link named dsowner makes
    # dstest's image the service "dsowner" (argument "owner").
    tmp = tempfile.mkdtemp(prefix="dstest-")
    owner = os.path.join(tmp, "dsowner")
    os.symlink(os.path.abspath(module("dstest").split()[0]), owner)
    # ds runs with "test": its test hook DS_TEST_DIE (ds.restart_finishes_commit) is on
    boot = Boot([module("root"), module("ds") + " test", module("dstest"), owner + " owner"])
    try:
        collect_tests(boot, record, "ds", "dstest", timeout=180, exit_status=1)
        # a write by another than the key's owner is refused, counted and logged
        record_logged(record, boot, "ds.refusals_logged", "ds: refused request 0x4450 from endpoint",
                      "key 'dsowner.gen' is not the sender's")
        # ds's restarts (ds.restart_*): the store kept, then a scrambled header refused
        record_logged(record, boot, "ds.restart_kept_logged", "ds: store kept across a restart:",
                      "subscriptions")
        record_logged(record, boot, "ds.restart_fresh_logged",
                      "ds: state region unusable (bad header checksum)",
                      "starting with an empty store")
        # the journal's change committed, ds dead before applying it, finished by the next one
        record_logged(record, boot, "ds.restart_finish_logged",
                      "ds: test hook: exiting between the commit and the apply of 'dstest.jr.n'",
                      "a committed change finished")
        # ds killed 200 times under a self-checking workload: its figures, shown in the output
        lines = [t for _, t in boot.lines if t.startswith("dstest: kill campaign:")]
        record("ds.kill_campaign_figures", len(lines) == 2 and " 0 lost, 0 corrupt" in lines[0],
               " | ".join(line[len("dstest: kill campaign: "):] for line in lines),
               None if len(lines) == 2 else boot.tail())
    finally:
        boot.kill()
        shutil.rmtree(tmp, ignore_errors=True)
