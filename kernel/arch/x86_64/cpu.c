/*
 * CPU set-up: GDT with user segments and the TSS, the IDT (exceptions,
 * 16 PIC IRQs), the `syscall` MSRs, the 8259 PICs, the 8254 PIT as the
 * periodic clock (and the reference the TSC's rate is measured against),
 * and lazy FPU/SSE switching with CR0.TS.
 */
#include "../../kernel.h"

struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3, iomap_base;
} __attribute__((packed));

struct idt_entry {
    uint16_t off0, sel;
    uint8_t ist, type;
    uint16_t off1;
    uint32_t off2, zero;
} __attribute__((packed));

static uint64_t gdt[7];
static struct tss tss;
static struct idt_entry idt[48];
static uint8_t df_stack[4096] __attribute__((aligned(16)));
static uint8_t nmi_stack[64] __attribute__((aligned(16))); /* isr2's frame, which it only irets */
extern char kernel_stack_top[];
extern void syscall_entry(void);

extern void (*const isr_table[48])(void); /* entry.S */

struct desc_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

/* An interrupt gate; dpl 3 lets user code raise it with an int instruction. */
static void idt_set(int n, void (*fn)(void), int ist, int dpl)
{
    uint64_t a = (uint64_t)fn;
    idt[n] = (struct idt_entry){.off0 = a & 0xffff,
                                .sel = SEL_KCODE,
                                .ist = ist,
                                .type = (uint8_t)(0x8e | dpl << 5),
                                .off1 = (a >> 16) & 0xffff,
                                .off2 = a >> 32};
}

uint64_t syscall_frame_top; /* entry.S builds a syscall frame below this */

#define CR4_PGE (1ull << 7)
#define TAG(pml4) (((pml4) >> 12) & 4095)

/*
 * Address-space tags (PCID, when the CPU has it): the TLB keeps each space's translations under
 * a tag across switches. A space's tag is its root frame number mod 4,096, and pcid_root[tag]
 * the root whose translations the tag may hold: space_load keeps them (CR3 bit 63) only for that
 * root, and a load of another root with the same tag flushes the tag. space_changed disowns a
 * space's tag when its mappings lost or changed entries, or its root was freed (whose frame may
 * come back as another space's root), so that its next load flushes; the loaded space's changed
 * pages were invalidated with invlpg by whoever changed them. One CPU: a tag's stale entries
 * cannot be used before its next load, so INVPCID is not needed. Without PCID every CR3 write
 * flushes (kernel pages are global either way).
 */
static int pcid_on;
static uint64_t pcid_root[4096];

static uint64_t space_loaded; /* the root in CR3 (only space_load loads another) */

static inline void space_load(uint64_t pml4)
{
    if (space_loaded == pml4)
        return;
    space_loaded = pml4;
    if (!pcid_on) {
        write_cr3(pml4);
        return;
    }
    write_cr3(pml4 | TAG(pml4) | (pcid_root[TAG(pml4)] == pml4 ? 1ull << 63 : 0));
    pcid_root[TAG(pml4)] = pml4;
}

void space_changed(uint64_t pml4)
{
    if (pcid_root[TAG(pml4)] == pml4)
        pcid_root[TAG(pml4)] = 0;
}

static uint8_t fpu_initial[512] __attribute__((aligned(16)));
static void *fpu_owner; /* whose state is in the FPU registers */

void cpu_init(void)
{
    uint64_t t = (uint64_t)&tss;
    gdt[0] = 0;
    gdt[1] = 0x00AF9A000000FFFFull; /* kernel code */
    gdt[2] = 0x00CF92000000FFFFull; /* kernel data */
    gdt[3] = 0x00CFF2000000FFFFull; /* user data (0x1b) */
    gdt[4] = 0x00AFFA000000FFFFull; /* user code (0x23) */
    gdt[5] =
        (sizeof(tss) - 1) | ((t & 0xffffff) << 16) | (0x89ull << 40) | (((t >> 24) & 0xff) << 56);
    gdt[6] = t >> 32;
    tss.rsp[0] = (uint64_t)kernel_stack_top;
    tss.ist[0] = (uint64_t)df_stack + sizeof(df_stack);
    tss.ist[1] = (uint64_t)nmi_stack + sizeof(nmi_stack);
    tss.iomap_base = sizeof(tss); /* no I/O bitmap: ring 3 port I/O faults */

    struct desc_ptr g = {sizeof(gdt) - 1, (uint64_t)gdt};
    __asm__ volatile("lgdt %0\n"
                     "mov %1, %%ds\n mov %1, %%es\n mov %1, %%ss\n"
                     "pushq %2\n leaq 1f(%%rip), %%rax\n pushq %%rax\n lretq\n1:\n"
                     "ltr %w3" ::"m"(g),
                     "r"(SEL_KDATA), "i"(SEL_KCODE), "r"(SEL_TSS)
                     : "rax", "memory");

    for (int i = 0; i < 48; i++)
        idt_set(i, isr_table[i], i == 8 ? 1 : (i == 2) * 2, /* IST 1: #DF, IST 2: NMI */
                i == 3 ? 3 : 0);                            /* int3 is a breakpoint (SIGTRAP) */
    struct desc_ptr d = {sizeof(idt) - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
    /* The local APIC off (IA32_APIC_BASE, enable bit clear; the firmware had it on): the PIC's
     * lines reach the CPU directly, and no device can raise a vector of its choosing by MSI or
     * by a DMA write to 0xfee00000, which a driver could program (docs/TRACE.md, badbar). */
    wrmsr(0x1b, 0xfee00000 | (1u << 8)); /* the base and the bootstrap-processor flag, as found */

    /*
     * syscall: STAR selectors, LSTAR entry; SFMASK clears TF, IF, DF, NT and
     * AC. NT matters: a user may set it with popf, and iretq with NT set
     * raises #GP in the kernel (interrupt gates clear NT by themselves).
     */
    wrmsr(0xC0000081, ((uint64_t)0x10 << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(0xC0000082, (uint64_t)syscall_entry);
    wrmsr(0xC0000084, 0x44700);

    /*
     * SSE on (OSFXSR, OSXMMEXCPT), FPU monitored; capture the initial state. The kernel's
     * mappings are global (boot.S): the boot identity map, which shares their tables, goes, and
     * CR4.PGE off and on flushes it. PCID on if CPUID.1:ECX[17] says the CPU has it.
     */
    uint64_t cr4;
    uint32_t eax = 1, ebx, ecx = 0, edx;
    __asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "+c"(ecx), "=d"(edx));
    pcid_on = (ecx >> 17) & 1;
    ((uint64_t *)P2V(read_cr3() & PTE_ADDR))[0] = 0;
    __asm__ volatile("mov %%cr4,%0" : "=r"(cr4));
    __asm__ volatile("mov %0,%%cr4" ::"r"((cr4 | (3 << 9)) & ~CR4_PGE) : "memory");
    __asm__ volatile(
        "mov %0,%%cr4" ::"r"(cr4 | (3 << 9) | CR4_PGE | (pcid_on ? 1ull << 17 : 0) /* PCIDE */));
    write_cr0((read_cr0() & ~4ull) | 2ull);
    __asm__ volatile("fninit; fxsave %0" : "=m"(fpu_initial));
    *(uint32_t *)(fpu_initial + 24) = 0x1f80; /* MXCSR: all exceptions masked */
}

/*
 * Called when switching to the process whose FPU area is `area`: if its state is the one in
 * the FPU registers, it may use them at once (TS clear); otherwise its first use traps (#NM)
 * and fpu_trap swaps the states. Processes that never use the FPU (the servers) leave the
 * owner in place, so switching back to it costs no trap.
 */
static inline void fpu_switch_to(const void *area)
{
    uint64_t cr0 = read_cr0(), want = area == fpu_owner ? cr0 & ~8ull : cr0 | 8ull;
    if (want != cr0)
        write_cr0(want);
}

void fpu_trap(void)
{
    __asm__ volatile("clts");
    if (fpu_owner == current->fpu)
        return;
    if (fpu_owner)
        __asm__ volatile("fxsave %0" : "=m"(*(uint8_t(*)[512])fpu_owner));
    __asm__ volatile("fxrstor %0" ::"m"(*(uint8_t(*)[512])current->fpu));
    fpu_owner = current->fpu;
}

/* Make area hold its process's current FPU state (it may live in the FPU). */
void fpu_sync(void *area)
{
    if (fpu_owner != area)
        return;
    uint64_t cr0 = read_cr0();
    __asm__ volatile("clts; fxsave %0" : "=m"(*(uint8_t(*)[512])area));
    write_cr0(cr0);
}

/*
 * The segment state of the next process. A user can change FS and GS behind
 * the kernel's back (mov to %fs loads a selector, and on Intel a null one
 * clears the base), so nothing the hardware holds is trusted from one process
 * to the next: the selectors are nulled and FS base written on every switch,
 * unless both the last base written and the next are 0 (a selector load can
 * only make the base 0: every descriptor a user can load has base 0). GS
 * base stays 0: no call sets it.
 */
static uint64_t fs_written; /* the FS base last written */

static inline void user_segments_load(uint64_t fs_base)
{
    uint16_t fs, gs;
    __asm__ volatile("mov %%fs, %0\n mov %%gs, %1" : "=r"(fs), "=r"(gs));
    if (fs | gs)
        __asm__ volatile("mov %0, %%fs\n mov %0, %%gs" ::"r"(0));
    if (fs_base | fs_written)
        wrmsr(0xC0000100, fs_written = fs_base);
}

/*
 * Run p (the scheduler's choice): if it is not the process whose state the CPU
 * holds, load its FPU (lazily), segments, address space, and the frame entries
 * from user mode build (TSS.rsp0 and syscall_frame_top point just past p->regs).
 */
void cpu_run(struct proc *p)
{
    if (p != current) {
        fpu_switch_to(p->fpu);
        tss.rsp[0] = syscall_frame_top = (uint64_t)(&p->regs + 1);
        user_segments_load(p->fs_base);
        space_load(p->pml4);
        current = p;
    }
    return_to_user(&p->regs);
}

void fpu_forget(void *area)
{
    memcpy(area, fpu_initial, sizeof(fpu_initial));
    if (fpu_owner == area) {
        fpu_owner = 0;
        write_cr0(read_cr0() | 8ull); /* its registers are stale now: the next use loads */
    }
}

/* 8259 PICs: IRQ 0-15 at vectors 32-47, all masked but the cascade. */
static uint16_t pic_masks = 0xfffb;

void pic_init(void)
{
    outb(0x20, 0x11);
    outb(0xA0, 0x11);
    outb(0x21, IRQ_BASE);
    outb(0xA1, IRQ_BASE + 8);
    outb(0x21, 4);
    outb(0xA1, 2);
    outb(0x21, 1);
    outb(0xA1, 1);
    outb(0x21, pic_masks & 0xff);
    outb(0xA1, pic_masks >> 8);
}

void pic_mask(int irq, int masked)
{
    if (masked)
        pic_masks |= 1u << irq;
    else
        pic_masks &= ~(1u << irq);
    if (irq < 8)
        outb(0x21, pic_masks & 0xff);
    else
        outb(0xA1, pic_masks >> 8);
}

void pic_eoi(int irq)
{
    if (irq >= 8)
        outb(0xA0, 0x20);
    outb(0x20, 0x20);
}

#define PIT_HZ 1193182
#define CALIBRATE_MS 10
uint64_t tsc_hz, tsc_boot, tsc_per_tick;

/*
 * The TSC's rate, counted over CALIBRATE_MS of PIT channel 2 in one-shot
 * mode 0 (gate: port 0x61 bit 0; output: bit 5, high at the count's end).
 * The count starts at the write of its high byte and ends between two
 * polls: each round brackets both, and a round whose brackets are wider
 * than 1/1000 of it (the CPU was away: a host stall under QEMU) is tried
 * again, up to 8 times, keeping the narrowest. QEMU's TCG CPUs give no
 * frequency in CPUID leaf 0x15/0x16 nor an invariant-TSC bit, so the PIT
 * is the reference; the end of the round kept is time's origin.
 */
static void tsc_calibrate(void)
{
    uint32_t count = PIT_HZ * CALIBRATE_MS / 1000;
    uint64_t width = ~0ull, cycles = 0; /* the narrowest round's bracket width and middle */
    outb(0x61, (uint8_t)((inb(0x61) & ~2) | 1)); /* gate on, speaker off */
    for (int round = 0; round < 8 && width > cycles / 1000; round++) {
        outb(0x43, 0xb0); /* channel 2, low then high byte, mode 0 */
        outb(0x42, count & 0xff);
        uint64_t a = rdtsc(), low, before = 0, spins = 0;
        outb(0x42, (uint8_t)(count >> 8));
        uint64_t b = rdtsc(), poll = b;
        do {
            before = poll, poll = rdtsc();
        } while (!(inb(0x61) & 0x20) && ++spins < (1u << 26));
        low = rdtsc();
        if (low - before + b - a < width) {
            width = low - before + b - a;
            cycles = (before - b + low - a) / 2;
            tsc_boot = low;
        }
    }
    tsc_hz = cycles * PIT_HZ / count;
    if (tsc_hz < 1000000)
        panic("no TSC rate against the PIT (%lu Hz)", tsc_hz);
    kprintf("kernel: TSC at %lu kHz (PIT channel 2, %d ms, +-%lu cycles)\n", tsc_hz / 1000,
            CALIBRATE_MS, width / 2);
}

void timer_init(int hz)
{
    uint32_t div = PIT_HZ / hz;
    tsc_calibrate();
    tsc_per_tick = tsc_hz / (uint64_t)hz; /* the tick count is the TSC's time (clock_ticks) */
    outb(0x43, 0x34);                     /* channel 0, rate generator */
    outb(0x40, div & 0xff);
    outb(0x40, div >> 8);
    pic_mask(0, 0);
}
