/*
 * x86-64 specifics shared by the kernel: the trap frame, port I/O and
 * control-register helpers, and the memory layout constants.
 */
#ifndef ARCH_H
#define ARCH_H

#include <stdint.h>

#define KERNEL_BASE 0xFFFFFFFF80000000ull
#define PHYS_BASE 0xFFFF800000000000ull /* direct map of the first 4 GiB */
#define PHYS_MAP_LIMIT 0x100000000ull
#define USER_TOP 0x0000800000000000ull /* user addresses are below this */
#define PAGE_SIZE ((uint64_t)4096)

#define P2V(pa) ((void *)((uint64_t)(pa) + PHYS_BASE))
#define V2P(va) ((uint64_t)(va) - ((uint64_t)(va) >= KERNEL_BASE ? KERNEL_BASE : PHYS_BASE))

#define SYSCALL_VECTOR 0x80
#define IRQ_BASE 32
#define NR_IRQS 16

#define SEL_KCODE 0x08
#define SEL_KDATA 0x10
#define SEL_UDATA 0x1b
#define SEL_UCODE 0x23
#define SEL_TSS 0x28

/* Pushed by entry.S; the order matters. */
struct regs {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, err;
    uint64_t rip, cs, rflags, rsp, ss;
};

static inline void outb(uint16_t p, uint8_t v)
{
    __asm__ volatile("outb %0,%1" ::"a"(v), "Nd"(p));
}
static inline void outw(uint16_t p, uint16_t v)
{
    __asm__ volatile("outw %0,%1" ::"a"(v), "Nd"(p));
}
static inline void outl(uint16_t p, uint32_t v)
{
    __asm__ volatile("outl %0,%1" ::"a"(v), "Nd"(p));
}
static inline uint8_t inb(uint16_t p)
{
    uint8_t v;
    __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(p));
    return v;
}
static inline uint16_t inw(uint16_t p)
{
    uint16_t v;
    __asm__ volatile("inw %1,%0" : "=a"(v) : "Nd"(p));
    return v;
}
static inline uint32_t inl(uint16_t p)
{
    uint32_t v;
    __asm__ volatile("inl %1,%0" : "=a"(v) : "Nd"(p));
    return v;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2,%0" : "=r"(v));
    return v;
}
static inline uint64_t read_cr0(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr0,%0" : "=r"(v));
    return v;
}
static inline void write_cr0(uint64_t v)
{
    __asm__ volatile("mov %0,%%cr0" ::"r"(v));
}
static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3,%0" : "=r"(v));
    return v;
}
static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0,%%cr3" ::"r"(v) : "memory");
}
static inline void wrmsr(uint32_t m, uint64_t v)
{
    __asm__ volatile("wrmsr" ::"c"(m), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void cpu_init(void);
void space_changed(uint64_t pml4);
void pic_init(void);
void pic_mask(int irq, int masked);
void pic_eoi(int irq);
void timer_init(int hz);
extern uint64_t tsc_hz, tsc_boot, tsc_per_tick; /* the TSC: its rate, its value at time 0 */
void fpu_trap(void);
void fpu_forget(void *area);
void fpu_sync(void *area);
void return_to_user(struct regs *r); /* never returns (see cpu_run in kernel.h) */

#endif
