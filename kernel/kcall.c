/*
 * The kernel-call table, made from the one list of calls (KCALLS in
 * samsara/kcall.h, which also gives the numbers and the names manifests
 * use): call n runs do_<name>. kcall_dispatch checks the
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

int64_t do_send(struct proc *p, const uint64_t *a)
{
    return ipc_send(p, (endpoint_t)a[0], a[1], 0, 0);
}
int64_t do_receive(struct proc *p, const uint64_t *a)
{
    return ipc_receive(p, (endpoint_t)a[0], a[1], a[2]);
}
/* KC_SENDREC(dst, msg*, ticks): ticks > 0 bounds the wait for the reply. */
int64_t do_sendrec(struct proc *p, const uint64_t *a)
{
    if (a[2] > MAX_TICKS)
        return refuse(p, 3, -E_INVAL);
    int64_t r = ipc_send(p, (endpoint_t)a[0], a[1], 0, 1);
    if (r == KC_BLOCKED && a[2]) {
        p->ipc_deadline = clock_ticks() + a[2];
        timer_wake_at(p->ipc_deadline);
    }
    return r;
}
int64_t do_notify(struct proc *p, const uint64_t *a)
{
    return ipc_notify(p, (endpoint_t)a[0]);
}
int64_t do_sendnb(struct proc *p, const uint64_t *a)
{
    return ipc_send(p, (endpoint_t)a[0], a[1], 1, 0);
}
int64_t do_reply_receive(struct proc *p, const uint64_t *a)
{
    return ipc_reply_receive(p, (endpoint_t)a[0], a[1]);
}

int64_t do_log(struct proc *p, const uint64_t *a)
{
    char buf[256];
    if (a[1] > sizeof(buf))
        return refuse(p, 2, -E_INVAL);
    if (copy_from_user(p, a[0], buf, a[1]) < 0)
        return refuse(p, 1, -E_FAULT);
    console_write(buf, a[1]);
    return (int64_t)a[1];
}

int64_t do_uptime(struct proc *p, const uint64_t *a)
{
    (void)p, (void)a;
    return (int64_t)clock_ticks();
}
/* Seconds since 1970 at TSC time 0 (pm sets it: the RTC, settimeofday); read, at tick 0, so
 * that the servers' real-time clock is this plus ticks / 1000 (lib/fsdriver, vfs's mqueue). */
static uint64_t boottime;
int64_t do_boottime(struct proc *p, const uint64_t *a)
{
    (void)p, (void)a;
    return (int64_t)(boottime + ms_dropped / 1000); /* the ms the tick count dropped (irq.c) */
}
int64_t do_set_boottime(struct proc *p, const uint64_t *a)
{
    if (a[0] > (1ull << 40)) /* past year 36,000: not a date */
        return refuse(p, 1, -E_INVAL);
    boottime = a[0];
    return 0;
}
int64_t do_tsc(struct proc *p, const uint64_t *a)
{
    (void)p, (void)a;
    return (int64_t)rdtsc();
}

int64_t do_exit(struct proc *p, const uint64_t *a)
{
    proc_die(p, DEATH_EXIT, (int64_t)a[0], 0, 0);
    return 0;
}

int64_t do_alarm(struct proc *p, const uint64_t *a)
{
    if (a[0] > MAX_TICKS)
        return refuse(p, 1, -E_INVAL);
    alarm_set(p, a[0]);
    return 0;
}

int64_t do_trace_read(struct proc *p, const uint64_t *a)
{
    return trace_read(p, a[0], a[1], a[2]);
}

int64_t do_sysinfo(struct proc *p, const uint64_t *a)
{
    struct sysinfo s = {.ticks = clock_ticks(),
                        .hz = HZ,
                        .tsc_hz = tsc_hz,
                        .tsc_boot = tsc_boot,
                        .free_frames = frame_free_count(),
                        .total_frames = frame_total(),
                        .trace_seq = trace_next_seq()};
    for (int i = 0; i < NR_SLOTS; i++)
        s.nr_procs += proc_table[i].in_use;
    return copy_to_user(p, a[0], &s, sizeof(s));
}

int64_t do_selfcheck(struct proc *p, const uint64_t *a)
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

/* Every handler, named after its call in KCALLS (samsara/kcall.h); one table from the same list. */
#define KC_DECLARE(NAME, name, ...) int64_t do_##name(struct proc *p, const uint64_t *a);
KCALLS(KC_DECLARE)
#undef KC_DECLARE

static const kcall_fn kcall_table[NR_KCALLS] = {
#define KC_ENTRY(NAME, name, ...) [KC_##NAME] = do_##name,
    KCALLS(KC_ENTRY)
#undef KC_ENTRY
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
    if (p->inject & INJECT_DENIED) /* a fault injected: a call its manifest does not allow */
        r->rax = KCALL_BASE + (n = inject_denied_call(p, n));
    if (p->user) /* Linux processes get Linux calls only: no IPC, no kernel calls */
        result = (deny(p, 0), -LX_ENOSYS);
    else if (n >= NR_KCALLS)
        result = -E_NOSYS;
    else if (!(KC_BIT(n) & KC_IPC_MASK) && !(p->priv.kcalls & KC_BIT(n)))
        result = deny(p, 0);
    else
        result = kcall_table[n](p, a);
    if (result == KC_RESTART)
        r->rip -= 2; /* the `syscall` runs again, after any interrupt that came meanwhile */
    else if (result != KC_BLOCKED)
        r->rax = (uint64_t)result;
}
