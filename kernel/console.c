/*
 * Kernel log on COM1 (16550 at 0x3f8), polled. This is the serial console
 * QEMU puts on stdio with -nographic; user processes reach it with KC_LOG.
 */
#include "kernel.h"
#include "../lib/format/format.h"

#define COM1 0x3f8

void console_init(void)
{
    outb(COM1 + 1, 0x00); /* no interrupts */
    outb(COM1 + 3, 0x80); /* DLAB */
    outb(COM1 + 0, 0x01); /* 115200 baud */
    outb(COM1 + 1, 0x00);
    outb(COM1 + 3, 0x03); /* 8N1 */
    outb(COM1 + 2, 0xC7); /* FIFO on */
    outb(COM1 + 4, 0x03);
}

static void console_putc(char c)
{
    if (c == '\n')
        console_putc('\r');
    for (int i = 0; i < 100000 && !(inb(COM1 + 5) & 0x20); i++)
        ;
    outb(COM1, (uint8_t)c);
}

void console_write(const char *s, size_t n)
{
    while (n--)
        console_putc(*s++);
}

static void put(void *ctx, char c)
{
    (void)ctx;
    console_putc(c);
}

void kprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    format(put, 0, fmt, ap);
    va_end(ap);
}

_Noreturn void panic(const char *fmt, ...)
{
    va_list ap;
    kprintf("\nkernel panic: ");
    va_start(ap, fmt);
    format(put, 0, fmt, ap);
    va_end(ap);
    kprintf("\nbacktrace:");
    uint64_t *fp = __builtin_frame_address(0);
    for (int i = 0; i < 16 && (uint64_t)fp >= KERNEL_BASE; i++) {
        kprintf(" %lx", fp[1]);
        fp = (uint64_t *)fp[0];
    }
    kprintf("\n");
    outb(0x501, 0x7f); /* isa-debug-exit, if present: QEMU exits with 255 */
    for (;;)
        __asm__ volatile("cli; hlt");
}

void panic_regs(const struct regs *r, const char *why)
{
    kprintf("\n%s: vector %lu err %lx rip %lx cs %lx rflags %lx rsp %lx cr2 %lx\n", why, r->vector,
            r->err, r->rip, r->cs, r->rflags, r->rsp, read_cr2());
    kprintf("rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx rbp %lx\n", r->rax, r->rbx, r->rcx,
            r->rdx, r->rsi, r->rdi, r->rbp);
    kprintf("r8 %lx r9 %lx r10 %lx r11 %lx r12 %lx r13 %lx r14 %lx r15 %lx\n", r->r8, r->r9, r->r10,
            r->r11, r->r12, r->r13, r->r14, r->r15);
    kprintf("backtrace from trap: %lx", r->rip);
    uint64_t *fp = (uint64_t *)r->rbp;
    for (int i = 0; i < 16 && (uint64_t)fp >= KERNEL_BASE; i++) {
        kprintf(" %lx", fp[1]);
        fp = (uint64_t *)fp[0];
    }
    panic("%s in kernel mode", why);
}
