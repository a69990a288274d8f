/*
 * Scheduling: NR_PRIO ready queues, round robin within a priority, a
 * quantum of QUANTUM_TICKS clock ticks. A process is runnable when its
 * flags are 0; proc_block/proc_unblock keep the queues in step with the
 * flags. A process woken by IPC goes to the front of its queue, so a
 * sendrec switches straight to the callee and the reply straight back;
 * IPC's fast path does the same in one step (sched_handoff).
 */
#include "kernel.h"

struct proc *current;
static struct proc *ready_head[NR_PRIO], *ready_tail[NR_PRIO];
static uint32_t ready_mask; /* bit q: queue q is not empty */

static inline __attribute__((always_inline)) void enqueue(struct proc *p, int front)
{
    int q = p->priority;
    ready_mask |= 1u << q;
    if (front) {
        p->next_ready = ready_head[q];
        ready_head[q] = p;
        if (!ready_tail[q])
            ready_tail[q] = p;
    } else {
        p->next_ready = 0;
        if (ready_tail[q])
            ready_tail[q]->next_ready = p;
        else
            ready_head[q] = p;
        ready_tail[q] = p;
    }
}

static void dequeue(struct proc *p)
{
    int q = p->priority;
    struct proc **pp = &ready_head[q], *prev = 0;
    while (*pp && *pp != p)
        prev = *pp, pp = &(*pp)->next_ready;
    if (!*pp)
        panic("dequeue: %s not in ready queue %d", p->name, q);
    *pp = p->next_ready;
    if (ready_tail[q] == p)
        ready_tail[q] = prev;
    if (!ready_head[q])
        ready_mask &= ~(1u << q);
    p->next_ready = 0;
}

void proc_block(struct proc *p, uint32_t flag)
{
    if (p->flags == 0)
        dequeue(p);
    p->flags |= flag;
}

void proc_unblock(struct proc *p, uint32_t flag)
{
    if (!(p->flags & flag))
        return;
    p->flags &= ~flag;
    if (p->flags == 0)
        enqueue(p, flag != PS_STOPPED && flag != PS_HELD);
}

/* Clock tick: charge the running process and rotate it when its quantum ends. */
void sched_tick(void)
{
    struct proc *p = current;
    if (!p || p->flags)
        return;
    p->ticks++;
    if (--p->quantum <= 0) {
        p->quantum = QUANTUM_TICKS;
        dequeue(p);
        enqueue(p, 0);
    }
}

/*
 * IPC's direct switch (ipc_fastpath): p, running, blocks receiving; dst,
 * blocked receiving, goes to the front of its queue and runs at once unless
 * a process of higher priority is ready (then schedule() picks, as always).
 */
static __attribute__((noinline)) void handoff_requeue(struct proc *p, struct proc *dst, int q);

void sched_handoff(struct proc *p, struct proc *dst)
{
    int q = p->priority;
    p->flags = PS_RECEIVING;
    dst->flags = 0;
    if (ready_head[q] != p || dst->priority != q) {
        handoff_requeue(p, dst, q);
    } else {
        ready_head[q] = dst; /* dst takes p's place: nothing is higher */
        if (!(dst->next_ready = p->next_ready))
            ready_tail[q] = dst;
        p->next_ready = 0;
        cpu_run(dst);
    }
}

/* sched_handoff's other cases (out of line: the usual one needs no saved registers). */
static void handoff_requeue(struct proc *p, struct proc *dst, int q)
{
    if (ready_head[q] == p) { /* as it usually is: it runs */
        if (!(ready_head[q] = p->next_ready)) {
            ready_tail[q] = 0;
            ready_mask &= ~(1u << q);
        }
        p->next_ready = 0;
    } else {
        p->flags = 0; /* dequeue wants it runnable */
        dequeue(p);
        p->flags = PS_RECEIVING;
    }
    enqueue(dst, 1);
    if (ready_mask & ((1u << dst->priority) - 1))
        schedule();
    cpu_run(dst);
}

_Noreturn void schedule(void)
{
    for (;;) {
        if (ready_mask)
            cpu_run(ready_head[__builtin_ctz(ready_mask)]);
        current = 0; /* idle until an interrupt makes someone runnable */
        __asm__ volatile("sti; hlt; cli");
    }
}

/* Self-check: every runnable process is queued once, at its priority. */
int sched_check(void)
{
    int queued = 0, runnable = 0;
    for (int q = 0; q < NR_PRIO; q++) {
        if (!ready_head[q] != !((ready_mask >> q) & 1))
            return -E_INVAL;
        for (struct proc *p = ready_head[q]; p; p = p->next_ready) {
            if (!p->in_use || p->flags || p->priority != q || ++queued > NR_SLOTS)
                return -E_INVAL;
            if (!p->next_ready && p != ready_tail[q])
                return -E_INVAL;
        }
    }
    for (int i = 0; i < NR_SLOTS; i++)
        runnable += proc_table[i].in_use && proc_table[i].flags == 0;
    return queued == runnable ? 0 : -E_INVAL;
}
