"""Kill at any instant, the short version (issue 14; the 1,000-kill campaigns are
tools/drvkill.py): rs's own alarm kills virtio_net 100 times under a wget loop that checks each
download's sha256, and virtio_blk 100 times under an ext2 write, sync and read-back loop
(`service chaos LABEL 100 1 40 start`: in the middle of requests and DMA, and in the new
instances' start-ups). Each campaign: every kill made, some before ROOT_READY, no wrong byte, no
error the workload saw, no other service restarted, the device right afterwards (a download,
every file, e2fsck), no memory lost (DMA memory and the instances' pages back). Results drvkill.DRIVER.*. Called by tools/test.py as run(record, module)."""
from drvkill import LEAK_KB, campaign

KILLS = 100


def check(record, r):
    name = f"drvkill.{r['driver']}"
    if "kills" not in r:
        record(f"{name}.campaign", False, r.get("why", "?"), r.get("tail"))
        return
    tail = None if r["ok"] else r.get("tail")
    record(f"{name}.every_kill_made", r["kills"] == KILLS and r["restarts"] == KILLS,
           f"{r['seconds']} s: kills {r['kills']} of {KILLS}, restarts {r['restarts']}", tail)
    record(f"{name}.no_other_death", r["other_deaths"] == 0,
           f"deaths not by the campaign: {r['other_deaths']} (last: {r['last_other']})")
    record(f"{name}.kills_in_start_up", r["before_ready"] > 0,
           f"{r['before_ready']} kills before the new instance's ROOT_READY")
    record(f"{name}.no_wrong_byte", r.get("wrong") == 0 and r.get("wrong_bytes") == 0 and
           r.get("final_wrong", 0) == 0,
           f"rounds {r.get('rounds')}, wrong files {r.get('wrong')}, wrong bytes "
           f"{r.get('wrong_bytes')}")
    record(f"{name}.no_error_seen", r.get("errors") == 0,
           f"errors {r.get('errors')} {r.get('error_kinds')}")
    record(f"{name}.others_untouched", not r.get("others"), f"{r.get('others') or 'none'}")
    after = r.get("after") == "right" and r.get("right", 0) > 0 if "after" in r else \
        r.get("e2fsck") == "clean" and r.get("reads", 0) > 0
    record(f"{name}.works_after", after,
           f"download {r.get('after')}" if "after" in r else f"e2fsck {r.get('e2fsck')}")
    record(f"{name}.no_memory_lost", r.get("lost_kb") is not None and r["lost_kb"] <= LEAK_KB,
           f"free memory before and after: {r.get('memfree_kb')} KiB (lost {r.get('lost_kb')})")
    record(f"{name}.recovery", r["recovered"] > 0,
           f"median {r['median_us']} us, max {r['max_us']} us over {r['recovered']} recoveries")


def run(record, module):
    for label in ("virtio_net", "virtio_blk"):
        # wget -T 30: TCP's back-off under kills every 20 ms once passed 10 s (docs/REINCARNATION.md)
        check(record, campaign(label, KILLS, timeout=150, wait=30))
