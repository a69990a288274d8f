/*
 * pm's part of /proc/PID/stat, status and maps (procfs.c): the state pm
 * sees, the memory by kind, the regions and the signal masks, a struct
 * pm_procinfo (samsara/msg/vfs_pm.h). vfs never waits for pm (blocking
 * sends go pm -> vfs only), so a read that needs it waits (WAIT_PROCINFO)
 * while vfs queues the request among the signals pm pulls (procfs_pull,
 * VFS_SIG_PROCINFO) and notifies pm; pm answers VFS_PM_PROCINFO with a
 * grant of the record (procfs_answer), and the read runs again and finds
 * it. The answer serves the rest of that call; the reader's next call
 * drops it (procfs_forget), so every read shows pm's state of its time.
 */
#include "vfs.h"

#define NR_ANSWERS 8 /* readers waiting for pm at once; more wait for a free entry */
enum { A_FREE, A_WANTED, A_ASKED, A_READY };
static struct answer {
    int state;
    endpoint_t reader;
    int pid;
    int64_t result; /* A_READY: 0, or -errno (the process is gone: ENOENT) */
    struct pm_part part;
} answers[NR_ANSWERS];

/* An entry nobody waits for (free, or its reader is not waiting for it any more). */
static int answer_spare(const struct answer *a)
{
    struct vproc *r = a->state == A_FREE ? 0 : vproc_of(a->reader);
    return a->state == A_FREE || !r || r->wait != WAIT_PROCINFO || a->state == A_READY;
}

/*
 * pm's part for pid, for the process whose call is served: 0 with *out, or
 * SUSPEND (the call waits for pm and runs again), or -errno.
 */
int64_t pm_part(int pid, const struct pm_part **out)
{
    struct vproc *c = procfs_caller;
    struct answer *a = 0, *spare = 0;
    if (!c)
        return -LX_EIO; /* vfs's own reads of /proc need no pm part */
    for (int i = 0; i < NR_ANSWERS; i++) {
        if (answers[i].state != A_FREE && answers[i].reader == c->ep && answers[i].pid == pid)
            a = &answers[i];
        else if (!spare && answer_spare(&answers[i]))
            spare = &answers[i];
    }
    if (a && a->state == A_READY) {
        *out = &a->part;
        return a->result;
    }
    if (!a && !spare)
        return -LX_EAGAIN; /* NR_ANSWERS readers wait for pm already */
    if (!a) {
        *spare = (struct answer){.state = A_WANTED, .reader = c->ep, .pid = pid};
        pm_wake();
    }
    suspend(c, WAIT_PROCINFO);
    return SUSPEND;
}

/* VFS_PM_PULL found no signal: the oldest wanted part, if any (1), asked from pm now. */
int procfs_pull(struct msg_vfs_pm_pull_reply *out)
{
    for (int i = 0; i < NR_ANSWERS; i++)
        if (answers[i].state == A_WANTED) {
            answers[i].state = A_ASKED;
            *out = (struct msg_vfs_pm_pull_reply){
                .result = VFS_SIG_PROCINFO, .target = answers[i].pid, .sig = answers[i].reader};
            return 1;
        }
    return 0;
}

/* Some answer may be A_READY: set when one becomes so, cleared by procfs_forget's scan when it
 * finds none left, so that a call (every call forgets its reader's answers) scans only then. */
static int answers_ready;

/* VFS_PM_PROCINFO: pm's answer is kept; the reader to run again, if it still waits for it. */
struct vproc *procfs_answer(endpoint_t pm, const struct msg_vfs_pm_procinfo *q)
{
    const uint64_t head = offsetof(struct pm_procinfo, region);
    for (int i = 0; i < NR_ANSWERS; i++) {
        struct answer *a = &answers[i];
        if (a->state != A_ASKED || a->reader != q->reader || a->pid != q->pid)
            continue;
        a->state = A_READY;
        answers_ready = 1;
        a->result = 0;
        if (q->grant < 0)
            a->result = -LX_ENOENT; /* pm has no such process (any more) */
        else if (q->len < head || q->len > sizeof(a->part.info) ||
                 sys_safecopy_from(pm, q->grant, 0, &a->part.info, q->len) < 0)
            a->result = -LX_EIO;
        if (a->result == 0) {
            uint64_t came = (q->len - head) / sizeof(a->part.info.region[0]);
            a->part.nregions = a->part.info.nregions < came ? a->part.info.nregions : came;
        }
        struct vproc *r = vproc_of(a->reader);
        return r && r->wait == WAIT_PROCINFO ? r : 0;
    }
    return 0;
}

/* A new call of reader: the parts it was given for its last one are stale. */
void procfs_forget(const struct vproc *reader)
{
    int left = 0;
    for (int i = 0; answers_ready && i < NR_ANSWERS; i++) {
        if (answers[i].state == A_READY && answers[i].reader == reader->ep)
            answers[i].state = A_FREE;
        left |= answers[i].state == A_READY;
    }
    answers_ready = left;
}
