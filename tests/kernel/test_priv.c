/*
 * Privilege tests: every kernel call outside a process's mask is refused,
 * counted and traced; IPC to a slot outside its targets is refused; port,
 * IRQ and memory ranges are enforced; a real IRQ (the RTC's periodic
 * interrupt, IRQ 8) arrives as a notification to each driver that shares it,
 * and the line stays masked until every one of them has acked.
 */
#include "ktest.h"

#define UNPRIV_MASK                                                                                \
    (KC_BIT(KC_EXIT) | KC_BIT(KC_UPTIME) | KC_BIT(KC_TSC) | KC_BIT(KC_BOOTTIME) | KC_BIT(KC_LOG))

/* Helper (manifest unpriv): try everything; exit status = wrong results * 1000 + denials. */
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
        wrong += ipc_reply_receive(targets[i], &m) != -E_PERM; /* nobody waits for its answer */
    }
    wrong += ipc_receive_nb(ANY, &m) != -E_AGAIN; /* receiving is always allowed */
    struct proc_info i;
    wrong += sys_proc_info(SELF, &i) != -E_PERM;
    /* the denial counter is only visible to others; report what we expect */
    return wrong * 1000 + (NR_KCALLS - __builtin_popcountll(KC_IPC_MASK) - 5) + 10 + 1;
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
    EXPECT(sys_proc_kill(ROOT_EP), -E_PERM);            /* allowed call, but never root */
    EXPECT(sys_proc_kill(parent_ep), -E_PERM);          /* nor anyone but our children */
    EXPECT(sys_sysinfo((struct sysinfo *)0), -E_FAULT); /* bad argument: not a denial */
    EXPECT(sys_proc_info(SELF, &after), 0);
    EXPECT(after.denied - before.denied, 4);
}

static void rtc_write(uint8_t reg, uint8_t v)
{
    sys_ioport(IO_OUT8, 0x70, reg);
    sys_ioport(IO_OUT8, 0x71, v);
}

static uint8_t rtc_read(uint8_t reg)
{
    sys_ioport(IO_OUT8, 0x70, reg);
    return (uint8_t)sys_ioport(IO_IN8, 0x71, 0);
}

/* Start or stop the RTC's periodic interrupt (1024 Hz), clearing its pending flags. */
static void rtc_periodic(int on)
{
    rtc_write(0x8a, (rtc_read(0x8a) & 0xf0) | 6); /* register A: rate 6, 1024 Hz */
    uint8_t b = rtc_read(0x8b);
    rtc_write(0x8b, on ? b | 0x40 : b & ~0x40); /* register B: periodic interrupt enable */
    rtc_read(0x0c);                             /* register C: clear pending flags */
}

/*
 * Helper (rtcdrv): drive the RTC's periodic interrupt through IRQ 8, maybe
 * on a line others share. Notifies the parent after the first interrupt;
 * fails if the fifth came sooner than n ticks after the start (the line
 * was unmasked before a sharer's ack).
 */
static int h_rtc_shared(uint64_t n)
{
    uint64_t start = sys_uptime();
    if (sys_irqctl(IRQ_ENABLE, 8) != 0)
        return 11;
    rtc_periodic(1);
    sys_alarm(10000);
    for (int seen = 0; seen < 5; seen++) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 12;
        if (m.source == SYSTEM)
            return 13; /* the alarm: no interrupts in ten seconds */
        if (m.source != HARDWARE || m.type != MSG_NOTIFY || !(m.u.notify.bits & (1u << 8)))
            return 14;
        rtc_read(0x0c);                  /* acknowledge at the device ... */
        if (sys_irqctl(IRQ_ACK, 8) != 0) /* ... and let the kernel unmask the line */
            return 15;
        if (!seen)
            ipc_notify(parent_ep);
    }
    uint64_t took = sys_uptime() - start;
    rtc_periodic(0);
    if (sys_irqctl(IRQ_DISABLE, 8) != 0)
        return 16;
    return took < n ? 17 : 0;
}

/* Helper (manifest rtcdrv): refusals outside the manifest, then five real interrupts. */
static int h_rtc(uint64_t n)
{
    (void)n;
    if (sys_ioport(IO_IN8, 0x60, 0) != -E_PERM || sys_ioport(IO_IN16, 0x71, 0) != -E_PERM ||
        sys_ioport(IO_OUT8, 0x3f8, 'x') != -E_PERM || sys_irqctl(IRQ_ENABLE, 4) != -E_PERM ||
        sys_irqctl(IRQ_ENABLE, 0) != -E_INVAL || sys_irqctl(IRQ_ENABLE, 16) != -E_INVAL ||
        sys_irqctl(IRQ_ACK, 8) != -E_PERM || sys_ioport(9, 0x70, 0) != -E_INVAL ||
        sys_mapphys(0xfee00000, 4096, 0x20000000) != -E_PERM)
        return 10;
    return h_rtc_shared(0);
}

/*
 * Helper (rtcdrv): share IRQ 8 without touching the RTC. Sends the parent
 * IRQ_ENABLE's result; then acks each interrupt n ticks after it came (never
 * if n is 0). A notification from the parent: disable and exit with the
 * number of interrupts seen.
 */
static int h_irq_sharer(uint64_t n)
{
    message_t m = {0};
    m.u.w[0] = (uint64_t)sys_irqctl(IRQ_ENABLE, 8);
    if (ipc_send(parent_ep, &m) < 0)
        return 100;
    if (m.u.w[0])
        return 0; /* refused, and the parent knows */
    for (int seen = 0;;) {
        if (ipc_receive(ANY, &m) < 0)
            return 101;
        if (m.source == parent_ep)
            return sys_irqctl(IRQ_DISABLE, 8) ? 102 : seen;
        if (m.source != HARDWARE || !(m.u.notify.bits & (1u << 8)) || seen++ == 99)
            return 103;
        if (n) {
            sleep_ticks(n);
            if (sys_irqctl(IRQ_ACK, 8) != 0)
                return 104;
        }
    }
}

static void t_priv_io_irq(void)
{
    run_helper("rtcdrv", "rtc", 0);
}

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

/* Spawn an IRQ 8 sharer and check what IRQ_ENABLE gave it. */
static endpoint_t spawn_sharer(uint64_t ack_delay, int64_t want)
{
    endpoint_t e = spawn_helper("rtcdrv", "irq_sharer", ack_delay);
    message_t m;
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.u.w[0], want);
    return e;
}

/* Tell a sharer to leave and return how many interrupts it saw. */
static int64_t stop_sharer(endpoint_t e)
{
    struct death_info d;
    EXPECT(ipc_notify(e), 0);
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_EXIT);
    CHECK(d.code < 100);
    return d.code;
}

/* Both sharers are notified; the line stays masked until the slow one acks too. */
static void t_irq_shared_waits_for_all_acks(void)
{
    endpoint_t slow = spawn_sharer(50, 0);
    run_helper("rtcdrv", "rtc_shared", 4 * 50); /* 5 interrupts at 1024 Hz, each held 50 ticks */
    CHECK(stop_sharer(slow) >= 5);
}

/* Four owners per line; a fifth gets E_BUSY until one of them dies. */
static void t_irq_share_limit(void)
{
    endpoint_t e[4];
    for (int i = 0; i < 4; i++)
        e[i] = spawn_sharer(0, 0);
    expect_clean_exit(spawn_sharer(0, -E_BUSY));
    struct death_info d;
    EXPECT(sys_proc_kill(e[0]), 0);
    wait_child(e[0], &d);
    EXPECT(d.cause, DEATH_KILLED);
    e[0] = spawn_sharer(0, 0);
    for (int i = 0; i < 4; i++)
        stop_sharer(e[i]);
}

/* An owner that never acks holds the line masked; its death frees it for the others. */
static void t_irq_share_owner_dies(void)
{
    endpoint_t mute = spawn_sharer(0, 0);
    endpoint_t drv = spawn_helper("rtcdrv", "rtc_shared", 200);
    message_t m;
    EXPECT(ipc_receive(drv, &m), 0); /* its first interrupt: now the line waits for mute */
    EXPECT(m.type, MSG_NOTIFY);
    sleep_ticks(200);
    struct death_info d;
    EXPECT(sys_proc_kill(mute), 0);
    wait_child(mute, &d);
    EXPECT(d.cause, DEATH_KILLED);
    expect_clean_exit(drv); /* four more interrupts, all after the kill */
}

const struct test priv_tests[] = {
    {"priv_denials", t_priv_denials},
    {"priv_counted", t_priv_counted},
    {"priv_io_irq", t_priv_io_irq},
    {"priv_irq_released_at_death", t_priv_irq_released_at_death},
    {"irq_shared_waits_for_all_acks", t_irq_shared_waits_for_all_acks},
    {"irq_share_limit", t_irq_share_limit},
    {"irq_share_owner_dies", t_irq_share_owner_dies},
    {0, 0},
};

const struct khelper priv_helpers[] = {
    {"denials", h_denials},         {"rtc", h_rtc},
    {"irq_dies", h_irq_owner_dies}, {"rtc_shared", h_rtc_shared},
    {"irq_sharer", h_irq_sharer},   {0, 0},
};
