/*
 * Process control calls pm uses for job control, faults, fork and threads:
 * KC_PROC_HOLD (a held process gets no CPU, still receives what is sent to
 * it, and runs on when let go) and KC_PROC_FORK's flags (a copy, or with
 * FORK_SHARE_SPACE a second thread of the same address space, each started
 * with KC_PROC_START's rip 0). The tests hold and fork their own helpers
 * (ktest's manifest names proc_hold, proc_fork and proc_start for them); a
 * helper without those calls in its manifest, and any caller for a process
 * that is not its child, is refused.
 */
#include "ktest.h"

#define TEST_ASK 0x7a01 /* helper ask_parent -> parent, sendrec: w[0] = n; the answer w[0] + 1 */
#define HELPER_PRIORITY 3

/* Helper (unpriv): spins without a live register, so a copy started anywhere spins too. */
static int h_spin(uint64_t n)
{
    for (;;)
        __asm__ volatile("pause");
    return (int)n;
}

/* Helper (peer): asks its parent, then sends it the answer plus one. */
static int h_ask_parent(uint64_t n)
{
    message_t m = {.type = TEST_ASK, .u.w = {n}};
    if (ipc_sendrec(parent_ep, &m) < 0)
        return 1;
    m.type = TEST_ASK;
    m.u.w[0]++;
    return ipc_send(parent_ep, &m) < 0 ? 2 : 0;
}

/* Helper (unpriv, then peer): proc_hold and proc_fork are not in its mask. */
static int h_hold_refused(uint64_t n)
{
    (void)n;
    int wrong = sys_proc_hold(parent_ep, 1) != -E_PERM;
    wrong += sys_proc_hold(SELF, 1) != -E_PERM;
    wrong += sys_proc_fork(parent_ep, 0) != -E_PERM;
    wrong += sys_proc_fork(SELF, FORK_SHARE_SPACE) != -E_PERM;
    return wrong;
}

static int h_adopt_refused(uint64_t n)
{
    (void)n;
    return (sys_proc_adopt(parent_ep) != -E_PERM) + (sys_proc_adopt(SELF) != -E_PERM);
}

static uint64_t ticks_of(endpoint_t ep, uint32_t *state)
{
    struct proc_info i;
    EXPECT(sys_proc_info(ep, &i), 0);
    if (state)
        *state = i.state;
    return i.ticks;
}

/* Kill a child and require that it died of it. */
static void kill_child(endpoint_t ep)
{
    struct death_info d;
    EXPECT(sys_proc_kill(ep), 0);
    wait_child(ep, &d);
    EXPECT(d.cause, DEATH_KILLED);
}

/* A held process gets no CPU (its ticks stand still, PS_HELD shows); let go, it runs again;
 * holding twice or letting go twice is harmless; a held process can be killed. */
static void t_hold_stops_running(void)
{
    endpoint_t e = spawn_helper("unpriv", "spin", 0);
    uint32_t state;
    uint64_t t0 = ticks_of(e, 0);
    sleep_ticks(50);
    CHECK(ticks_of(e, 0) > t0); /* it runs */
    EXPECT(sys_proc_hold(e, 1), 0);
    EXPECT(sys_proc_hold(e, 1), 0);
    uint64_t held = ticks_of(e, &state);
    CHECK(state & PS_HELD);
    sleep_ticks(100);
    EXPECT(ticks_of(e, 0), held); /* not one tick while held */
    EXPECT(sys_proc_hold(e, 0), 0);
    EXPECT(sys_proc_hold(e, 0), 0);
    ticks_of(e, &state);
    CHECK(!(state & PS_HELD));
    sleep_ticks(50);
    CHECK(ticks_of(e, 0) > held); /* runs again */
    EXPECT(sys_proc_hold(e, 1), 0);
    kill_child(e); /* held, it still dies */
}

/* A message sent to a held process waiting for it is delivered at once (the sender does not
 * wait), and acted on only when the process is let go. */
static void t_hold_gets_replies(void)
{
    endpoint_t e = spawn_helper("peer", "ask_parent", 7);
    message_t m;
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.type, TEST_ASK);
    EXPECT(m.u.w[0], 7);
    EXPECT(sys_proc_hold(e, 1), 0);
    m.u.w[0] = 41;
    EXPECT(ipc_sendnb(e, &m), 0); /* the reply: delivered though it is held */
    sleep_ticks(50);
    EXPECT(ipc_receive_nb(e, &m), -E_AGAIN); /* it has not run on */
    EXPECT(sys_proc_hold(e, 0), 0);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.u.w[0], 42);
    expect_clean_exit(e);
}

/* Refusals: the caller itself, an `on` other than 0 or 1, garbage and dead endpoints, a process
 * that is not the caller's child (its parent, root), and callers without proc_hold. */
static void t_hold_refusals(void)
{
    endpoint_t e = spawn_helper("unpriv", "spin", 0);
    EXPECT(sys_proc_hold(SELF, 1), -E_INVAL);
    EXPECT(sys_proc_hold(e, 2), -E_INVAL);
    EXPECT(sys_proc_hold(e, -1), -E_INVAL);
    EXPECT(sys_proc_hold(0, 1), -E_SRCH);
    EXPECT(sys_proc_hold((endpoint_t)0x7fffffff, 1), -E_SRCH);
    EXPECT(sys_proc_hold(parent_ep, 1), -E_PERM); /* the runner: not a child */
    EXPECT(sys_proc_hold(ROOT_EP, 1), -E_PERM);
    kill_child(e);
    EXPECT(sys_proc_hold(e, 1), -E_DEADEP);
    run_helper("unpriv", "hold_refused", 0); /* kcalls basic */
    run_helper("peer", "hold_refused", 0);   /* proc_info, proc_kill..., not proc_hold/fork */
}

/* KC_PROC_ADOPT (a restarted pm's; docs/ARCHITECTURE.md): ktest lacks PRIV_USERS and its helper
 * is no Linux process whose parent is root, so each is a denial; garbage and dead endpoints are
 * refused; a helper without the kcall in its mask is refused too. The taking back itself:
 * suite_core's core.pm_killed_kept. */
static void t_adopt_refusals(void)
{
    endpoint_t e = spawn_helper("unpriv", "spin", 0);
    EXPECT(sys_proc_adopt(e), -E_PERM);
    EXPECT(sys_proc_adopt(SELF), -E_PERM);
    EXPECT(sys_proc_adopt(ROOT_EP), -E_PERM);
    EXPECT(sys_proc_adopt(0), -E_SRCH);
    EXPECT(sys_proc_adopt((endpoint_t)0x7fffffff), -E_SRCH);
    kill_child(e);
    EXPECT(sys_proc_adopt(e), -E_DEADEP);
    run_helper("unpriv", "adopt_refused", 0); /* kcalls basic */
}

/* KC_PROC_FORK: flags other than FORK_SHARE_SPACE, the caller itself, garbage, a process not
 * its child: refused. A copy (flags 0) and a thread (FORK_SHARE_SPACE) of a held helper are
 * stopped children of the caller with its name, run when started, and die alone: the helper
 * runs on after its thread is killed (the shared address space is counted). */
static void t_fork_flags(void)
{
    endpoint_t e = spawn_helper("unpriv", "spin", 0);
    EXPECT(sys_proc_hold(e, 1), 0);
    EXPECT(sys_proc_fork(e, 2), -E_INVAL);
    EXPECT(sys_proc_fork(e, FORK_SHARE_SPACE | 4), -E_INVAL);
    EXPECT(sys_proc_fork(e, ~0ull), -E_INVAL);
    EXPECT(sys_proc_fork(SELF, 0), -E_INVAL);
    EXPECT(sys_proc_fork(0, 0), -E_SRCH);
    EXPECT(sys_proc_fork(parent_ep, 0), -E_PERM);
    EXPECT(sys_proc_fork(ROOT_EP, FORK_SHARE_SPACE), -E_PERM);
    struct proc_info self, src, copy;
    EXPECT(sys_proc_info(SELF, &self), 0);
    EXPECT(sys_proc_info(e, &src), 0);
    for (uint64_t flags = 0; flags <= FORK_SHARE_SPACE; flags++) {
        endpoint_t c = sys_proc_fork(e, flags);
        CHECK(c > 0);
        EXPECT(sys_proc_info(c, &copy), 0);
        CHECK((copy.state & PS_STOPPED) && copy.parent == self.ep && !strcmp(copy.name, src.name));
        EXPECT(sys_proc_start(c, 0, 0, 0, HELPER_PRIORITY), 0); /* rip 0: its own registers */
        sleep_ticks(50);
        CHECK(ticks_of(c, 0) > 0); /* the copy spins */
        kill_child(c);
    }
    uint64_t held = ticks_of(e, 0);
    EXPECT(sys_proc_hold(e, 0), 0);
    sleep_ticks(50);
    CHECK(ticks_of(e, 0) > held); /* its space outlived the thread */
    kill_child(e);
}

#define BIG_MIB 256

/* Helper (big): BIG_MIB MiB of zeroed memory of its own, mapped in 16 MiB steps; then spins. */
static int h_big(uint64_t n)
{
    for (uint64_t off = 0; off < BIG_MIB << 20; off += 16 << 20)
        if (sys_mem_map(SELF, 0x40000000 + off, 16 << 20, PROT_R | PROT_W) < 0)
            return 1;
    return h_spin(n);
}

/* Run call(ep); add its clock ticks to got[0] and those its TSC time should have had to got[1]
 * (tsc_tick cycles a tick). */
static int64_t ticks_during(const char *what, int64_t (*call)(endpoint_t), endpoint_t ep,
                            uint64_t tsc_tick, uint64_t got[2])
{
    uint64_t k0 = sys_uptime(), t0 = sys_tsc();
    int64_t r = call(ep);
    uint64_t ticks = sys_uptime() - k0, tsc = sys_tsc() - t0, due = tsc / tsc_tick;
    printf("ktest: %s of %d MiB: %lu ticks, %lu due by the TSC (%lu cycles)\n", what, BIG_MIB,
           ticks, due, tsc);
    got[0] += ticks, got[1] += due;
    return r;
}

static int64_t fork_copy(endpoint_t e)
{
    return sys_proc_fork(e, 0);
}

static int64_t kill_it(endpoint_t e)
{
    return sys_proc_kill(e);
}

/* KC_PROC_FORK and KC_PROC_KILL of a process with 256 MiB touched run in parts (KC_RESTART):
 * clock interrupts come in while they run, so few ticks are lost (before: one of each call's
 * tens). The copies share the memory (their pages count), and all die cleanly. */
static void t_long_calls_interruptible(void)
{
    endpoint_t e = spawn_helper("big", "big", 0);
    struct proc_info i;
    struct death_info d;
    for (int n = 0; n < 600 && (sys_proc_info(e, &i), i.pages < (BIG_MIB << 20) / 4096); n++)
        sleep_ticks(10);
    CHECK(i.pages >= (BIG_MIB << 20) / 4096);
    EXPECT(sys_proc_hold(e, 1), 0);
    uint64_t k0 = sys_uptime(), t0 = sys_tsc(), got[2] = {0, 0};
    sleep_ticks(20);
    uint64_t tsc_tick = (sys_tsc() - t0) / (sys_uptime() - k0);
    for (int n = 0; n < 3; n++) {
        endpoint_t c = (endpoint_t)ticks_during("fork", fork_copy, e, tsc_tick, got);
        CHECK(c > 0);
        EXPECT(sys_proc_info(c, &i), 0);
        CHECK(i.pages >= (BIG_MIB << 20) / 4096);
        EXPECT(ticks_during("kill of the copy", kill_it, c, tsc_tick, got), 0);
        wait_child(c, &d);
    }
    EXPECT(ticks_during("kill", kill_it, e, tsc_tick, got), 0);
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_KILLED);
    EXPECT(sys_selfcheck(), 0);
    CHECK(got[1] < 8 || got[0] * 2 >= got[1]);
}

const struct test proc_tests[] = {
    {"hold_stops_running", t_hold_stops_running},
    {"hold_gets_replies", t_hold_gets_replies},
    {"hold_refusals", t_hold_refusals},
    {"fork_flags", t_fork_flags},
    {"adopt_refusals", t_adopt_refusals},
    {"long_calls_interruptible", t_long_calls_interruptible},
    {0, 0},
};

const struct khelper proc_helpers[] = {
    {"spin", h_spin},
    {"ask_parent", h_ask_parent},
    {"hold_refused", h_hold_refused},
    {"adopt_refused", h_adopt_refused},
    {"big", h_big},
    {0, 0},
};
