/*
 * signalfd reads (vfs keeps the descriptors, signalfd.c there; pm the
 * signals). vfs cannot call pm, so a read is a request vfs queues for pm
 * to pull (VFS_SIG_TAKE, or VFS_SIG_TRY for a non-blocking read: the
 * reader's endpoint and the descriptor's mask). pm takes the lowest pending
 * signal of the mask from the reader's thread, else from another thread of
 * its process, and sends it to vfs (VFS_PM_SIGINFO), or signo 0 if none is
 * pending; for VFS_SIG_TAKE it then remembers the mask (sfd_mask), and the
 * first signal of it that comes later (blocked, so it stays pending) is
 * taken and sent the same way. If vfs refuses a signal (the read ended
 * meanwhile: a handler's EINTR, the reader's death), it is pending again.
 */
#include "pm.h"

#define SIG_BIT(s) (1ull << ((s)-1))

/* Send vfs the lowest of mask pending for mp (or signo 0): its own, its process's, another
 * thread's; 1 if one was taken. */
static int sigfd_give(struct mproc *mp, uint64_t mask)
{
    struct mproc *g = leader_of(mp), *t = mp;
    if (!(mp->pending & mask) && !(g->shared_pending & mask))
        for (t = group_next(mp, 0); t && !(t->pending & mask); t = group_next(mp, t))
            ;
    else if (!(mp->pending & mask))
        t = 0; /* the process's */
    uint64_t *set = t ? &t->pending : &g->shared_pending;
    const struct sig_info *infos = t ? t->info : g->shared_info;
    message_t m = {.type = VFS_PM_SIGINFO, .u.vfs_pm.siginfo.ep = mp->ep};
    int sig = *set & mask ? __builtin_ctzll(*set & mask) + 1 : 0;
    if (sig) {
        const struct sig_info *i = &infos[sig];
        m.u.vfs_pm.siginfo = (struct msg_vfs_pm_siginfo){
            mp->ep, sig, i->code, i->pid, i->uid, sig == SIGCHLD ? i->status : 0};
        *set &= ~SIG_BIT(sig);
    }
    int64_t r;
    vfs_request(&m, &r);
    if (sig && r < 0) { /* nobody read it: pending again (its siginfo is still there) */
        *set |= SIG_BIT(sig);
        signal_check(t ? t : mp);
        return 0;
    }
    return sig != 0;
}

void sigfd_take(struct mproc *mp, uint64_t mask, int wait)
{
    mp->sfd_mask = 0;
    if (!sigfd_give(mp, mask) && wait && mp->state == M_ALIVE)
        mp->sfd_mask = mask;
}

/* Signal sig became pending for thread t: a signalfd read of its process waiting for it? */
void sigfd_pending(struct mproc *t, int sig)
{
    if (!(t->sigmask & SIG_BIT(sig)))
        return; /* unblocked: a handler or the default action gets it */
    struct mproc *r = (t->sfd_mask & SIG_BIT(sig)) ? t : 0;
    for (struct mproc *g = 0; !r && (g = group_next(t, g));)
        r = (g->sfd_mask & SIG_BIT(sig)) ? g : 0;
    if (r) {
        uint64_t mask = r->sfd_mask;
        r->sfd_mask = 0; /* one answer per read */
        sigfd_give(r, mask);
    }
}
