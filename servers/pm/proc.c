/*
 * Process life: fork, exit, wait4 and waitid, and the identity calls (pids, process
 * groups, sessions; user ids are cred.c's). A dead process stays a zombie
 * until its parent waits; orphans go to init.
 */
#include "pm.h"

/* wait4's and waitid's options, and waitid's idtypes (Linux's values) */
#define WNOHANG 1
#define WUNTRACED 2
#define WSTOPPED WUNTRACED
#define WEXITED 4
#define WCONTINUED 8
#define WNOWAIT 0x01000000
#define __WNOTHREAD 0x20000000
#define __WALL 0x40000000
#define __WCLONE 0x80000000
#define P_ALL 0
#define P_PID 1
#define P_PGID 2
#define P_PIDFD 3

#define last_pid (PM_KEPT->last_pid) /* the first pid given out is 1: init */

int pid_alloc(void)
{
    for (int tries = 0; tries < 100000; tries++) {
        int pid = last_pid >= 32767 ? 2 : last_pid + 1;
        last_pid = pid;
        int used = 0;
        for (int i = 0; i < NR_MPROCS && !used; i++)
            used = mprocs[i].state != M_FREE &&
                   (mprocs[i].pid == pid || mprocs[i].pgid == pid || mprocs[i].sid == pid);
        if (!used)
            return pid;
    }
    return -1;
}

struct mproc *mproc_alloc(void)
{
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_FREE) {
            memset(&mprocs[i], 0, sizeof(mprocs[i]));
            mprocs[i].state = M_ALIVE;
            mprocs[i].start_tick = now_ticks();
            mem_limits_init(&mprocs[i]);
            limits_init(&mprocs[i]);
            return &mprocs[i];
        }
    return 0;
}

/*
 * A zombie is gone: its pid and group are free. vfs kept its group (a
 * zombie's group still exists for TIOCSPGRP, as on Linux) until now.
 */
static void zombie_release(struct mproc *c)
{
    c->state = M_FREE;
    message_t m = {.type = VFS_PM_RELEASE, .u.vfs_pm.release.pid = c->pid};
    vfs_request(&m, 0);
}

/* RLIMIT_NPROC: mp's real user has as many processes (zombies too, until reaped) as its soft
 * limit allows. Root (real or effective uid 0) is not held (Linux's INIT_USER, CAP_SYS_RESOURCE).
 */
static int over_nproc(const struct mproc *mp)
{
    if (mp->cred.ruid == 0 || mp->cred.euid == 0)
        return 0;
    uint64_t n = 0;
    for (int i = 0; i < NR_MPROCS; i++)
        n += mprocs[i].state != M_FREE && mprocs[i].cred.ruid == mp->cred.ruid;
    return n >= mp->rlim[RLIMIT_NPROC][0];
}

/* May mp make one more process or thread? 0 or -EAGAIN. */
int64_t fork_room(const struct mproc *mp)
{
    int free_entries = 0;
    for (int i = 0; i < NR_MPROCS; i++)
        free_entries += mprocs[i].state == M_FREE;
    if (free_entries <= PROCS_FOR_ROOT && mp->cred.euid != 0)
        return -LX_EAGAIN; /* the last entries are root's: a user's fork bomb leaves root a shell */
    return over_nproc(mp) ? -LX_EAGAIN : 0;
}

/*
 * A free entry, a new pid and the kernel's copy of thread mp (flags are
 * KC_PROC_FORK's: 0 for a process, FORK_SHARE_SPACE for a thread): the new
 * endpoint, with *out and *pid; or -EAGAIN/-ENOMEM, with nothing kept.
 */
int64_t fork_entry(struct mproc *mp, uint64_t flags, struct mproc **out, int *pid)
{
    struct mproc *c = mproc_alloc();
    int id = c ? pid_alloc() : -1;
    if (!c || id < 0) {
        if (c)
            c->state = M_FREE;
        return -LX_EAGAIN;
    }
    endpoint_t ep = sys_proc_fork(mp->ep, flags);
    if (ep < 0) {
        c->state = M_FREE;
        return ep == -E_NOMEM ? -LX_ENOMEM : -LX_EAGAIN;
    }
    *out = c;
    *pid = id;
    return ep;
}

/*
 * A copy of the process of thread mp (its main thread's memory map, limits
 * and ids; mp's registers, mask and alternate stack), running on `stack` if
 * it is not 0 (clone's new stack); with vfork, mp waits (W_VFORK) until the
 * child has exec'd or exited (vfork_release). The child's pid, or -errno.
 */
static int64_t fork_copy(struct mproc *mp, uint64_t stack, int vfork)
{
    struct mproc *g = leader_of(mp);
    int64_t pages = mem_pages(g); /* copy-on-write: the copy takes page tables for them */
    if (pages < 0 || mem_admit_fork((uint64_t)pages) < 0 || region_copy_ready(g) < 0)
        return -LX_ENOMEM;
    if (fork_room(mp) < 0)
        return -LX_EAGAIN;
    struct mproc *c;
    int pid;
    endpoint_t ep = fork_entry(mp, 0, &c, &pid);
    if (ep < 0)
        return ep;
    *c = *g;
    region_copy(c, g); /* its own list, from the entries made ready above */
    c->sigmask = mp->sigmask, c->cred = mp->cred; /* handlers: every thread has them */
    c->ss_sp = mp->ss_sp, c->ss_size = mp->ss_size, c->ss_flags = mp->ss_flags;
    c->ep = ep;
    c->pid = c->tgid = pid;
    c->clear_tid = 0;
    c->ppid = mp->tgid;
    c->pending = c->shared_pending = 0;
    c->sfd_mask = 0; /* no signalfd read waits in the child */
    c->report = 0;   /* only the program rs ran reports its exit, not its children */
    c->wait = W_NONE;
    c->alarm_at = c->alarm_interval = 0;
    c->start_tick = now_ticks();
    c->child_ticks = c->gone_ms = 0;
    int64_t r;
    message_t fork = {.type = VFS_PM_FORK, .u.vfs_pm.fork = {mp->ep, ep, pid}};
    message_t pgrp = {.type = VFS_PM_SETPGRP, .u.vfs_pm.setpgrp = {ep, c->pgid, c->sid}};
    vfs_request(&fork, &r);
    vfs_request(&pgrp, &r);
    sysv_fork(mp, c);
    struct user_regs u;
    int started = !stack || (sys_proc_regs(ep, REGS_GET, &u) == 0 &&
                             (u.rsp = stack, sys_proc_regs(ep, REGS_SET, &u) == 0));
    if (!started || sys_proc_start(ep, 0, 0, 0, USER_PRIO) < 0) {
        sys_proc_kill(ep);
        mproc_exit(c, SIGKILL);
        return -LX_EAGAIN;
    }
    if (!vfork)
        return pid;
    mp->wait = W_VFORK;
    mp->vfork_child = pid;
    return SUSPEND;
}

int64_t do_fork(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return fork_copy(mp, 0, 0);
}

int64_t do_vfork(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return fork_copy(mp, 0, 1);
}

/*
 * clone in the forms fork and musl's posix_spawn use: SIGCHLD as the exit
 * signal, CLONE_VFORK, and CLONE_VM only with CLONE_VFORK (the child gets a
 * copy of the memory, which the parent cannot see until the child has
 * exec'd or exited), a new stack or none; and threads (CLONE_THREAD:
 * thread.c).
 */
#define CLONE_VM 0x100
#define CLONE_VFORK 0x4000
#define CLONE_THREAD 0x10000
#define CSIGNAL 0xff
int64_t do_clone(struct mproc *mp, const uint64_t *a)
{
    uint64_t flags = a[0];
    if (flags & CLONE_THREAD)
        return thread_create(mp, a);
    if ((flags & ~(uint64_t)(CSIGNAL | CLONE_VM | CLONE_VFORK)) || (flags & CSIGNAL) != SIGCHLD ||
        (flags & (CLONE_VM | CLONE_VFORK)) == CLONE_VM)
        return -LX_ENOSYS;
    return fork_copy(mp, a[1], (flags & CLONE_VFORK) != 0);
}

/* c has exec'd or is gone: its parent (the thread of it), waiting in vfork or
 * clone(CLONE_VFORK), goes on. */
void vfork_release(struct mproc *c)
{
    struct mproc *parent = c->ppid ? mproc_by_pid(c->ppid) : 0;
    while (parent && (parent->wait != W_VFORK || parent->vfork_child != c->pid))
        parent = group_next(parent, parent);
    if (!parent)
        return;
    parent->wait = W_NONE;
    reply_to(parent, c->pid);
    signal_check(parent); /* what came while it waited */
}

/* mp's process is gone with wait status `status` (its threads first): zombie for its parent,
 * orphans to init. */
void mproc_exit(struct mproc *mp, int status)
{
    if (mp->state != M_ALIVE)
        return;
    threads_end(mp, 0); /* their CPU time goes to gone_ms */
    mp = leader_of(mp);
    mp->cpu_ms = process_cpu_ms(mp); /* before it is gone */
    mp->state = M_ZOMBIE;
    mem_forget(mp); /* its address space is gone */
    mp->exit_status = status;
    mp->wait = W_NONE;
    mp->alarm_at = 0;
    sys_proc_kill(mp->ep); /* fails harmlessly if the kernel already buried it */
    message_t m = {.type = VFS_PM_EXIT, .u.vfs_pm.proc.ep = mp->ep};
    vfs_request(&m, 0);
    sysv_tell(SYSV_EXIT, mp);
    if (mp->pid == INIT_PID)
        printf("pm: init exited with status %x; no process will reap orphans\n", status);
    if (mp->report)
        report_exit(mp);
    struct mproc *init = mproc_by_pid(INIT_PID);
    orphans_check(mp);
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *c = &mprocs[i];
        if (c->state != M_FREE && c->ppid == mp->pid && c != mp) {
            c->ppid = init && init != mp ? INIT_PID : 0;
            if (c->state == M_ZOMBIE && !c->ppid)
                zombie_release(c);
        }
    }
    if (init && init != mp)
        check_waiters(init);
    vfork_release(mp);
    struct mproc *parent = mp->ppid ? mproc_by_pid(mp->ppid) : 0;
    if (!parent || parent->state != M_ALIVE) {
        zombie_release(mp); /* nobody will wait for it */
        return;
    }
    struct k_sigaction *chld = &parent->act[SIGCHLD];
    if (chld->handler == SIG_IGN || (chld->flags & SA_NOCLDWAIT))
        zombie_release(mp); /* the parent asked for no zombies: wait4 ends in ECHILD */
    /* Linux's order: a wait4 that this exit satisfies returns the child first, so SIGCHLD's
     * handler runs after it and cannot end it with EINTR */
    check_waiters(parent);
    int killed = (status & 0x7f) != 0;
    struct sig_info why = {.code = killed ? CLD_KILLED : CLD_EXITED,
                           .pid = mp->pid,
                           .uid = (int32_t)mp->cred.ruid,
                           .status = killed ? status & 0x7f : (status >> 8) & 0xff};
    signal_send_info(parent, SIGCHLD, &why);
}

/* What a wait selects (wait4's pid, waitid's idtype and id) and reports (its options). */
struct wait_select {
    int type; /* P_ALL, P_PID (id: the pid), P_PGID (id: the group) */
    int64_t id;
    uint64_t options; /* WEXITED, WSTOPPED, WCONTINUED, WNOHANG, WNOWAIT */
};

static int selects(struct mproc *parent, struct mproc *c, const struct wait_select *w)
{
    if (c->state == M_FREE || c->ppid != parent->tgid || c->pid != c->tgid || c == parent)
        return 0; /* a thread is no child */
    return w->type == P_ALL || (w->type == P_PID && c->pid == w->id) ||
           (w->type == P_PGID && c->pgid == w->id);
}

/*
 * The first child of mp that w selects with something to report: an exit (WEXITED), or a stop
 * (WSTOPPED) or continue (WCONTINUED) not yet reported (stop.c); its wait status in *status.
 * 0 if none; *any then says whether w selects a child at all.
 */
static struct mproc *wait_find(struct mproc *mp, const struct wait_select *w, int *status, int *any)
{
    *any = 0;
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *c = &mprocs[i];
        if (!selects(mp, c, w))
            continue;
        *any = 1;
        int report = c->state == M_ALIVE ? c->wait_report : 0;
        if (report && (w->options & (report == W_CONTINUED_STATUS ? WCONTINUED : WSTOPPED))) {
            *status = report;
            return c;
        }
        if (c->state == M_ZOMBIE && (w->options & WEXITED)) {
            *status = c->exit_status;
            return c;
        }
    }
    return 0;
}

/* No child has anything to report: ECHILD if w selects none, 0 with WNOHANG, else mp waits
 * (check_waiters makes its call again when a child changes). */
static int64_t wait_nothing(struct mproc *mp, const struct wait_select *w, int any)
{
    if (!any)
        return -LX_ECHILD;
    if (w->options & WNOHANG)
        return 0;
    mp->wait = W_WAIT4;
    return SUSPEND;
}

/* c's report went out: its struct rusage to ru (if not 0; a zombie's CPU time, else zero),
 * then, unless WNOWAIT, the report is taken (a zombie is reaped). c's pid, or -EFAULT. */
static int64_t wait_take(struct mproc *mp, struct mproc *c, uint64_t options, uint64_t ru)
{
    int zombie = c->state == M_ZOMBIE, pid = c->pid;
    uint64_t ms = zombie ? c->cpu_ms + c->child_ticks : 0; /* its threads' and reaped children's */
    uint64_t usage[18] = {ms / 1000, (ms % 1000) * 1000};  /* struct rusage (144 bytes): ru_utime */
    if (ru && sys_vcopy(SELF, (uint64_t)usage, mp->ep, ru, sizeof(usage)) < 0)
        return -LX_EFAULT;
    if (options & WNOWAIT)
        return pid;
    if (!zombie) {
        c->wait_report = 0; /* reported once */
        return pid;
    }
    leader_of(mp)->child_ticks += ms;
    zombie_release(c);
    return pid;
}

/* wait4(pid, status, options, rusage): a zombie, or with WUNTRACED a stop and with
 * WCONTINUED a continue not yet reported (stop.c). */
int64_t do_wait4(struct mproc *mp, const uint64_t *a)
{
    int64_t pid = (int32_t)a[0];
    if (a[2] & ~(uint64_t)(WNOHANG | WUNTRACED | WCONTINUED | __WALL | __WCLONE))
        return -LX_EINVAL;
    struct wait_select w = {.type = pid == -1 ? P_ALL
                                    : pid > 0 ? P_PID
                                              : P_PGID,
                            .id = pid > 0    ? pid
                                  : pid == 0 ? mp->pgid
                                             : -pid,
                            .options = (a[2] & (WNOHANG | WUNTRACED | WCONTINUED)) | WEXITED};
    int status, any;
    struct mproc *c = wait_find(mp, &w, &status, &any);
    if (!c)
        return wait_nothing(mp, &w, any);
    if (a[1] && sys_vcopy(SELF, (uint64_t)&status, mp->ep, a[1], sizeof(status)) < 0)
        return -LX_EFAULT;
    return wait_take(mp, c, w.options, a[3]);
}

/* The siginfo waitid writes: si_signo (SIGCHLD, or 0 when nothing was reported), si_errno,
 * si_code (CLD_*), si_pid, si_uid (the child's real uid) and si_status (exit code or signal). */
static int waitid_info(struct mproc *mp, uint64_t infop, struct mproc *c, int status)
{
    struct siginfo_l si = {0};
    if (c) {
        int sig = status & 0x7f;
        si.signo = SIGCHLD, si.pid = c->pid, si.uid = (int32_t)c->cred.ruid;
        si.code = status == W_CONTINUED_STATUS ? CLD_CONTINUED
                  : sig == 0x7f                ? CLD_STOPPED
                  : sig == 0                   ? CLD_EXITED
                  : (status & 0x80)            ? CLD_DUMPED
                                               : CLD_KILLED;
        si.status = status == W_CONTINUED_STATUS ? SIGCONT
                    : sig == 0x7f || sig == 0    ? (status >> 8) & 0xff
                                                 : sig;
    }
    size_t n = offsetof(struct siginfo_l, pad2); /* Linux writes these fields, not the rest */
    return sys_vcopy(SELF, (uint64_t)&si, mp->ep, infop, n);
}

/* waitid's idtype, id and options as a wait_select, with Linux's checks (kernel_waitid): one
 * of WEXITED, WSTOPPED, WCONTINUED; P_PID needs a pid > 0, P_PGID a group >= 0 (0: the
 * caller's). There are no pidfds: P_PIDFD with an fd >= 0 is EBADF, Linux's answer for an fd
 * that is not a pidfd (pidfd_pid). */
static int64_t waitid_select(struct mproc *mp, const uint64_t *a, struct wait_select *w)
{
    int type = (int)a[0], id = (int)a[1];
    uint64_t known =
        WNOHANG | WSTOPPED | WEXITED | WCONTINUED | WNOWAIT | __WNOTHREAD | __WALL | __WCLONE;
    if ((a[3] & ~known) || !(a[3] & (WEXITED | WSTOPPED | WCONTINUED)))
        return -LX_EINVAL;
    if (type == P_PIDFD && id >= 0)
        return -LX_EBADF;
    if ((type != P_ALL && type != P_PID && type != P_PGID) || (type == P_PID && id <= 0) ||
        (type == P_PGID && id < 0))
        return -LX_EINVAL;
    *w = (struct wait_select){type, type == P_PGID && id == 0 ? mp->pgid : id, a[3]};
    return 0;
}

/*
 * waitid(idtype, id, infop, options, rusage): wait4's waits (wait_find, wait_take), the
 * result in a siginfo (waitid_info), 0 for success. The siginfo and rusage are written before
 * the report is taken, so a bad pointer loses nothing (Linux reaps first, then faults).
 */
int64_t do_waitid(struct mproc *mp, const uint64_t *a)
{
    struct wait_select w;
    int status = 0, any;
    struct mproc *c = 0;
    int64_t r = waitid_select(mp, a, &w);
    if (r == 0 && !(c = wait_find(mp, &w, &status, &any)))
        r = wait_nothing(mp, &w, any);
    if (r == SUSPEND)
        return r;
    if (a[2] && waitid_info(mp, a[2], c, status) < 0) /* Linux writes it on errors too */
        return -LX_EFAULT;
    if (!c)
        return r;
    r = wait_take(mp, c, w.options, a[4]);
    return r < 0 ? r : 0;
}

/* A child of parent changed: finish a wait4 a thread of it is suspended in, if it can be. */
void check_waiters(struct mproc *parent)
{
    for (struct mproc *t = group_next(parent, 0); t; t = group_next(parent, t)) {
        if (t->wait != W_WAIT4)
            continue;
        const uint64_t *a = t->call.u.lx.arg;
        int64_t r = t->call.u.lx.nr == LX_waitid ? do_waitid(t, a) : do_wait4(t, a);
        if (r == SUSPEND)
            continue;
        t->wait = W_NONE;
        reply_to(t, r);
    }
}

int64_t do_getpid(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return mp->tgid;
}
int64_t do_getppid(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return mp->ppid;
}

/* mp's process has a new group or session: its threads, and vfs's view of each. */
static void tell_vfs_pgrp(struct mproc *mp)
{
    for (struct mproc *t = group_next(mp, 0); t; t = group_next(mp, t)) {
        t->pgid = mp->pgid, t->sid = mp->sid;
        message_t m = {.type = VFS_PM_SETPGRP, .u.vfs_pm.setpgrp = {t->ep, t->pgid, t->sid}};
        vfs_request(&m, 0);
    }
}

int64_t do_setpgid(struct mproc *mp, const uint64_t *a)
{
    int pid = (int)a[0] ? (int)a[0] : mp->pid, pgid = (int)a[1] ? (int)a[1] : pid;
    struct mproc *t = mproc_by_pid(pid);
    t = t ? leader_of(t) : 0;
    if ((int)a[0] < 0 || (int)a[1] < 0)
        return -LX_EINVAL;
    if (!t || t->state != M_ALIVE || (t != leader_of(mp) && t->ppid != mp->tgid))
        return -LX_ESRCH;
    if (t->sid == t->pid || t->sid != mp->sid)
        return -LX_EPERM;
    if (pgid != pid) { /* joining a group: it must exist in this session */
        int found = 0;
        for (int i = 0; i < NR_MPROCS && !found; i++)
            found = mprocs[i].state != M_FREE && mprocs[i].pgid == pgid && mprocs[i].sid == mp->sid;
        if (!found)
            return -LX_EPERM;
    }
    t->pgid = pgid;
    tell_vfs_pgrp(t);
    return 0;
}

int64_t do_getpgid(struct mproc *mp, const uint64_t *a)
{
    struct mproc *t = a[0] ? mproc_by_pid((int)a[0]) : mp;
    return t ? t->pgid : -LX_ESRCH;
}

int64_t do_getpgrp(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return mp->pgid;
}

int64_t do_getsid(struct mproc *mp, const uint64_t *a)
{
    struct mproc *t = a[0] ? mproc_by_pid((int)a[0]) : mp;
    return t ? t->sid : -LX_ESRCH;
}

int64_t do_setsid(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    mp = leader_of(mp);
    for (int i = 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_ALIVE && mprocs[i].pgid == mp->pid)
            return -LX_EPERM; /* already a group leader */
    mp->sid = mp->pgid = mp->pid;
    tell_vfs_pgrp(mp);
    return mp->sid;
}
