/*
 * pm's tables across its own restarts (docs/REINCARNATION.md, "Core
 * servers: vfs and pm"). The process table (pids, parents, groups,
 * sessions, ids, zombies' statuses, signal handlers, masks and pending
 * signals, timers, threads, memory regions), the mapped files and the last
 * pid live in the state region rs keeps (`state` in pm.conf), used in place:
 * the region is at the same address in every instance, so the pointers in
 * it (region lists, mapped files) stay true. The region entries' pool
 * follows the tables in the same region (region.c, ROOT_STATE_GROW).
 *
 * A header (magic, layout version, length, FNV-1a checksum) and a `busy`
 * word: 1 while a message is being handled (and while pm starts), 0 while pm
 * waits for the next one. A new instance keeps the tables only when the
 * header is right and busy is 0; else it starts fresh as before: every
 * process the last instance made is killed and init starts again (logged).
 *
 * A kept instance takes its processes back from the kernel (KC_PROC_ADOPT:
 * they went to rs when pm died), lets one held at a fault whose report rs took
 * run again (it faults again, now to pm), counts one whose endpoint is gone
 * as killed (SIGKILL: its parent's wait4 sees it), ends the calls that were
 * suspended in the dead instance (the kernel holds their callers and sends
 * them again, marked LX_AGAIN: keep_again), and arms its alarm again for the
 * timers it keeps.
 */
#include <samsara/root.h>
#include "pm.h"

#define KEEP_MAGIC 0x3170654b6d506d70ull /* "pmPmKep1" */
#define KEEP_VERSION 1

static int kept_tables; /* this instance kept the last one's tables (keep_start) */

_Static_assert(sizeof(struct pm_kept) < (4u << 20),
               "pm's tables outgrow their share of the region");

static uint64_t header_check(const struct pm_keep_header *h)
{
    uint64_t x = 0xcbf29ce484222325ull;
    const uint64_t w[2] = {h->magic, (uint64_t)h->version << 32 | h->len};
    const uint8_t *b = (const uint8_t *)w;
    for (uint64_t n = 0; n < sizeof(w); n++)
        x = (x ^ b[n]) * 0x100000001b3ull; /* FNV-1a */
    return x;
}

/*
 * At start, before any table is used: 1 if the last instance's tables are
 * kept, 0 for fresh (zeroed) tables, -1 if rs gives pm no region.
 */
int keep_start(void)
{
    int64_t have = root_state_grow(PM_KEPT_FIXED);
    if (have < (int64_t)PM_KEPT_FIXED) {
        printf("pm: no state region (%ld)\n", have);
        return -1;
    }
    struct pm_keep_header *h = &PM_KEPT->h;
    int empty = !h->magic && !h->version && !h->len && !h->check && !h->busy;
    const char *why = empty                                        ? 0
                      : h->check != header_check(h)                ? "header checksum"
                      : h->magic != KEEP_MAGIC                     ? "magic"
                      : h->version != KEEP_VERSION                 ? "layout version"
                      : h->len != (uint32_t)sizeof(struct pm_kept) ? "length"
                      : h->busy                                    ? ""
                                                                   : 0;
    int kept = !empty && !why;
    h->busy = 1;
    if (!kept) {
        if (why && *why)
            printf("pm: state region unusable (bad %s): starting fresh\n", why);
        else if (why)
            printf("pm: the last instance died in the middle of a request: starting fresh\n");
        memset(PM_KEPT, 0, sizeof(*PM_KEPT));
        PM_KEPT->h.busy = 1;
        PM_KEPT->pool_top = PM_POOL_BASE;
    }
    struct pm_keep_header want = {KEEP_MAGIC, KEEP_VERSION, (uint32_t)sizeof(struct pm_kept), 0, 1};
    want.check = header_check(&want);
    *h = want;
    kept_tables = kept;
    return kept;
}

/*
 * A kept entry's call that the dead instance held: the kernel holds the caller and sends the
 * call again (keep_again). Its call and deadline (mp->call, mp->wake_at) stay for keep_again.
 */
static void forget_call(struct mproc *mp)
{
    if (mp->wait == W_SIGSUSPEND)
        mp->sigmask = mp->saved_mask; /* its mask for the call ends with the call */
    if (mp->wait != W_GONE)
        mp->wait = W_NONE;
}

/* Calls that only wait or ask: running one again does nothing twice. */
static int may_run_again(uint64_t nr, const uint64_t *a)
{
    switch (nr) {
    case LX_wait4:
    case LX_waitid:
    case LX_pause:
    case LX_rt_sigsuspend: /* the mask it had before is back (forget_call) */
    case LX_nanosleep:
    case LX_clock_nanosleep:
    case LX_rt_sigtimedwait:
    case LX_exit: /* a main thread held with W_GONE: gone again, or the process ends now */
    case LX_getpid:
    case LX_getppid:
    case LX_gettid:
    case LX_getpgid:
    case LX_getsid:
        return 1;
    case LX_futex: /* FUTEX_WAIT, private or not, either clock: reads the word again */
        return (a[1] & ~(uint64_t)(FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME)) == FUTEX_WAIT;
    default:
        return 0;
    }
}

/*
 * A Linux call the kernel sent again because the last instance died holding it (LX_AGAIN in its
 * number; kernel/linux.c): 1 if it may run again, with LX_AGAIN taken off, and *deadline the
 * CLOCK_MONOTONIC deadline the last instance had for this very call (0: none), so that a sleep
 * sleeps what was left (keep_deadline). Only when this instance kept the tables (it died between
 * requests, so the call was suspended, not half done), and only for calls that wait or ask; any
 * other (a vfork's clone: the child exists) is refused: 0 (the caller's EIO).
 */
int keep_again(struct mproc *mp, message_t *m, uint64_t *deadline)
{
    uint64_t nr = m->u.lx.nr & ~(uint64_t)LX_AGAIN;
    int same =
        mp->call.u.lx.nr == nr && !memcmp(mp->call.u.lx.arg, m->u.lx.arg, sizeof(m->u.lx.arg));
    m->u.lx.nr = nr;
    *deadline = same ? mp->wake_at : 0;
    return kept_tables && may_run_again(nr, m->u.lx.arg);
}

/* After a call keep_again let run: a sleep or timed wait ends when the last instance's would. */
void keep_deadline(struct mproc *mp, uint64_t deadline)
{
    if ((mp->wait == W_SLEEP || mp->wait == W_SIGWAIT || mp->wait == W_FUTEX) &&
        mp->wake_at > deadline) {
        mp->wake_at = deadline;
        timers_arm();
    }
}

/* After keep_start said 1 and vfs is known: the processes taken back, the timers armed. */
void keep_reconcile(void)
{
    int alive = 0, gone = 0, zombies = 0;
    for (int i = 0; i < NR_MFILES; i++) {
        mfiles[i].loaded = 0; /* the window's pages went with the last instance */
        mfiles[i].written = 0;
    }
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *mp = &mprocs[i];
        if (mp->state == M_ZOMBIE)
            zombies++;
        if (mp->state != M_ALIVE)
            continue;
        forget_call(mp);
        if (sys_proc_adopt(mp->ep) < 0)
            continue;
        alive++;
        struct proc_info info; /* held at a fault whose report rs took: let it fault again */
        if (!mp->stopped && sys_proc_info(mp->ep, &info) == 0 && (info.state & PS_HELD))
            sys_proc_hold(mp->ep, 0);
    }
    for (int i = 0; i < NR_MPROCS; i++) { /* not adopted: died while pm was down (rs reaped it) */
        struct mproc *mp = &mprocs[i];
        struct proc_info info;
        if (mp->state != M_ALIVE || sys_proc_info(mp->ep, &info) == 0)
            continue;
        gone++;
        mproc_exit(mp, SIGKILL);
    }
    timers_arm();
    printf("pm: state region kept: %d processes go on, %d died while pm was down, %d zombies "
           "kept\n",
           alive, gone, zombies);
}
