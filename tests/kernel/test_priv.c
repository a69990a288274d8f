/*
 * Privilege tests: every kernel call outside a process's mask is refused,
 * counted and traced; IPC to a slot outside its targets is refused; port,
 * IRQ and memory ranges are enforced; a real IRQ (the RTC's periodic
 * interrupt, IRQ 8) arrives as a notification to the driver that owns it.
 */
#include "ktest.h"

#define UNPRIV_MASK (KC_BIT(KC_EXIT) | KC_BIT(KC_UPTIME) | KC_BIT(KC_TSC) | KC_BIT(KC_LOG))

/* Helper (profile unpriv): try everything; exit status = wrong results * 1000 + denials. */
static int h_denials(uint64_t n)
{
    int wrong = 0;
    message_t m = {0};
    (void)n;
    for (int k = 0; k < NR_KCALLS; k++) {
        if ((KC_BIT(k) & (KC_IPC_MASK | UNPRIV_MASK)))
            continue;
        int64_t r = kcall6((uint64_t)k, 0, 0, 0, 0, 0, 0);
        if (r != -E_PERM) {
            printf("denials: kernel call %d gave %ld\n", k, r);
            wrong++;
        }
    }
    /* IPC: no targets at all, not even the parent or root */
    endpoint_t targets[] = {parent_ep, ROOT_EP};
    for (int i = 0; i < 2; i++) {
        wrong += ipc_send(targets[i], &m) != -E_PERM;
        wrong += ipc_sendrec(targets[i], &m) != -E_PERM;
        wrong += ipc_sendnb(targets[i], &m) != -E_PERM;
        wrong += ipc_notify(targets[i]) != -E_PERM;
    }
    wrong += ipc_receive_nb(ANY, &m) != -E_AGAIN; /* receiving is always allowed */
    struct proc_info i;
    wrong += sys_proc_info(SELF, &i) != -E_PERM;
    /* the denial counter is only visible to others; report what we expect */
    return wrong * 1000 + (NR_KCALLS - 5 - 4) + 8 + 1;
}

static void t_priv_denials(void)
{
    struct sysinfo s0;
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = spawn_helper("unpriv", "denials", 0);
    struct death_info d;
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_EXIT);
    EXPECT(d.code / 1000, 0);
    uint64_t expected = (uint64_t)(d.code % 1000);
    /* every denial is in the trace, with the right endpoint and call */
    static struct trace_entry t[256];
    int64_t n = sys_trace_read(s0.trace_seq, t, 256);
    CHECK(n >= 0);
    uint64_t mine = 0, perm_seen = 0;
    for (int64_t i = 0; i < n; i++)
        if (t[i].ep == e) {
            mine++;
            EXPECT(t[i].err, -E_PERM);
            perm_seen |= 1ull << t[i].op;
        }
    EXPECT(mine, expected);
    CHECK(perm_seen & KC_BIT(KC_IOPORT));
    CHECK(perm_seen & KC_BIT(KC_PRIV_SET));
    CHECK(perm_seen & KC_BIT(KC_SEND));
    CHECK(perm_seen & KC_BIT(KC_NOTIFY));
}

static void t_priv_counted(void)
{
    /* our own denials are counted: ktest may not set privileges or map memory */
    struct proc_info before, after;
    EXPECT(sys_proc_info(SELF, &before), 0);
    struct priv p = {0};
    EXPECT(sys_priv_set(self_ep, &p), -E_PERM);
    EXPECT(sys_mem_map(SELF, 0x10000000, 4096, PROT_R | PROT_W), -E_PERM);
    EXPECT(sys_proc_kill(ROOT_EP), -E_PERM); /* allowed call, but never root */
    EXPECT(sys_proc_kill(parent_ep), -E_PERM); /* nor anyone but our children */
    EXPECT(sys_sysinfo((struct sysinfo *)0), -E_FAULT); /* bad argument: not a denial */
    EXPECT(sys_proc_info(SELF, &after), 0);
    EXPECT(after.denied - before.denied, 4);
}

/* Helper (profile rtcdrv): drive the RTC's periodic interrupt through IRQ 8. */
static int h_rtc(uint64_t n)
{
    (void)n;
    /* refusals first: ports, IRQs and memory outside the profile */
    if (sys_ioport(IO_IN8, 0x60, 0) != -E_PERM || sys_ioport(IO_IN16, 0x71, 0) != -E_PERM ||
        sys_ioport(IO_OUT8, 0x3f8, 'x') != -E_PERM || sys_irqctl(IRQ_ENABLE, 4) != -E_PERM ||
        sys_irqctl(IRQ_ENABLE, 0) != -E_INVAL || sys_irqctl(IRQ_ENABLE, 16) != -E_INVAL ||
        sys_irqctl(IRQ_ACK, 8) != -E_PERM || sys_ioport(9, 0x70, 0) != -E_INVAL ||
        sys_mapphys(0xfee00000, 4096, 0x20000000) != -E_PERM)
        return 10;
    /* register B: periodic interrupt enable; register A: rate 15 (2 Hz... 1024 Hz) */
    sys_ioport(IO_OUT8, 0x70, 0x8a);
    uint8_t a = (uint8_t)sys_ioport(IO_IN8, 0x71, 0);
    sys_ioport(IO_OUT8, 0x70, 0x8a);
    sys_ioport(IO_OUT8, 0x71, (a & 0xf0) | 6); /* 1024 Hz */
    sys_ioport(IO_OUT8, 0x70, 0x8b);
    uint8_t b = (uint8_t)sys_ioport(IO_IN8, 0x71, 0);
    sys_ioport(IO_OUT8, 0x70, 0x8b);
    sys_ioport(IO_OUT8, 0x71, b | 0x40);
    sys_ioport(IO_OUT8, 0x70, 0x0c);
    sys_ioport(IO_IN8, 0x71, 0); /* clear pending flags */
    if (sys_irqctl(IRQ_ENABLE, 8) != 0)
        return 11;
    int seen = 0;
    sys_alarm(2000);
    while (seen < 5) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 12;
        if (m.source == SYSTEM)
            return 13; /* the alarm: no interrupts in two seconds */
        if (m.source != HARDWARE || m.type != MSG_NOTIFY || !(m.u.w[0] & (1u << 8)))
            return 14;
        sys_ioport(IO_OUT8, 0x70, 0x0c);
        sys_ioport(IO_IN8, 0x71, 0); /* acknowledge at the device ... */
        if (sys_irqctl(IRQ_ACK, 8) != 0) /* ... and unmask the line */
            return 15;
        seen++;
    }
    sys_ioport(IO_OUT8, 0x70, 0x8b);
    sys_ioport(IO_OUT8, 0x71, b & ~0x40);
    sys_irqctl(IRQ_DISABLE, 8);
    return 0;
}

static void t_priv_io_irq(void) { run_helper("rtcdrv", "rtc", 0); }

/* Helper (rtcdrv): take IRQ 8 and then crash while owning it. */
static int h_irq_owner_dies(uint64_t n)
{
    (void)n;
    if (sys_irqctl(IRQ_ENABLE, 8) != 0)
        return 1;
    __asm__ volatile("ud2");
    return 0;
}

static void t_priv_irq_released_at_death(void)
{
    endpoint_t e = spawn_helper("rtcdrv", "irq_dies", 0);
    struct death_info d;
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_FAULT);
    EXPECT(d.code, 6);
    /* the line is free again: a new driver can take it */
    run_helper("rtcdrv", "rtc", 0);
}

const struct ktest priv_tests[] = {
    {"priv_denials", t_priv_denials},
    {"priv_counted", t_priv_counted},
    {"priv_io_irq", t_priv_io_irq},
    {"priv_irq_released_at_death", t_priv_irq_released_at_death},
    {0, 0},
};

const struct khelper priv_helpers[] = {
    {"denials", h_denials},
    {"rtc", h_rtc},
    {"irq_dies", h_irq_owner_dies},
    {0, 0},
};
