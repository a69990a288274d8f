/*
 * kmain: set up the CPU, the clock and memory, start the root server and
 * enter the scheduler. trap() is where every later kernel entry lands.
 */
#include "kernel.h"

#define MULTIBOOT_MAGIC 0x2BADB002

void kmain(uint32_t magic, uint32_t mb_info)
{
    console_init();
    kprintf("\nSamsara kernel booting\n");
    if (magic != MULTIBOOT_MAGIC)
        panic("not started by a Multiboot loader (magic %x)", magic);
    cpu_init();
    pic_init();
    boot_start_root(mb_info);
    timer_init(HZ);
    schedule();
}

static void user_fault(struct proc *p, const struct regs *f, uint64_t vector, uint64_t err)
{
    uint64_t addr = vector == 14 ? read_cr2() : 0;
    int r = vector == 14 ? vm_fault(p, addr, (err & 2) != 0) : -E_FAULT;
    if (r == 0)
        return; /* a demand-zero or copy-on-write page: the instruction runs again */
    if (r == -E_NOMEM) {
        kprintf("kernel: %s (endpoint %d) out of memory at addr %lx: killed\n", p->name, p->ep,
                addr);
        proc_die(p, DEATH_NOMEM, 0, addr, err);
        return;
    }
    if (p->user) { /* pm turns it into a signal: held until it has decided */
        p->death = (struct death_info){p->ep, FAULT_HELD, (int64_t)vector, addr, f->rip, err};
        p->fault_held = 1;
        proc_block(p, PS_HELD);
        struct proc *parent;
        if (ep_lookup(p->parent, &parent) == 0)
            notify_from_kernel(parent, SYSTEM, NOTIFY_CHILD);
        return;
    }
    kprintf("kernel: %s (endpoint %d) killed by exception %lu at rip %lx, addr %lx, err %lx\n",
            p->name, p->ep, vector, f->rip, addr, err);
    proc_die(p, DEATH_FAULT, (int64_t)vector, addr, err);
}

void trap(struct regs *f)
{
    int irq = (int)f->vector - IRQ_BASE;
    if ((f->cs & 3) == 0) { /* the idle loop, or a kernel bug */
        if (irq >= 0 && irq < NR_IRQS) {
            irq_handle(irq);
            return;
        }
        panic_regs(f, "exception");
    }
    struct proc *p = current;
    if (f != &p->regs)
        panic_regs(f, "user frame outside the process table");
    if (irq >= 0 && irq < NR_IRQS)
        irq_handle(irq);
    else if (f->vector == SYSCALL_VECTOR && f->rip < USER_TOP)
        kcall_dispatch(p);
    else if (f->vector == 7)
        fpu_trap();
    else if (f->vector == 18)
        panic_regs(f, "machine check");
    else if (f->vector != SYSCALL_VECTOR)
        user_fault(p, f, f->vector, f->err);
    /*
     * A syscall or an interrupt right after the last byte of user space
     * leaves rip at 2^47, not canonical: iretq would raise #GP in the
     * kernel (on real CPUs; QEMU's TCG does not check). The process gets
     * the #GP its next instruction fetch would give it, its call unmade.
     */
    if (f->rip >= USER_TOP && !(p->flags & PS_ZOMBIE))
        user_fault(p, f, 13, 0);
    schedule();
}
