/*
 * The kernel-call table: one line per call. kcall_dispatch checks the
 * caller's kernel-call mask (IPC operations are checked against its IPC
 * targets instead), then runs the handler, which validates every argument
 * before it changes anything. Numbers below KCALL_BASE belong to the Linux
 * system-call interface (linux.c); a Linux process (one pm made) may make
 * nothing else, not even IPC, and gets -ENOSYS, counted as a denial.
 */
#include <samsara/linux.h>
#include "kernel.h"

#define MAX_TICKS (100ull * 365 * 24 * 3600 * HZ) /* a century: no deadline can wrap */

typedef int64_t (*kcall_fn)(struct proc *p, const uint64_t *a);

static int64_t do_send(struct proc *p, const uint64_t *a) { return ipc_send(p, (endpoint_t)a[0], a[1], 0, 0); }
static int64_t do_receive(struct proc *p, const uint64_t *a) { return ipc_receive(p, (endpoint_t)a[0], a[1], a[2]); }
/* KC_SENDREC(dst, msg*, ticks): ticks > 0 bounds the wait for the reply. */
static int64_t do_sendrec(struct proc *p, const uint64_t *a)
{
    if (a[2] > MAX_TICKS)
        return -E_INVAL;
    int64_t r = ipc_send(p, (endpoint_t)a[0], a[1], 0, 1);
    if (r == KC_BLOCKED && a[2]) {
        p->ipc_deadline = ticks + a[2];
        timer_wake_at(p->ipc_deadline);
    }
    return r;
}
static int64_t do_notify(struct proc *p, const uint64_t *a) { return ipc_notify(p, (endpoint_t)a[0]); }
static int64_t do_sendnb(struct proc *p, const uint64_t *a) { return ipc_send(p, (endpoint_t)a[0], a[1], 1, 0); }

static int64_t do_log(struct proc *p, const uint64_t *a)
{
    char buf[256];
    if (a[1] > sizeof(buf))
        return -E_INVAL;
    if (copy_from_user(p, a[0], buf, a[1]) < 0)
        return -E_FAULT;
    console_write(buf, a[1]);
    return (int64_t)a[1];
}

static int64_t do_uptime(struct proc *p, const uint64_t *a) { (void)p, (void)a; return (int64_t)ticks; }
static int64_t do_tsc(struct proc *p, const uint64_t *a) { (void)p, (void)a; return (int64_t)rdtsc(); }

static int64_t do_exit(struct proc *p, const uint64_t *a)
{
    proc_die(p, DEATH_EXIT, (int64_t)a[0], 0, 0);
    return 0;
}

static int64_t do_alarm(struct proc *p, const uint64_t *a)
{
    if (a[0] > MAX_TICKS)
        return -E_INVAL;
    alarm_set(p, a[0]);
    return 0;
}

static int64_t do_trace_read(struct proc *p, const uint64_t *a) { return trace_read(p, a[0], a[1], a[2]); }

static int64_t do_sysinfo(struct proc *p, const uint64_t *a)
{
    struct sysinfo s = {.ticks = ticks, .hz = HZ, .free_frames = frame_free_count(),
                        .total_frames = frame_total(), .trace_seq = trace_next_seq()};
    for (int i = 0; i < NR_SLOTS; i++)
        s.nr_procs += proc_table[i].in_use;
    return copy_to_user(p, a[0], &s, sizeof(s));
}

static int64_t do_selfcheck(struct proc *p, const uint64_t *a)
{
    (void)p, (void)a;
    if (sched_check() < 0)
        return -1;
    if (ipc_check() < 0)
        return -2;
    if (frame_check() < 0)
        return -3;
    return 0;
}

/* Defined in kcall_proc.c, kcall_dev.c and grant.c. */
int64_t do_proc_create(struct proc *p, const uint64_t *a);
int64_t do_proc_start(struct proc *p, const uint64_t *a);
int64_t do_proc_kill(struct proc *p, const uint64_t *a);
int64_t do_proc_info(struct proc *p, const uint64_t *a);
int64_t do_proc_reap(struct proc *p, const uint64_t *a);
int64_t do_mem_map(struct proc *p, const uint64_t *a);
int64_t do_mem_unmap(struct proc *p, const uint64_t *a);
int64_t do_vcopy(struct proc *p, const uint64_t *a);
int64_t do_priv_set(struct proc *p, const uint64_t *a);
int64_t do_ioport(struct proc *p, const uint64_t *a);
int64_t do_irqctl(struct proc *p, const uint64_t *a);
int64_t do_mapphys(struct proc *p, const uint64_t *a);
int64_t do_dmaalloc(struct proc *p, const uint64_t *a);
int64_t do_setgrant(struct proc *p, const uint64_t *a);
int64_t do_safecopy_from(struct proc *p, const uint64_t *a);
int64_t do_safecopy_to(struct proc *p, const uint64_t *a);
int64_t do_proc_fork(struct proc *p, const uint64_t *a);
int64_t do_proc_regs(struct proc *p, const uint64_t *a);
int64_t do_linux_servers(struct proc *p, const uint64_t *a);
int64_t do_mem_protect(struct proc *p, const uint64_t *a);
int64_t do_proc_name(struct proc *p, const uint64_t *a);

static const kcall_fn kcall_table[NR_KCALLS] = {
    [KC_SEND] = do_send,                 /* blocking send */
    [KC_RECEIVE] = do_receive,           /* receive from one or ANY */
    [KC_SENDREC] = do_sendrec,           /* call and wait for the reply */
    [KC_NOTIFY] = do_notify,             /* non-blocking notification */
    [KC_SENDNB] = do_sendnb,             /* send only if the peer waits */
    [KC_LOG] = do_log,                   /* kernel log */
    [KC_UPTIME] = do_uptime,             /* clock ticks */
    [KC_TSC] = do_tsc,                   /* time-stamp counter */
    [KC_EXIT] = do_exit,                 /* terminate the caller */
    [KC_ALARM] = do_alarm,               /* notification after N ticks */
    [KC_IOPORT] = do_ioport,             /* port I/O */
    [KC_IRQCTL] = do_irqctl,             /* IRQ ownership and ack */
    [KC_MAPPHYS] = do_mapphys,           /* MMIO mapping */
    [KC_DMAALLOC] = do_dmaalloc,         /* contiguous DMA memory */
    [KC_SETGRANT] = do_setgrant,         /* declare the grant table */
    [KC_SAFECOPY_FROM] = do_safecopy_from, /* copy out of a grant */
    [KC_SAFECOPY_TO] = do_safecopy_to,   /* copy into a grant */
    [KC_PROC_CREATE] = do_proc_create,   /* new stopped process */
    [KC_PROC_START] = do_proc_start,     /* let it run */
    [KC_PROC_KILL] = do_proc_kill,       /* kill a process */
    [KC_PROC_INFO] = do_proc_info,       /* inspect a process */
    [KC_PROC_REAP] = do_proc_reap,       /* collect a dead child */
    [KC_MEM_MAP] = do_mem_map,           /* zeroed memory in a process */
    [KC_MEM_UNMAP] = do_mem_unmap,       /* release memory */
    [KC_VCOPY] = do_vcopy,               /* copy between processes */
    [KC_PRIV_SET] = do_priv_set,         /* install privileges (root) */
    [KC_TRACE_READ] = do_trace_read,     /* denial trace */
    [KC_SYSINFO] = do_sysinfo,           /* counters */
    [KC_SELFCHECK] = do_selfcheck,       /* kernel invariants */
    [KC_PROC_FORK] = do_proc_fork,       /* copy a process */
    [KC_PROC_REGS] = do_proc_regs,       /* read or set its registers */
    [KC_LINUX_SERVERS] = do_linux_servers, /* route Linux calls (root) */
    [KC_MEM_PROTECT] = do_mem_protect,   /* change page protection */
    [KC_PROC_NAME] = do_proc_name,       /* rename (pm after exec) */
};

void kcall_dispatch(struct proc *p)
{
    struct regs *r = &p->regs;
    const uint64_t a[6] = {r->rdi, r->rsi, r->rdx, r->r10, r->r8, r->r9};
    uint64_t n = r->rax - KCALL_BASE;
    int64_t result;
    if (r->rax < KCALL_BASE) {
        linux_syscall(p);
        return;
    }
    if (p->user) /* Linux processes get Linux calls only: no IPC, no kernel calls */
        result = (deny(p, (uint32_t)n, a[0], a[1], a[2]), -LX_ENOSYS);
    else if (n >= NR_KCALLS)
        result = -E_NOSYS;
    else if (!(KC_BIT(n) & KC_IPC_MASK) && !(p->priv.kcalls & KC_BIT(n)))
        result = deny(p, (uint32_t)n, a[0], a[1], a[2]);
    else
        result = kcall_table[n](p, a);
    if (result != KC_BLOCKED)
        r->rax = (uint64_t)result;
}
