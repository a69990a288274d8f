/*
 * Threads: clone with CLONE_THREAD (musl's pthread_create), thread exit,
 * set_tid_address, gettid, and futex.
 *
 * A thread is an entry of mprocs of its own, with its own kernel process
 * (KC_PROC_FORK with FORK_SHARE_SPACE: the same page tables) and its own
 * endpoint; its pid is its thread id, and tgid names its group: the pid of
 * the main thread, whose entry holds what the threads share (the memory
 * map, the resource limits, the timers, the parent, the children): pm
 * serves a thread's memory, limit and timer calls on that entry (main.c).
 * Handlers (act) are shared by copying each change to every thread; the
 * signal mask, pending signals, the suspended call and the alternate
 * stack are each thread's. The main thread outlives the others: if it
 * exits first, its kernel process stays blocked in its exit (W_GONE) and
 * keeps the address space, and vfs's descriptor table, until the last
 * thread ends the process.
 *
 * futex: every call comes to pm, one at a time, so a FUTEX_WAIT reads the
 * word and suspends before any FUTEX_WAKE can run: no wake-up is missed.
 * Waiters are the entries in W_FUTEX, keyed as Linux keys futexes
 * (futex_key): a futex without FUTEX_PRIVATE_FLAG in MAP_SHARED memory by
 * that memory (the mapped file, or the number of the shared anonymous
 * memory) and its offset there, the same in every process that maps it;
 * any other by (process, address).
 */
#include "pm.h"

#define CLONE_VM 0x100
#define CLONE_FS 0x200
#define CLONE_FILES 0x400
#define CLONE_SIGHAND 0x800
#define CLONE_THREAD 0x10000
#define CLONE_SYSVSEM 0x40000
#define CLONE_SETTLS 0x80000
#define CLONE_PARENT_SETTID 0x100000
#define CLONE_CHILD_CLEARTID 0x200000
#define CLONE_DETACHED 0x400000
#define CLONE_CHILD_SETTID 0x1000000
#define THREAD_NEEDS (CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD)
#define THREAD_MAY                                                                                 \
    (CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID | CLONE_DETACHED |  \
     CLONE_CHILD_SETTID)

struct mproc *leader_of(struct mproc *mp)
{
    struct mproc *g = mp->tgid == mp->pid ? mp : mproc_by_pid(mp->tgid);
    return g ? g : mp;
}

/* The next live entry of mp's thread group after `from` (0: the first), or 0. */
struct mproc *group_next(const struct mproc *mp, const struct mproc *from)
{
    for (int i = from ? (int)(from - mprocs) + 1 : 0; i < NR_MPROCS; i++)
        if (mprocs[i].state == M_ALIVE && mprocs[i].tgid == mp->tgid)
            return &mprocs[i];
    return 0;
}

/* Does mp's group have a thread other than mp that still runs (not an exited main thread)? */
static int others_run(const struct mproc *mp)
{
    for (struct mproc *t = group_next(mp, 0); t; t = group_next(mp, t))
        if (t != mp && t->wait != W_GONE)
            return 1;
    return 0;
}

/* A thread other than the main one is gone (its group goes on, or is ending): its kernel
 * process, vfs's view of it; no zombie, no SIGCHLD. */
static void thread_release(struct mproc *t)
{
    leader_of(t)->gone_ms += cpu_ms(t); /* before its kernel process goes */
    t->state = M_FREE;
    t->wait = W_NONE;
    sys_proc_kill(t->ep);
    message_t m = {.type = VFS_PM_EXIT, .u.vfs_pm.proc.ep = t->ep};
    vfs_request(&m, 0);
    sysv_tell(SYSV_EXIT, t);
}

/* Every thread of mp's group but its main one and `keep` ends (exit_group, a fatal signal,
 * exec). */
void threads_end(struct mproc *mp, const struct mproc *keep)
{
    for (struct mproc *t = group_next(mp, 0); t; t = group_next(mp, t))
        if (t->pid != t->tgid && t != keep)
            thread_release(t);
}

/*
 * execve's point of no return in thread t: every other thread ends, and t
 * becomes the main thread, as on Linux. Its process's entry (the main
 * thread's: pid, parent, children, memory map, limits, timers) stays; the
 * main thread's kernel process is killed (the kernel keeps the address
 * space, which t shares) and the entry takes t's kernel process, its mask,
 * pending signals, ids and the call, while t's own entry (its tid) goes.
 * vfs moves the process's descriptor table to t (VFS_PM_TAKEOVER). The
 * entry now serving t's call: the main thread's, or t itself.
 */
struct mproc *thread_takeover(struct mproc *t)
{
    struct mproc *g = leader_of(t);
    threads_end(t, t);
    if (g == t)
        return t;
    g->gone_ms += cpu_ms(g);
    sys_proc_kill(g->ep);
    message_t m = {.type = VFS_PM_TAKEOVER, .u.vfs_pm.takeover = {g->ep, t->ep}};
    vfs_request(&m, 0);
    sysv_tell(SYSV_EXIT, g);
    g->ep = t->ep;
    g->sigmask = t->sigmask;
    g->pending = t->pending;
    memcpy(g->info, t->info, sizeof(g->info));
    g->cred = t->cred;
    g->clear_tid = 0;
    g->wait = W_NONE;
    g->call = t->call;
    g->recheck = 0;
    g->ss_sp = t->ss_sp, g->ss_size = t->ss_size, g->ss_flags = t->ss_flags;
    t->state = M_FREE;
    t->wait = W_NONE;
    return g;
}

static int64_t futex_wake(struct mproc *mp, uint64_t addr, int private, uint64_t n,
                          uint64_t requeue_to, uint64_t requeue_n);

/*
 * exit(2): the calling thread ends. Its clear_child_tid word gets 0 and a
 * FUTEX_WAKE (how pthread_join and musl's thread list lock learn of it).
 * The last running thread ends the process with its status.
 */
int64_t do_exit(struct mproc *mp, const uint64_t *a)
{
    if (!others_run(mp)) {
        mproc_exit(mp, (int)((a[0] & 0xff) << 8));
        return SUSPEND;
    }
    uint32_t zero = 0;
    if (mp->clear_tid && sys_vcopy(SELF, (uint64_t)&zero, mp->ep, mp->clear_tid, 4) == 0)
        futex_wake(mp, mp->clear_tid, 0, 1, 0, 0); /* not private, as Linux's mm_release */
    if (mp->pid == mp->tgid) { /* the main thread: blocked for good, holding the process */
        mp->wait = W_GONE;
        mp->pending = 0;
    } else {
        thread_release(mp);
    }
    return SUSPEND; /* no reply: it is gone */
}

int64_t do_exit_group(struct mproc *mp, const uint64_t *a)
{
    mproc_exit(mp, (int)((a[0] & 0xff) << 8));
    return SUSPEND;
}

int64_t do_gettid(struct mproc *mp, const uint64_t *a)
{
    (void)a;
    return mp->pid;
}

int64_t do_set_tid_address(struct mproc *mp, const uint64_t *a)
{
    mp->clear_tid = a[0];
    return mp->pid;
}

/*
 * clone(flags, stack, ptid, ctid, tls) with CLONE_THREAD: a thread of mp's
 * process, running on stack with FS base tls (CLONE_SETTLS). It needs
 * CLONE_VM, CLONE_SIGHAND (EINVAL without them, as Linux), CLONE_FS and
 * CLONE_FILES (threads always share both here: else ENOSYS), and no exit
 * signal (EINVAL). Its tid, or -errno.
 */
int64_t thread_create(struct mproc *mp, const uint64_t *a)
{
    uint64_t flags = a[0], stack = a[1], ptid = a[2], ctid = a[3], tls = a[4];
    if ((flags & (CLONE_VM | CLONE_SIGHAND)) != (CLONE_VM | CLONE_SIGHAND) || (flags & 0xff))
        return -LX_EINVAL;
    if ((flags & ~(uint64_t)(THREAD_NEEDS | THREAD_MAY)) || (flags & THREAD_NEEDS) != THREAD_NEEDS)
        return -LX_ENOSYS;
    int64_t r = fork_room(mp);
    if (r < 0)
        return r;
    struct mproc *c;
    int tid;
    endpoint_t ep = fork_entry(mp, FORK_SHARE_SPACE, &c, &tid);
    if (ep < 0)
        return ep;
    *c = *mp;       /* ids, handlers, mask, credentials, groups */
    region_init(c); /* the map is the main thread's */
    c->ep = ep;
    c->pid = tid;
    c->pending = c->shared_pending = 0; /* the process's stay in the main thread's entry */
    c->report = 0;
    c->wait = W_NONE;
    c->alarm_at = c->alarm_interval = 0;
    c->start_tick = now_ticks();
    c->child_ticks = c->gone_ms = 0;
    c->ss_sp = c->ss_size = c->ss_flags = 0; /* Linux: a CLONE_VM child has no sigaltstack */
    c->clear_tid = flags & CLONE_CHILD_CLEARTID ? ctid : 0;
    message_t fork = {.type = VFS_PM_FORK,
                      .u.vfs_pm.fork = {mp->ep, ep, mp->tgid, VFS_FORK_THREAD}};
    message_t pgrp = {.type = VFS_PM_SETPGRP, .u.vfs_pm.setpgrp = {ep, c->pgid, c->sid}};
    vfs_request(&fork, &r);
    if (r == 0)
        vfs_request(&pgrp, &r);
    sysv_fork(0, c); /* its System V calls, with its process's pid: the same undo, attachments */
    struct user_regs u;
    int ok = r == 0 && sys_proc_regs(ep, REGS_GET, &u) == 0;
    if (ok) {
        u.rsp = stack ? stack : u.rsp;
        u.fs_base = flags & CLONE_SETTLS ? tls : u.fs_base;
        ok = sys_proc_regs(ep, REGS_SET, &u) == 0;
    }
    if (ok && (flags & CLONE_PARENT_SETTID))
        sys_vcopy(SELF, (uint64_t)&tid, mp->ep, ptid, 4); /* as Linux: a bad address is ignored */
    if (ok && (flags & CLONE_CHILD_SETTID))
        sys_vcopy(SELF, (uint64_t)&tid, ep, ctid, 4);
    if (!ok || sys_proc_start(ep, 0, 0, 0, USER_PRIO) < 0) {
        thread_release(c);
        return -LX_EAGAIN;
    }
    return tid;
}

/* ---- futex */

#define KEY_SHARED (1ull << 62) /* futex_space: shared anonymous memory number ... */
#define KEY_FILE (2ull << 62)   /* ... or a mapped file (its struct mfile in pm) */

/* The futex at addr in mp's process: its key's space (*space) and offset (the result). */
static uint64_t futex_key(struct mproc *mp, uint64_t addr, int private, uint64_t *space)
{
    struct mproc *g = leader_of(mp);
    struct region *r = private ? 0 : region_from(g, addr);
    *space = (uint64_t)g->tgid;
    if (!r || region_is_end(g, r) || r->start > addr || !region_kind_shared(r->kind))
        return addr;
    *space = r->file ? KEY_FILE | (uint64_t)(uintptr_t)r->file : KEY_SHARED | r->obj;
    return r->off + (addr - r->start);
}

/* Wake up to n waiters on the futex at addr, then move up to requeue_n more to the one at
 * requeue_to; the number woken and moved. */
static int64_t futex_wake(struct mproc *mp, uint64_t addr, int private, uint64_t n,
                          uint64_t requeue_to, uint64_t requeue_n)
{
    int64_t done = 0;
    uint64_t space, to_space = 0, key = futex_key(mp, addr, private, &space);
    uint64_t to_key = requeue_n ? futex_key(mp, requeue_to, private, &to_space) : 0;
    for (int i = 0; i < NR_MPROCS; i++) {
        struct mproc *t = &mprocs[i];
        if (t->state != M_ALIVE || t->wait != W_FUTEX || t->futex_space != space ||
            t->futex_addr != key)
            continue;
        if (n) {
            n--;
            t->wait = W_NONE;
            reply_to(t, 0);
        } else if (requeue_n) {
            requeue_n--;
            t->futex_space = to_space;
            t->futex_addr = to_key;
        } else {
            break;
        }
        done++;
    }
    return done;
}

/*
 * futex(addr, op, val, timeout | val2, addr2, val3): FUTEX_WAIT (a
 * relative timeout: ETIMEDOUT), FUTEX_WAKE, FUTEX_REQUEUE and
 * FUTEX_CMP_REQUEUE, private or not. Linux's order of checks: the
 * timeout (EFAULT, EINVAL), the address (unaligned: EINVAL), the word
 * (EFAULT), its value (EAGAIN). Other operations: ENOSYS.
 */
int64_t do_futex(struct mproc *mp, const uint64_t *a)
{
    uint64_t addr = a[0], op = a[1] & ~(uint64_t)FUTEX_PRIVATE_FLAG, ns = 0;
    int private = (a[1] & FUTEX_PRIVATE_FLAG) != 0;
    uint32_t word;
    int64_t r;
    if (op != FUTEX_WAIT && op != FUTEX_WAKE && op != FUTEX_REQUEUE && op != FUTEX_CMP_REQUEUE)
        return -LX_ENOSYS;
    if (op == FUTEX_WAIT && a[3] && (r = timespec_ns(mp, a[3], &ns)) < 0)
        return r;
    if ((addr & 3) || ((op == FUTEX_REQUEUE || op == FUTEX_CMP_REQUEUE) &&
                       ((a[4] & 3) || (int32_t)a[2] < 0 || (int32_t)a[3] < 0)))
        return -LX_EINVAL;
    if (addr >= STACK_TOP ||
        (!private && op == FUTEX_WAKE && sys_vcopy(mp->ep, addr, SELF, (uint64_t)&word, 4) < 0))
        return -LX_EFAULT; /* Linux reads a shared futex's page even to wake it */
    if (op == FUTEX_WAKE)  /* as Linux, 0 or a negative count wakes one */
        return futex_wake(mp, addr, private, (int32_t)a[2] > 0 ? (uint32_t)a[2] : 1, 0, 0);
    if (op == FUTEX_REQUEUE)
        return futex_wake(mp, addr, private, (uint32_t)a[2], a[4], (uint32_t)a[3]);
    if (sys_vcopy(mp->ep, addr, SELF, (uint64_t)&word, 4) < 0)
        return -LX_EFAULT;
    if (word != (uint32_t)(op == FUTEX_WAIT ? a[2] : a[5]))
        return -LX_EAGAIN;
    if (op == FUTEX_CMP_REQUEUE)
        return futex_wake(mp, addr, private, (uint32_t)a[2], a[4], (uint32_t)a[3]);
    if (a[3] && !ns)
        return -LX_ETIMEDOUT;
    mp->wait = W_FUTEX;
    mp->futex_addr = futex_key(mp, addr, private, &mp->futex_space);
    mp->wake_at = a[3] ? deadline_after(ns) : 0;
    timers_arm();
    return SUSPEND;
}
