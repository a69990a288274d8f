/*
 * Faulting processes: each helper commits one kind of fault; the kernel
 * must kill only it and report the cause (exception vector, faulting
 * address) to its parent, and go on running everyone else.
 */
#include "ktest.h"

static int h_divide(uint64_t n)
{
    volatile uint64_t zero = n;
    return (int)(100 / zero);
}

/* One instruction a user process may not execute, or that traps: */
enum { INSN_CLI, INSN_HLT, INSN_INB, INSN_WRITE_CR3, INSN_UD2, INSN_INT3, INSN_INT80 };
static int h_insn(uint64_t n)
{
    uint8_t v = 0;
    switch (n) {
    case INSN_CLI:
        __asm__ volatile("cli");
        break;
    case INSN_HLT:
        __asm__ volatile("hlt");
        break;
    case INSN_INB:
        __asm__ volatile("inb $0x60, %0" : "=a"(v));
        break;
    case INSN_WRITE_CR3:
        __asm__ volatile("mov %0, %%cr3" ::"r"(n));
        break;
    case INSN_UD2:
        __asm__ volatile("ud2");
        break;
    case INSN_INT3:
        __asm__ volatile("int3");
        break;
    case INSN_INT80:
        __asm__ volatile("int $0x80");
        break;
    }
    return v;
}

/* Read, write or jump to address n. */
static int h_read(uint64_t n)
{
    return *(volatile int *)n;
}
static int h_write(uint64_t n)
{
    *(volatile uint8_t *)n = 0x90;
    return 0;
}
static int h_jump(uint64_t n)
{
    ((void (*)(void))n)();
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
    const char *name, *helper;
    uint64_t arg;
    int vector;
    int check_addr; /* the fault's address must be arg */
};

static const struct fault_case cases[] = {
    {"null", "read", 0, 14, 1},
    {"divide", "divide", 0, 0, 0},
    {"cli", "insn", INSN_CLI, 13, 0},
    {"hlt", "insn", INSN_HLT, 13, 0},
    {"inb", "insn", INSN_INB, 13, 0},
    {"write_cr3", "insn", INSN_WRITE_CR3, 13, 0},
    {"ud2", "insn", INSN_UD2, 6, 0},
    {"int3", "insn", INSN_INT3, 3, 0}, /* the breakpoint gate alone is DPL 3 (SIGTRAP for Linux) */
    {"int80", "insn", INSN_INT80, 13, 0},
    {"kernel_read", "read", 0xffffffff80100000ull, 14, 1},
    {"kernel_write", "write", 0xffff800000100000ull, 14, 1},
    {"noncanonical", "read", 0x0000900000000000ull, 13, 0},
    {"write_text", "write", 0x400000, 14, 1},
    {"jump_wild", "jump", 0x1234, 14, 1},
    {"exec_stack", "exec_stack", 0, 14, 0},
    {"stack_overflow", "stack_overflow", 0, 14, 0},
    {"tf_syscall", "tf_syscall", 0, 1, 0},
};

static void t_faults(void)
{
    struct sysinfo s0, s1;
    EXPECT(sys_sysinfo(&s0), 0);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        endpoint_t e = spawn_helper("unpriv", cases[i].helper, cases[i].arg);
        struct death_info d;
        wait_child(e, &d);
        if (d.cause != DEATH_FAULT || d.code != cases[i].vector ||
            (cases[i].check_addr && d.addr != cases[i].arg)) {
            printf("fault %s: cause %d vector %ld addr %lx\n", cases[i].name, d.cause, d.code,
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

/* Two spinners, the first under profile first, the second under unpriv (priority 3), left to run
 * for ticks; their endpoints and what the kernel says of them then. */
static void spin_two(const char *first, uint64_t ticks, endpoint_t e[2], struct proc_info info[2])
{
    e[0] = spawn_helper(first, "spin", 0);
    e[1] = spawn_helper("unpriv", "spin", 0);
    sleep_ticks(ticks);
    EXPECT(sys_proc_info(e[0], &info[0]), 0);
    EXPECT(sys_proc_info(e[1], &info[1]), 0);
}

static void t_round_robin(void)
{
    /* two spinners at one priority share the CPU */
    endpoint_t e[2];
    struct proc_info i[2];
    spin_two("unpriv", 200, e, i);
    printf("round robin: %lu and %lu ticks\n", i[0].ticks, i[1].ticks);
    CHECK(i[0].ticks >= 40 && i[1].ticks >= 40);
    kill_and_reap(e[0]);
    kill_and_reap(e[1]);
}

static void t_priority(void)
{
    /* a runnable process at a higher priority (3) starves a lower one (4) */
    endpoint_t e[2];
    struct proc_info i[2]; /* [0]: low, [1]: high */
    spin_two("fuzz", 100, e, i);
    EXPECT(i[0].priority, 4);
    EXPECT(i[1].priority, 3);
    CHECK(i[1].ticks >= 50);
    CHECK(i[0].ticks <= 2); /* it may have run before high was started */
    kill_and_reap(e[1]);
    sleep_ticks(50);
    EXPECT(sys_proc_info(e[0], &i[0]), 0);
    CHECK(i[0].ticks >= 20); /* now it runs */
    kill_and_reap(e[0]);
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
    {"divide", h_divide},
    {"insn", h_insn},
    {"read", h_read},
    {"write", h_write},
    {"jump", h_jump},
    {"tf_syscall", h_tf_syscall},
    {"exec_stack", h_exec_stack},
    {"stack_overflow", h_stack_overflow},
    {"bad_args", h_bad_kcall_args},
    {"spin", h_spin},
    {"nt_flag", h_nt_flag},
    {"syscall_at_top", h_syscall_at_top},
    {0, 0},
};
