/*
 * Interrupts and time. An IRQ is masked at the PIC and becomes a
 * notification from HARDWARE to every process that shares the line (up to
 * IRQ_SHARERS); the line is unmasked when each of them has served its
 * device and said so with IRQ_ACK (or left with IRQ_DISABLE, or died).
 * IRQ 0 is the clock: it fires alarms and drives the scheduler quantum.
 * The tick count follows the TSC's time in ms (clock_ticks), not the count
 * of interrupts: ticks lost while the kernel ran with interrupts off are
 * made up at the next interrupt, up to CATCH_UP ms at once; a longer gap
 * (QEMU's CPU thread off the host's CPU for a while) counts as CATCH_UP
 * and the rest is dropped (ms_dropped, which the servers' wall clock
 * KC_BOOTTIME adds back), so that no heartbeat or timeout expires for a
 * stall nobody could answer in. A deadline counts from this fresh count,
 * which is never ahead of the TSC: it ends late rather than early.
 */
#include "kernel.h"

#define IRQ_SHARERS 4

#define CATCH_UP 50 /* ms: the most a gap between two clock readings adds to the tick count */

uint64_t ticks, ms_dropped;
static struct {
    struct proc *owner[IRQ_SHARERS];
    uint32_t unacked; /* bit i: owner[i] was notified and has not acked yet */
} line[NR_IRQS];
static uint64_t next_alarm = ~0ull;

static int share_of(int irq, const struct proc *p)
{
    for (int i = 0; i < IRQ_SHARERS; i++)
        if (line[irq].owner[i] == p)
            return i;
    return -1;
}

/* Share i has served (or left, if leave): unmask when owned and nobody still serves. */
static void share_done(int irq, int i, int leave)
{
    line[irq].unacked &= ~(1u << i);
    if (leave)
        line[irq].owner[i] = 0;
    int owned = 0;
    for (int k = 0; k < IRQ_SHARERS; k++)
        owned |= line[irq].owner[k] != 0;
    pic_mask(irq, !owned || line[irq].unacked);
}

/* p may own irq (checked by the caller); only an owner may ack or disable it. */
int irq_control(struct proc *p, int op, int irq)
{
    int i = share_of(irq, p);
    if (i < 0 && op == IRQ_ENABLE) {
        if ((i = share_of(irq, 0)) < 0)
            return -E_BUSY;
        line[irq].owner[i] = p;
    } else if (i < 0) {
        return deny(p, 2);
    }
    share_done(irq, i, op == IRQ_DISABLE); /* enabling again acks */
    return 0;
}

/* p's share of irq goes (it lost the line, or died); unmasked if the others have served. */
void irq_release(struct proc *p, int irq)
{
    int i = share_of(irq, p);
    if (i >= 0)
        share_done(irq, i, 1);
}

void irq_release_all(struct proc *p)
{
    for (int irq = 0; irq < NR_IRQS; irq++)
        irq_release(p, irq);
}

/* timer_tick will look at the process table at tick (alarms and IPC deadlines). */
void timer_wake_at(uint64_t tick)
{
    if (tick && tick < next_alarm)
        next_alarm = tick;
}

/* The ticks since time 0 by the TSC (never fewer than before): deadlines count from here. */
uint64_t clock_ticks(void)
{
    uint64_t now = (rdtsc() - tsc_boot) / tsc_per_tick - ms_dropped;
    if (now > ticks + CATCH_UP) {
        ms_dropped += now - ticks - CATCH_UP;
        now = ticks + CATCH_UP;
    }
    return ticks = now > ticks ? now : ticks;
}

void alarm_set(struct proc *p, uint64_t delay)
{
    p->alarm_at = delay ? clock_ticks() + delay : 0;
    timer_wake_at(p->alarm_at);
}

void timer_tick(void)
{
    clock_ticks();
    if (ticks >= next_alarm) {
        next_alarm = ~0ull;
        for (int i = 0; i < NR_SLOTS; i++) {
            struct proc *p = &proc_table[i];
            if (!p->in_use)
                continue;
            if (p->ipc_deadline && p->ipc_deadline <= ticks)
                ipc_timeout(p);
            else
                timer_wake_at(p->ipc_deadline);
            if (!p->alarm_at)
                continue;
            if (p->alarm_at <= ticks) {
                p->alarm_at = 0;
                notify_from_kernel(p, SYSTEM, NOTIFY_ALARM);
            } else {
                timer_wake_at(p->alarm_at);
            }
        }
    }
    iommu_poll();
    sched_tick();
}

void irq_handle(int irq)
{
    if (irq == 0) {
        pic_eoi(0);
        timer_tick();
        return;
    }
    if (irq == 7 || irq == 15) { /* spurious? the ISR bit tells */
        uint16_t port = irq == 7 ? 0x20 : 0xA0;
        outb(port, 0x0b);
        if (!(inb(port) & 0x80)) {
            if (irq == 15)
                pic_eoi(0);
            return;
        }
    }
    pic_mask(irq, 1);
    pic_eoi(irq);
    for (int i = 0; i < IRQ_SHARERS; i++)
        if (line[irq].owner[i]) {
            line[irq].unacked |= 1u << i;
            notify_from_kernel(line[irq].owner[i], HARDWARE, 1u << irq);
        }
}
