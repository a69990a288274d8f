/*
 * Interrupts and time. An IRQ is masked at the PIC and becomes a
 * notification from HARDWARE to the process that owns the line; the owner
 * unmasks it with IRQ_ACK when it has served the device. IRQ 0 is the
 * clock: it counts ticks, fires alarms and drives the scheduler quantum.
 */
#include "kernel.h"

uint64_t ticks;
static struct proc *irq_owner[NR_IRQS];
static uint64_t next_alarm = ~0ull;

/* p may own irq (checked by the caller); only the owner may ack or disable it. */
int irq_control(struct proc *p, int op, int irq)
{
    if (op == IRQ_ENABLE) {
        if (irq_owner[irq] && irq_owner[irq] != p)
            return -E_BUSY;
        irq_owner[irq] = p;
        pic_mask(irq, 0);
        return 0;
    }
    if (irq_owner[irq] != p)
        return deny(p, KC_IRQCTL, (uint64_t)op, (uint64_t)irq, 0);
    if (op == IRQ_DISABLE) {
        pic_mask(irq, 1);
        irq_owner[irq] = 0;
    } else {
        pic_mask(irq, 0);
    }
    return 0;
}

void irq_release_all(struct proc *p)
{
    for (int i = 0; i < NR_IRQS; i++)
        if (irq_owner[i] == p) {
            pic_mask(i, 1);
            irq_owner[i] = 0;
        }
}

/* timer_tick will look at the process table at tick (alarms and IPC deadlines). */
void timer_wake_at(uint64_t tick)
{
    if (tick && tick < next_alarm)
        next_alarm = tick;
}

void alarm_set(struct proc *p, uint64_t delay)
{
    p->alarm_at = delay ? ticks + delay : 0;
    timer_wake_at(p->alarm_at);
}

void timer_tick(void)
{
    ticks++;
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
    if (irq_owner[irq])
        notify_from_kernel(irq_owner[irq], HARDWARE, 1u << irq);
}
