/*
 * Faulting processes: each helper commits one kind of fault; the kernel
 * must kill only it and report the cause (exception vector, faulting
 * address) to its parent, and go on running everyone else.
 */
#include "ktest.h"

static int h_null(uint64_t n)
{
    (void)n;
    return *(volatile int *)0;
}
static int h_divide(uint64_t n)
{
    volatile uint64_t zero = n;
    return (int)(100 / zero);
}
static int h_cli(uint64_t n)
{
    (void)n;
    __asm__ volatile("cli");
    return 0;
}
static int h_hlt(uint64_t n)
{
    (void)n;
    __asm__ volatile("hlt");
    return 0;
}
static int h_inb(uint64_t n)
{
    (void)n;
    uint8_t v;
    __asm__ volatile("inb $0x60, %0" : "=a"(v));
    return v;
}
static int h_write_cr3(uint64_t n)
{
    __asm__ volatile("mov %0, %%cr3" ::"r"(n));
    return 0;
}
static int h_ud2(uint64_t n)
{
    (void)n;
    __asm__ volatile("ud2");
    return 0;
}
static int h_int3(uint64_t n)
{
    (void)n;
    __asm__ volatile("int3");
    return 0;
}
static int h_int80(uint64_t n)
{
    (void)n;
    __asm__ volatile("int $0x80");
    return 0;
}
static int h_kernel_read(uint64_t n)
{
    (void)n;
    return *(volatile int *)0xffffffff80100000ull;
}
static int h_kernel_write(uint64_t n)
{
    (void)n;
    *(volatile int *)0xffff800000100000ull = 1;
    return 0;
}
static int h_noncanonical(uint64_t n)
{
    (void)n;
    return *(volatile int *)0x0000900000000000ull;
}
static int h_write_text(uint64_t n)
{
    (void)n;
    *(volatile uint8_t *)0x400000 = 0x90;
    return 0;
}
static int h_jump_wild(uint64_t n)
{
    (void)n;
    ((void (*)(void))0x1234)();
    return 0;
}
static int h_exec_stack(uint64_t n)
{
    volatile uint8_t code[16] = {0xc3}; /* ret, on the non-executable stack */
    (void)n;
    ((void (*)(void))(uintptr_t)code)();
    return 0;
}
static int recurse(int d)
{
    volatile char pad[512];
    pad[0] = (char)d;
    if (d > (1 << 30)) /* never: the 64 KiB stack runs out long before */
        return 0;
    return recurse(d + 1) + pad[0];
}
static int h_stack_overflow(uint64_t n)
{
    return recurse((int)n);
}
static int h_bad_kcall_args(uint64_t n)
{
    /* bad pointers in kernel calls are errors, not deaths */
    (void)n;
    if (kcall2(KC_LOG, 0xdeadbeef, 10) != -E_FAULT || kcall2(KC_LOG, 0, 1000) != -E_INVAL ||
        kcall1(0x7fff, 0) != -E_NOSYS || kcall6(~0ull - KCALL_BASE, 1, 2, 3, 4, 5, 6) != -E_NOSYS ||
        kcall1((uint64_t)1 - KCALL_BASE, 0) != -E_NOSYS) /* Linux write(2): not routed yet */
        return 1;
    return 0;
}
/* NT set by popf must not reach the kernel's iretq (SFMASK clears it). */
static int h_nt_flag(uint64_t n)
{
    (void)n;
    __asm__ volatile("pushfq; orq $0x4000, (%%rsp); popfq" ::: "memory", "cc");
    if (sys_uptime() == (uint64_t)-1)
        return 1;
    uint64_t flags;
    __asm__ volatile("pushfq; popq %0" : "=r"(flags));
    return (flags & 0x4000) ? 0 : 2; /* still set for us after the call */
}

/* Single-stepping into the kernel: TF set, then syscall as the stepped instruction. SFMASK clears
 * TF on entry, so the kernel never traps; the trap comes in user mode, after the next instruction.
 */
static int h_tf_syscall(uint64_t n)
{
    (void)n;
    __asm__ volatile("pushfq; orq $0x100, (%%rsp); mov %0, %%eax; popfq; syscall; nop" ::"i"(
                         KCALL_BASE + KC_UPTIME)
                     : "rax", "rcx", "r11", "memory", "cc");
    return 0; /* not reached: the single-step trap kills us */
}

/*
 * syscall as the last two bytes of user space: the address after it (the
 * return rip) is 2^47, not canonical, and iretq to it would fault in the
 * kernel. The kernel must kill the process (#GP, as the CPU would), not panic.
 */
static int h_syscall_at_top(uint64_t n)
{
    static uint8_t page[4096];
    (void)n;
    page[4094] = 0x0f, page[4095] = 0x05; /* syscall */
    if (sys_mem_map_fill(SELF, 0x00007ffffffff000ull, 4096, PROT_R | PROT_X, page, 4096) != 0)
        return 1;
    __asm__ volatile("jmp *%1" ::"a"(KCALL_BASE + KC_UPTIME), "r"(0x00007ffffffffffeull)
                     : "rcx", "r11", "memory");
    return 2; /* not reached */
}

static int h_spin(uint64_t n)
{
    for (volatile uint64_t i = 0; i != n - 1; i++) /* n = 0: for ever */
        ;
    return 0;
}

struct fault_case {
    const char *helper;
    int vector;
    int check_addr;
    uint64_t addr;
};

static const struct fault_case cases[] = {
    {"null", 14, 1, 0},
    {"divide", 0, 0, 0},
    {"cli", 13, 0, 0},
    {"hlt", 13, 0, 0},
    {"inb", 13, 0, 0},
    {"write_cr3", 13, 0, 0},
    {"ud2", 6, 0, 0},
    {"int3", 3, 0, 0}, /* the breakpoint gate alone is DPL 3 (SIGTRAP for Linux) */
    {"int80", 13, 0, 0},
    {"kernel_read", 14, 1, 0xffffffff80100000ull},
    {"kernel_write", 14, 1, 0xffff800000100000ull},
    {"noncanonical", 13, 0, 0},
    {"write_text", 14, 1, 0x400000},
    {"jump_wild", 14, 1, 0x1234},
    {"exec_stack", 14, 0, 0},
    {"stack_overflow", 14, 0, 0},
    {"tf_syscall", 1, 0, 0},
};

static void t_faults(void)
{
    struct sysinfo s0, s1;
    EXPECT(sys_sysinfo(&s0), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        endpoint_t e = spawn_helper("unpriv", cases[i].helper, 0);
        struct death_info d;
        wait_child(e, &d);
        if (d.cause != DEATH_FAULT || d.code != cases[i].vector ||
            (cases[i].check_addr && d.addr != cases[i].addr)) {
            printf("fault %s: cause %d vector %ld addr %lx\n", cases[i].helper, d.cause, d.code,
                   d.addr);
            CHECK(!"wrong death report");
        }
    }
    EXPECT(sys_sysinfo(&s1), 0);
    EXPECT(s1.free_frames, s0.free_frames); /* all their memory came back */
    EXPECT(sys_selfcheck(), 0);
}

static void t_syscall_at_top(void)
{
    struct death_info d;
    wait_child(spawn_helper("memdrv", "syscall_at_top", 0), &d);
    EXPECT(d.cause, DEATH_FAULT);
    EXPECT(d.code, 13);
    EXPECT(sys_selfcheck(), 0);
}

static void t_bad_kcall_args(void)
{
    run_helper("unpriv", "bad_args", 0);
}

static void t_nt_flag(void)
{
    run_helper("unpriv", "nt_flag", 0);
}

static void t_kill(void)
{
    endpoint_t e = spawn_helper("unpriv", "spin", 0);
    sleep_ticks(30); /* it spins; we still run: preemption works */
    struct proc_info i;
    EXPECT(sys_proc_info(e, &i), 0);
    CHECK(i.ticks > 0);
    EXPECT(sys_proc_kill(e), 0);
    struct death_info d;
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_KILLED);
    EXPECT(d.code, self_ep);
    EXPECT(sys_proc_kill(e), -E_DEADEP);
    EXPECT(sys_proc_info(e, &i), -E_DEADEP);
}

static void kill_and_reap(endpoint_t e)
{
    struct death_info d;
    EXPECT(sys_proc_kill(e), 0);
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_KILLED);
}

static void t_round_robin(void)
{
    /* two spinners at one priority share the CPU */
    endpoint_t a = spawn_helper("unpriv", "spin", 0), b = spawn_helper("unpriv", "spin", 0);
    sleep_ticks(200);
    struct proc_info ia, ib;
    EXPECT(sys_proc_info(a, &ia), 0);
    EXPECT(sys_proc_info(b, &ib), 0);
    printf("round robin: %lu and %lu ticks\n", ia.ticks, ib.ticks);
    CHECK(ia.ticks >= 40 && ib.ticks >= 40);
    kill_and_reap(a);
    kill_and_reap(b);
}

static void t_priority(void)
{
    /* a runnable process at a higher priority (3) starves a lower one (4) */
    endpoint_t low = spawn_helper("fuzz", "spin", 0), high = spawn_helper("unpriv", "spin", 0);
    sleep_ticks(100);
    struct proc_info il, ih;
    EXPECT(sys_proc_info(low, &il), 0);
    EXPECT(sys_proc_info(high, &ih), 0);
    EXPECT(il.priority, 4);
    EXPECT(ih.priority, 3);
    CHECK(ih.ticks >= 50);
    CHECK(il.ticks <= 2); /* it may have run before high was started */
    kill_and_reap(high);
    sleep_ticks(50);
    EXPECT(sys_proc_info(low, &il), 0);
    CHECK(il.ticks >= 20); /* now it runs */
    kill_and_reap(low);
}

const struct test fault_tests[] = {
    {"fault_kinds", t_faults},
    {"fault_bad_kcall_args", t_bad_kcall_args},
    {"fault_kill_spinning", t_kill},
    {"fault_nt_flag_syscall", t_nt_flag},
    {"fault_syscall_at_top", t_syscall_at_top},
    {"sched_round_robin", t_round_robin},
    {"sched_priority", t_priority},
    {0, 0},
};

const struct khelper fault_helpers[] = {
    {"null", h_null},
    {"divide", h_divide},
    {"cli", h_cli},
    {"hlt", h_hlt},
    {"inb", h_inb},
    {"write_cr3", h_write_cr3},
    {"ud2", h_ud2},
    {"tf_syscall", h_tf_syscall},
    {"int3", h_int3},
    {"int80", h_int80},
    {"kernel_read", h_kernel_read},
    {"kernel_write", h_kernel_write},
    {"noncanonical", h_noncanonical},
    {"write_text", h_write_text},
    {"jump_wild", h_jump_wild},
    {"exec_stack", h_exec_stack},
    {"stack_overflow", h_stack_overflow},
    {"bad_args", h_bad_kcall_args},
    {"spin", h_spin},
    {"nt_flag", h_nt_flag},
    {"syscall_at_top", h_syscall_at_top},
    {0, 0},
};
