/*
 * Suspended calls. A handler that cannot finish calls suspend() and
 * returns SUSPEND; the process entry keeps the original message. When
 * something changes (pipe data, a driver's status, a timer) the waiting
 * calls are run again from their message; cancel_call() (pm, for a
 * signal) ends one with -EINTR.
 */
#include "vfs.h"

extern struct vproc *vproc_by_index(int i);

/* Slots that may wait on a pipe, a socket or a poll (set at suspend, cleared lazily by
 * wakeups_run): a wakeup looks at these, not at every slot. */
static uint64_t may_wait[NR_SLOTS / 64];

void suspend(struct vproc *p, enum wait_kind kind)
{
    p->wait = kind;
    if (kind != WAIT_DEV && kind != WAIT_FS) {
        int i = EP_SLOT(p->ep);
        may_wait[i / 64] |= 1ull << (i % 64);
    }
}

/* The next slot from i on that may wait for `kind` (pipes: a pipe or a socket): its process,
 * *i its slot; 0 at the end. A slot that waits for nothing of the kind any more is dropped. */
static struct vproc *next_waiting(int *i, int pipes)
{
    for (; *i < NR_SLOTS; ++*i) {
        uint64_t bits = may_wait[*i / 64] >> (*i % 64);
        if (!bits) {
            *i = (*i / 64 + 1) * 64 - 1; /* none left in this word */
            continue;
        }
        *i += __builtin_ctzll(bits);
        struct vproc *p = vproc_by_index(*i);
        enum wait_kind w = p ? p->wait : WAIT_NONE;
        if (w != WAIT_PIPE_READ && w != WAIT_PIPE_WRITE && w != WAIT_SOCK && w != WAIT_POLL &&
            w != WAIT_FIFO_OPEN && w != WAIT_LOCK && w != WAIT_MQ) {
            may_wait[*i / 64] &= ~(1ull << (*i % 64));
            continue;
        }
        if (pipes ? w != WAIT_POLL : w == WAIT_POLL)
            return p;
    }
    return 0;
}

/* Run p's call from its message (first time or again); reply unless it waits. */
void rerun(struct vproc *p)
{
    p->wait = WAIT_NONE;
    p->fifo.ino = 0;   /* a FIFO open waiting again says so again */
    procfs_caller = p; /* the process whose call is served (table_entry_allowed) */
    fswait_begin(p);
    int64_t r = vfs_dispatch(p, p->call.u.lx.nr, p->call.u.lx.arg);
    r = fswait_end(p, r);
    procfs_caller = 0;
    if (r != SUSPEND) {
        reply(p->ep, r);
        poll_mask_done(p, 0); /* after the reply: pm may run at once, and finds no call */
    }
}

/*
 * Pipes or sockets changed, or a driver reported readiness: the waiting calls are run
 * again, but only once the message that changed things is finished
 * (wakeups_run, from the main loop). Run from inside a call, they reused
 * the static buffers that call was still using (readv's vectors, poll's
 * entries): one process's call went on with another's arguments.
 */
static int pipes_changed, polls_due;

void wakeup_pipes(void)
{
    pipes_changed = polls_due = 1;
}

void wakeup_polls(void)
{
    polls_due = 1;
}

/* Rerun what wakeup_pipes and wakeup_polls asked for, until the reruns change nothing more. */
void wakeups_run(void)
{
    for (fswait_resume(); pipes_changed || polls_due; fswait_resume()) {
        int pipes = pipes_changed;
        pipes_changed = polls_due = 0;
        struct vproc *p;
        for (int i = 0; pipes && (p = next_waiting(&i, 1)); i++)
            rerun(p);
        for (int i = 0; (p = next_waiting(&i, 0)); i++)
            rerun(p);
    }
}

/* A driver's DONE item: finish the call waiting for (driver, id). 0 if none waits. */
int dev_done(endpoint_t driver, uint64_t id, int64_t result)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        if (p && p->wait == WAIT_DEV && p->dev_ep == driver && p->dev_id == id) {
            p->wait = WAIT_NONE;
            reply(p->ep, dev_finish(p, result));
            return 1;
        }
    }
    return 0;
}

/* End p's suspended call with -EINTR (a device may report a partial result). 1 if there was one. */
int cancel_call(struct vproc *p)
{
    int64_t r = -LX_EINTR;
    switch (p->wait) {
    case WAIT_NONE:
        return 0;
    case WAIT_DEV:
        r = dev_cancel(p);
        break;
    case WAIT_FS: /* interruptible, as Linux's NFS "intr": a request in the server goes on */
        fswait_cancel(p);
        break;
    case WAIT_PIPE_WRITE: /* a write that had put some bytes in returns their count */
        r = p->done ? (int64_t)p->done : r;
        break;
    default:
        break;
    }
    p->wait = WAIT_NONE;
    poll_mask_done(p, 1);
    reply(p->ep, r);
    return 1;
}

/* A waiting poll, socket call (SO_RCVTIMEO, SO_SNDTIMEO) or mq call, with a deadline. */
static int timed(const struct vproc *p)
{
    return p && (p->wait == WAIT_POLL || p->wait == WAIT_SOCK || p->wait == WAIT_MQ) && p->deadline;
}

/* The tick p's wait ends at (0: none): its own deadline, or its wait for a file server's new
 * instance (fswait.c). */
static uint64_t deadline_of(const struct vproc *p)
{
    return timed(p) ? p->deadline : fswait_deadline(p);
}

/* Our one alarm, set for the earliest deadline of a waiting call (at most a day away). */
#define ALARM_MAX_TICKS (24ull * 3600 * 1000)
void timers_arm(void)
{
    uint64_t now = sys_uptime(), next = 0;
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        uint64_t d = deadline_of(p);
        if (d && (!next || d < next))
            next = d;
    }
    if (next) {
        uint64_t ticks = next > now ? next - now : 1;
        sys_alarm(ticks < ALARM_MAX_TICKS ? ticks : ALARM_MAX_TICKS);
    }
}

/* The alarm rang: rerun the calls whose deadline passed (they end), then re-arm for the next. */
void timers_check(void)
{
    uint64_t now = sys_uptime();
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *p = vproc_by_index(i);
        uint64_t d = deadline_of(p);
        if (d && d <= now)
            rerun(p);
    }
    timers_arm();
}
