/*
 * Job control: stop and continue. A stop signal's default action (SIGSTOP
 * always; SIGTSTP, SIGTTIN and SIGTTOU unless the process group is
 * orphaned, as Linux) stops the process: the kernel holds it off the CPU
 * (KC_PROC_HOLD), so it does not run even when a reply to a call it was
 * blocked in arrives meanwhile. A call a server holds (a terminal read) is
 * ended and made to start again when the process continues, as Linux
 * restarts it (ERESTARTSYS), so a read made in the foreground and continued
 * in the background asks again (and gets SIGTTIN). SIGCONT continues the
 * process when it is sent, even blocked or ignored; a stop signal sent
 * drops a pending SIGCONT and SIGCONT drops pending stop signals. Each stop
 * and continue is kept for the parent's wait4 (WUNTRACED, WCONTINUED; the
 * later replaces the earlier) and sends it SIGCHLD with CLD_STOPPED or
 * CLD_CONTINUED, unless its SIGCHLD action has SA_NOCLDSTOP. While stopped,
 * only SIGKILL acts (signal.c); other signals wait for SIGCONT.
 *
 * Orphaned process groups (POSIX, Linux's will_become_orphaned_pgrp): a
 * group none of whose members has a parent in another group of the same
 * session (a parent that is init does not count). When an exit leaves a
 * group with stopped members orphaned, the group gets SIGHUP, then SIGCONT.
 */
#include "pm.h"

#define SIG_BIT(s) (1ull << ((s)-1))
#define STOP_SIGNALS (SIG_BIT(SIGSTOP) | SIG_BIT(SIGTSTP) | SIG_BIT(SIGTTIN) | SIG_BIT(SIGTTOU))

int stop_signal(int sig)
{
    return sig > 0 && sig < NSIG && (STOP_SIGNALS & SIG_BIT(sig));
}

/* Tell mp's parent: its wait4 first (Linux's order), then SIGCHLD with code. */
static void tell_parent(struct mproc *mp, int status, int code, int sig)
{
    struct mproc *parent = mp->ppid ? mproc_by_pid(mp->ppid) : 0;
    mp->wait_report = status;
    if (!parent || parent->state != M_ALIVE)
        return;
    check_waiters(parent);
    if (parent->act[SIGCHLD].flags & SA_NOCLDSTOP)
        return;
    struct sig_info why = {
        .code = code, .pid = mp->pid, .uid = (int32_t)mp->cred.ruid, .status = sig};
    signal_send_info(parent, SIGCHLD, &why);
}

/*
 * End the call a server holds or has queued for mp, and set it up to be
 * made again when mp runs: rax back to its number, rip on the syscall.
 * A wait pm itself holds (wait4, nanosleep, pause...) goes on.
 */
static void restart_call(struct mproc *mp)
{
    if (mp->wait != W_NONE)
        return;
    int64_t nr = signal_interrupt_call(mp);
    struct user_regs u;
    if (nr < 0 || sys_proc_regs(mp->ep, REGS_GET, &u) < 0 || u.rax != (uint64_t)-LX_EINTR)
        return;
    u.rax = (uint64_t)nr;
    u.rip -= 2;
    sys_proc_regs(mp->ep, REGS_SET, &u);
}

/* sig's default action: stop mp's process, every thread of it (a stop signal in an orphaned
 * group other than SIGSTOP is dropped). */
void job_stop(struct mproc *mp, int sig)
{
    struct mproc *g = leader_of(mp);
    if (mp->stopped || g->stopped || mp->state != M_ALIVE)
        return;
    if (sig != SIGSTOP && pgrp_orphaned(g->pgid, 0))
        return;
    for (struct mproc *t = group_next(g, 0); t; t = group_next(g, t)) {
        if (sys_proc_hold(t->ep, 1) < 0 && t == mp)
            return;
        t->stopped = 1;
        restart_call(t);
    }
    tell_parent(g, W_STOPPED_STATUS(sig), CLD_STOPPED, sig);
}

/* SIGCONT is being sent to mp's process: pending stops go; its stopped threads run again. */
void job_continue(struct mproc *mp)
{
    struct mproc *g = leader_of(mp);
    int was = 0;
    for (struct mproc *t = group_next(g, 0); t; t = group_next(g, t)) {
        t->pending &= ~STOP_SIGNALS;
        if (!t->stopped)
            continue;
        t->stopped = 0;
        was = 1;
        sys_proc_hold(t->ep, 0);
    }
    mp->pending &= ~STOP_SIGNALS;
    g->shared_pending &= ~STOP_SIGNALS;
    if (was)
        tell_parent(g, W_CONTINUED_STATUS, CLD_CONTINUED, SIGCONT);
}

/*
 * vfs holds mp's terminal call, made from a background group (Linux's
 * tty_check_change, sig SIGTTIN or SIGTTOU): with sig blocked or ignored a
 * read fails with EIO and anything else goes on; in an orphaned group it
 * fails with EIO; else its group gets sig, whose stop or handler ends the
 * call (made again at SIGCONT, or by SA_RESTART).
 */
void job_terminal(struct mproc *mp, int sig)
{
    int64_t result = 1; /* 1: send the signal */
    if ((mp->sigmask & SIG_BIT(sig)) || mp->act[sig].handler == SIG_IGN)
        result = sig == SIGTTIN ? -LX_EIO : 0;
    else if (pgrp_orphaned(mp->pgid, 0))
        result = -LX_EIO;
    if (result <= 0) {
        message_t m = {.type = VFS_PM_TTY, .u.vfs_pm.tty = {.ep = mp->ep, .result = result}};
        vfs_request(&m, 0);
        return;
    }
    signal_group(mp->pgid, sig, 0);
}

/* Is group pgid orphaned (ignoring the process `ignored`, which is leaving)? A group with no
 * live member is not (nothing to signal). */
int pgrp_orphaned(int pgid, const struct mproc *ignored)
{
    int members = 0;
    for (int i = 0; i < NR_MPROCS; i++) {
        const struct mproc *m = &mprocs[i];
        if (m->state != M_ALIVE || m->pgid != pgid || m == ignored)
            continue;
        members++;
        const struct mproc *parent = m->ppid > INIT_PID ? mproc_by_pid(m->ppid) : 0;
        if (parent && parent != ignored && parent->state == M_ALIVE && parent->pgid != pgid &&
            parent->sid == m->sid)
            return 0;
    }
    return members > 0;
}

static int has_stopped(int pgid)
{
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_ALIVE && mprocs[i].pgid == pgid && mprocs[i].stopped)
            return 1;
    return 0;
}

/* A group with stopped members that gone's exit left orphaned: SIGHUP, then SIGCONT. */
static void orphaned_by(int pgid, struct mproc *gone)
{
    if (has_stopped(pgid) && pgrp_orphaned(pgid, gone)) {
        signal_group(pgid, SIGHUP, 0);
        signal_group(pgid, SIGCONT, 0);
    }
}

/*
 * gone is exiting (before its children go to init): its own group, if
 * its parent linked it to the session (Linux's exit_notify), and each
 * group of its children in the same session but another group (Linux's
 * reparent_leader) may have become orphaned.
 */
void orphans_check(struct mproc *gone)
{
    struct mproc *parent = gone->ppid ? mproc_by_pid(gone->ppid) : 0;
    if (parent && parent->pgid != gone->pgid && parent->sid == gone->sid)
        orphaned_by(gone->pgid, gone);
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *c = &mprocs[i];
        if (c->state == M_ALIVE && c->ppid == gone->pid && c->pgid != gone->pgid &&
            c->sid == gone->sid && c->stopped)
            orphaned_by(c->pgid, gone);
    }
}
