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

static void user_fault(struct proc *p, const struct regs *f)
{
    uint64_t addr = f->vector == 14 ? read_cr2() : 0;
    kprintf("kernel: %s (endpoint %d) killed by exception %lu at rip %lx, addr %lx, err %lx\n",
            p->name, p->ep, f->vector, f->rip, addr, f->err);
    proc_die(p, DEATH_FAULT, (int64_t)f->vector, addr, f->err);
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
    if (f->vector == SYSCALL_VECTOR)
        kcall_dispatch(p);
    else if (irq >= 0 && irq < NR_IRQS)
        irq_handle(irq);
    else if (f->vector == 7)
        fpu_trap();
    else if (f->vector == 2)
        kprintf("kernel: NMI while %s ran; ignored\n", p->name);
    else if (f->vector == 18)
        panic_regs(f, "machine check");
    else
        user_fault(p, f);
    schedule();
}
