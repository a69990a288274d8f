/*
 * IPC tests: every mode (send, receive from one or ANY, sendrec, sendnb,
 * non-blocking receive, notify, reply-receive), alarms, dead and stale
 * endpoints, cycle detection, and message buffers whose mapping changes
 * between calls (the kernel's cached translation must never outlive it).
 */
#include "ktest.h"

/* Helper: answer n requests with w[0] + 1, then exit. */
static int h_echo(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 1;
        m.u.w[0]++;
        if (ipc_sendnb(m.source, &m) < 0)
            return 2;
    }
    return 0;
}

/* Helper: receive from the parent only, then send it a message. */
static int h_recv_then_send(uint64_t n)
{
    message_t m;
    endpoint_t parent = parent_ep;
    if (ipc_receive(parent, &m) < 0 || m.type != TEST_PING)
        return 1;
    m.type = TEST_ECHO;
    m.u.w[0] = n;
    return ipc_send(parent, &m) < 0 ? 2 : 0;
}

/* Helper: send one message with w[0] = n to the parent (blocking). */
static int h_send_one(uint64_t n)
{
    message_t m = {.type = TEST_PING, .u.w = {n}};
    return ipc_send(parent_ep, &m) < 0;
}

/* Helper: notify the parent n times, then exit. */
static int h_notify(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        if (ipc_notify(parent_ep) < 0)
            return 1;
    return 0;
}

/* Helper: notify the parent n times, then send it a TEST_PING. */
static int h_notify_send(uint64_t n)
{
    return h_notify(n) || h_send_one(0);
}

/* Helper: take a request, notify the caller, then reply (which must get through). */
static int h_notify_then_reply(uint64_t n)
{
    message_t m;
    (void)n;
    if (ipc_receive(ANY, &m) < 0 || ipc_notify(m.source) < 0)
        return 1;
    m.type = TEST_ECHO;
    return ipc_sendnb(m.source, &m) == 0 ? 0 : 2;
}

/* Helper: sleep n ticks without receiving anything from anyone, then exit. */
static int h_sleep(uint64_t n)
{
    sleep_ticks(n);
    return 0;
}

/* Helper: take one request and die without replying. */
static int h_take_and_crash(uint64_t n)
{
    message_t m;
    (void)n;
    ipc_receive(ANY, &m);
    *(volatile int *)0 = 1;
    return 0;
}

/* Helper: take one request, keep it n ticks, then answer it (late: nobody waits any more). */
static int h_late_reply(uint64_t n)
{
    message_t m;
    if (ipc_receive(ANY, &m) < 0)
        return 1;
    sleep_ticks(n);
    m.type = TEST_ECHO;
    return ipc_sendnb(m.source, &m) == -E_AGAIN ? 0 : 2;
}

/* Helper: send to endpoint n (blocking), report the result as exit status. */
static int h_send_to(uint64_t n)
{
    message_t m = {.type = TEST_PING};
    int r = ipc_send((endpoint_t)n, &m);
    return r == 0 ? 0 : 100 + (-r % 100);
}

static void t_sendrec(void)
{
    endpoint_t e = spawn_helper("peer", "echo", 100);
    for (uint64_t i = 0; i < 100; i++) {
        message_t m = {.type = TEST_ECHO, .u.w = {i * 7}};
        EXPECT(ipc_sendrec(e, &m), 0);
        EXPECT(m.source, e);
        EXPECT(m.u.w[0], i * 7 + 1);
    }
    expect_clean_exit(e);
}

static void t_send_receive(void)
{
    endpoint_t e = spawn_helper("peer", "recv_send", 42);
    message_t m = {.type = TEST_PING};
    EXPECT(ipc_send(e, &m), 0); /* blocks until the helper receives */
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.source, e);
    EXPECT(m.type, TEST_ECHO);
    EXPECT(m.u.w[0], 42);
    struct death_info d;
    wait_child(e, &d);
    EXPECT(d.code, 0);
}

static void t_receive_specific_then_any(void)
{
    endpoint_t a = spawn_helper("peer", "send_one", 1);
    endpoint_t b = spawn_helper("peer", "send_one", 2);
    message_t m;
    EXPECT(ipc_receive(b, &m), 0); /* b first, although a may have queued first */
    EXPECT(m.source, b);
    EXPECT(m.u.w[0], 2);
    EXPECT(ipc_receive(ANY, &m), 0);
    EXPECT(m.source, a);
    EXPECT(m.u.w[0], 1);
    struct death_info d;
    wait_child(a, &d);
    wait_child(b, &d);
}

static void t_nonblocking(void)
{
    message_t m = {0};
    EXPECT(ipc_receive_nb(ANY, &m), -E_AGAIN);
    endpoint_t e = spawn_helper("peer", "sleep", 20); /* never receives */
    EXPECT(ipc_sendnb(e, &m), -E_AGAIN);
    EXPECT(kcall3(KC_RECEIVE, (uint64_t)ANY, (uint64_t)&m, 0x80), -E_INVAL);
    struct death_info d;
    wait_child(e, &d);
}

static void t_notify(void)
{
    message_t m;
    struct death_info d;
    /* we are blocked receiving from it: delivered at once */
    endpoint_t e = spawn_helper("peer", "notify_send", 1);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.type, MSG_NOTIFY);
    EXPECT(m.source, e);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.type, TEST_PING);
    wait_child(e, &d);
    EXPECT(d.code, 0);
}

static void t_notify_pending(void)
{
    message_t m;
    struct death_info d;
    /* we sleep while it notifies three times: one pending notification */
    endpoint_t e = spawn_helper("peer", "notify_send", 3);
    sleep_ticks(20);
    EXPECT(ipc_receive(e, &m), 0); /* notifications come before messages */
    EXPECT(m.type, MSG_NOTIFY);
    EXPECT(m.source, e);
    EXPECT(ipc_receive(e, &m), 0);
    EXPECT(m.type, TEST_PING);
    wait_child(e, &d);
    /* a dead notifier's pending bit dies with it */
    e = spawn_helper("peer", "notify", 2);
    wait_child(e, &d);
    EXPECT(d.code, 0);
    EXPECT(ipc_receive_nb(ANY, &m), -E_AGAIN);
}

static void t_notify_during_sendrec(void)
{
    /* a notification from the callee does not stand in for its reply */
    endpoint_t e = spawn_helper("peer", "notify_reply", 0);
    message_t m = {.type = TEST_PING};
    EXPECT(ipc_sendrec(e, &m), 0);
    EXPECT(m.type, TEST_ECHO);
    EXPECT(ipc_receive_nb(e, &m), 0); /* it waited, and is delivered now */
    EXPECT(m.type, MSG_NOTIFY);
    struct death_info d;
    wait_child(e, &d);
    EXPECT(d.code, 0);
}

static void t_alarm(void)
{
    uint64_t t0 = sys_uptime();
    message_t m;
    EXPECT(sys_alarm(20), 0);
    EXPECT(ipc_receive(SYSTEM, &m), 0);
    EXPECT(m.type, MSG_NOTIFY);
    CHECK(m.u.notify.bits & NOTIFY_ALARM);
    CHECK(sys_uptime() >= t0 + 20);
    EXPECT(sys_alarm(5), 0);
    EXPECT(sys_alarm(0), 0); /* cancelled */
    sleep_ticks(1);
    sleep_ticks(10);
    EXPECT(ipc_receive_nb(SYSTEM, &m), -E_AGAIN);
}

static void t_dead_endpoint(void)
{
    endpoint_t e = spawn_helper("peer", "echo", 0); /* exits at once */
    struct death_info d;
    wait_child(e, &d);
    message_t m = {0};
    EXPECT(ipc_send(e, &m), -E_DEADEP);
    EXPECT(ipc_sendrec(e, &m), -E_DEADEP);
    EXPECT(ipc_sendnb(e, &m), -E_DEADEP);
    EXPECT(ipc_notify(e), -E_DEADEP);
    EXPECT(ipc_receive(e, &m), -E_DEADEP);
    /* garbage endpoints are a different error */
    EXPECT(ipc_send(0, &m), -E_SRCH);
    EXPECT(ipc_send(-77, &m), -E_SRCH);
    EXPECT(ipc_send(EP_MAKE(EP_MAX_GEN, 5), &m), -E_SRCH);
    EXPECT(ipc_send(0x7fffffff, &m), -E_SRCH);
}

static void t_stale_endpoint(void)
{
    endpoint_t old = spawn_helper("peer", "echo", 0);
    struct death_info d;
    wait_child(old, &d);
    endpoint_t fresh = spawn_helper("peer", "echo", 1); /* takes the lowest free slot */
    EXPECT(EP_SLOT(fresh), EP_SLOT(old));
    CHECK(fresh != old);
    message_t m = {.u.w = {5}};
    EXPECT(ipc_sendrec(old, &m), -E_DEADEP);
    EXPECT(ipc_sendrec(fresh, &m), 0);
    EXPECT(m.u.w[0], 6);
    wait_child(fresh, &d);
}

static void t_dead_while_blocked(void)
{
    /* a blocked sender learns of the receiver's death */
    endpoint_t e = spawn_helper("peer", "sleep", 30);
    message_t m = {0};
    EXPECT(ipc_send(e, &m), -E_DEADEP);
    struct death_info d;
    wait_child(e, &d);
    /* a caller waiting for a reply learns of the callee's death */
    e = spawn_helper("peer", "take_crash", 0);
    EXPECT(ipc_sendrec(e, &m), -E_DEADEP);
    wait_child(e, &d);
    EXPECT(d.cause, DEATH_FAULT);
    EXPECT(d.code, 14);
}

static void wait_blocked_sending(endpoint_t e)
{
    struct proc_info i;
    for (int n = 0; n < 1000; n++) {
        EXPECT(sys_proc_info(e, &i), 0);
        if (i.state & PS_SENDING)
            return;
        sleep_ticks(1);
    }
    CHECK(!"helper never blocked");
}

static void t_cycle(void)
{
    message_t m = {0};
    EXPECT(ipc_send(self_ep, &m), -E_DEADLK);
    EXPECT(ipc_sendrec(self_ep, &m), -E_DEADLK);
    EXPECT(ipc_receive(self_ep, &m), -E_DEADLK);
    /* b is blocked sending to us; our send to b would close the cycle */
    endpoint_t b = spawn_helper("peer", "send_to", (uint64_t)self_ep);
    wait_blocked_sending(b);
    EXPECT(ipc_send(b, &m), -E_DEADLK);
    /* three processes: c -> b -> us; us -> c closes it */
    endpoint_t c = spawn_helper("peer", "send_to", (uint64_t)b);
    wait_blocked_sending(c);
    EXPECT(ipc_send(c, &m), -E_DEADLK);
    EXPECT(ipc_sendrec(c, &m), -E_DEADLK);
    /* release b by taking its message; b exits, so c's send fails */
    EXPECT(ipc_receive(b, &m), 0);
    struct death_info d;
    wait_child(b, &d);
    EXPECT(d.code, 0);
    wait_child(c, &d);
    EXPECT(d.code, 100 + E_DEADEP % 100);
}

static void t_bad_message_pointer(void)
{
    endpoint_t e = spawn_helper("peer", "echo", 1);
    EXPECT(ipc_send(e, (message_t *)0), -E_FAULT);
    EXPECT(ipc_send(e, (message_t *)0xffffffff80100000ull), -E_FAULT);
    EXPECT(ipc_send(e, (message_t *)0x0000800000000000ull), -E_FAULT);
    EXPECT(ipc_receive(ANY, (message_t *)0x400000), -E_FAULT); /* read-only text */
    message_t m = {.u.w = {1}};
    EXPECT(ipc_sendrec(e, &m), 0);
    EXPECT(m.u.w[0], 2);
    struct death_info d;
    wait_child(e, &d);
}

/*
 * A bounded sendrec (KC_SENDREC with ticks): a callee that keeps the request,
 * or never takes it, cannot hold the caller longer than that; the request is
 * withdrawn and a late reply finds nobody. An answer in time is as usual.
 */
static void t_sendrec_bounded(void)
{
    message_t m = {.type = TEST_PING, .u.w = {7}};
    endpoint_t h = spawn_helper("peer", "late_reply", 300);
    uint64_t t0 = sys_uptime();
    EXPECT(ipc_sendrec_bounded(h, &m, 50), -E_TIMEDOUT); /* it holds the request */
    uint64_t waited = sys_uptime() - t0;
    CHECK(waited >= 50 && waited < 250);
    expect_clean_exit(h);                   /* its late sendnb found nobody waiting */
    h = spawn_helper("peer", "sleep", 300); /* never receives */
    EXPECT(ipc_sendrec_bounded(h, &m, 20), -E_TIMEDOUT);
    EXPECT(sys_selfcheck(), 0); /* withdrawn from its queue */
    expect_clean_exit(h);
    h = spawn_helper("peer", "echo", 1);
    EXPECT(ipc_sendrec_bounded(h, &m, 1000), 0); /* an answer in time */
    EXPECT(m.u.w[0], 8);
    expect_clean_exit(h);
    EXPECT(kcall3(KC_SENDREC, (uint64_t)h, (uint64_t)&m, ~0ull), -E_INVAL);
    EXPECT(kcall3(KC_SENDREC, (uint64_t)parent_ep, (uint64_t)&m, 1ull << 62), -E_INVAL);
}

/* The operations (KC_BIT) of e's denials traced since seq, each with us as its target; *n of them.
 */
static uint64_t denials_of(endpoint_t e, uint64_t seq, int64_t *n)
{
    static struct trace_entry t[64];
    int64_t got = sys_trace_read(seq, t, 64);
    uint64_t ops = 0;
    *n = 0;
    for (int64_t i = 0; i < got; i++)
        if (t[i].ep == e && t[i].err == -E_PERM) {
            ++*n;
            ops |= KC_BIT(t[i].op);
            EXPECT(t[i].args[0], (uint64_t)self_ep);
        }
    return ops;
}

/*
 * Helper (manifest unpriv: no IPC targets at all): it may answer a caller
 * that waits in sendrec for it (send or sendnb, not sendrec), and nothing
 * more. Exit status: how many results were wrong.
 */
static int h_reply_rule(uint64_t n)
{
    message_t m;
    int wrong = 0;
    (void)n;
    wrong += ipc_receive(ANY, &m) != 0;
    endpoint_t caller = m.source;
    m.type = 7;
    wrong += ipc_sendrec(caller, &m) != -E_PERM; /* a new request, not an answer */
    wrong += ipc_send(caller, &m) != 0;          /* the answer */
    wrong += ipc_receive(caller, &m) != 0;
    m.type = 8;
    wrong += ipc_sendnb(caller, &m) != 0;       /* the second answer */
    wrong += ipc_sendnb(caller, &m) != -E_PERM; /* answered already: a new message */
    wrong += ipc_notify(caller) != -E_PERM;
    return wrong;
}

/* A process may answer whoever waits in sendrec for it, without a right to send to it. */
static void t_reply_rule(void)
{
    struct sysinfo s0;
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = spawn_helper("unpriv", "reply_rule", 0);
    message_t m = {.type = 1};
    EXPECT(ipc_sendrec(e, &m), 0);
    EXPECT(m.type, 7);
    EXPECT(m.source, e);
    m.type = 2;
    EXPECT(ipc_sendrec(e, &m), 0);
    EXPECT(m.type, 8);
    expect_clean_exit(e);
    /* its three refusals are traced, each naming the operation and us as the target */
    int64_t mine;
    EXPECT(denials_of(e, s0.trace_seq, &mine),
           KC_BIT(KC_SENDREC) | KC_BIT(KC_SENDNB) | KC_BIT(KC_NOTIFY));
    EXPECT(mine, 3);
    EXPECT(sys_priv_ipc(e, self_ep, 1), -E_PERM); /* rs's call alone */
}

/*
 * Helper (unpriv: no IPC targets): a server loop with KC_REPLY_RECEIVE. Each
 * answer goes to the caller waiting in sendrec and the next request comes in
 * the same call; a bad buffer is refused before anything moves (the caller
 * still waits and gets the answer after); an answer to a caller that no
 * longer waits for one is refused. Exit status: how many results were wrong.
 */
static int h_reply_receive(uint64_t n)
{
    message_t m;
    int wrong = 0;
    (void)n;
    wrong += ipc_receive(ANY, &m) != 0;
    endpoint_t caller = m.source;
    m.type = 7;
    wrong += ipc_reply_receive(caller, &m) != 0; /* answer 1, then request 2 */
    wrong += m.source != caller || m.type != 2;
    m.type = 8;
    wrong += ipc_reply_receive(caller, (message_t *)0x400000) != -E_FAULT; /* read-only text */
    wrong += ipc_reply_receive(caller, (message_t *)0) != -E_FAULT;
    wrong += ipc_reply_receive(caller, (message_t *)0x0000800000000000ull) != -E_FAULT;
    wrong += ipc_reply_receive(caller, &m) != 0; /* answer 2 (the caller still waited) */
    wrong += m.source != caller || m.type != 3;
    m.type = 9;
    wrong += ipc_sendnb(caller, &m) != 0;              /* answer 3 */
    wrong += ipc_reply_receive(caller, &m) != -E_PERM; /* answered: a new message, refused */
    wrong += ipc_reply_receive(self_ep, &m) != -E_DEADLK;
    return wrong;
}

static void t_reply_receive(void)
{
    struct sysinfo s0;
    EXPECT(sys_sysinfo(&s0), 0);
    endpoint_t e = spawn_helper("unpriv", "reply_receive", 0);
    for (int i = 1; i <= 3; i++) {
        message_t m = {.type = i, .u.w = {(uint64_t)i * 11}};
        EXPECT(ipc_sendrec(e, &m), 0);
        EXPECT(m.source, e);
        EXPECT(m.type, 6 + i);
        EXPECT(m.u.w[0], (uint64_t)i * 11); /* the request's body came back whole */
    }
    expect_clean_exit(e);
    /* one denial traced (the answer to nobody waiting); bad buffers are no denials */
    int64_t denied;
    EXPECT(denials_of(e, s0.trace_seq, &denied), KC_BIT(KC_REPLY_RECEIVE));
    EXPECT(denied, 1);
    /* a process we may reach that waits for no answer: E_AGAIN, nothing received */
    message_t m = {0};
    e = spawn_helper("peer", "sleep", 20);
    EXPECT(ipc_reply_receive(e, &m), -E_AGAIN);
    expect_clean_exit(e);
    EXPECT(ipc_reply_receive(e, &m), -E_DEADEP);
    EXPECT(ipc_reply_receive(0, &m), -E_SRCH);
    EXPECT(sys_selfcheck(), 0);
}

/*
 * Helper (memdrv): a message buffer whose page is unmapped, protected or
 * replaced between two calls. The kernel caches the buffer's translation; a
 * stale one would write into a freed frame (maybe the one mapped next) and
 * answer 0. Notifications to itself are the messages. Exit status: the
 * first check that failed.
 */
static int h_stale_buffer(uint64_t n)
{
    const uint64_t va = 0x10000000, other = 0x20000000;
    message_t *buf = (message_t *)(va + 64), good;
    volatile uint64_t *pattern = (volatile uint64_t *)other;
    (void)n;
    if (sys_mem_map(SELF, va, 4096, PROT_R | PROT_W) != 0 || ipc_notify(self_ep) != 0 ||
        ipc_receive_nb(ANY, buf) != 0 || buf->type != MSG_NOTIFY)
        return 1; /* the translation is cached now */
    if (sys_mem_unmap(SELF, va, 4096) != 0 || sys_mem_map(SELF, other, 4096, PROT_R | PROT_W) != 0)
        return 2; /* the freed frame may well be the one mapped at other */
    for (int i = 0; i < 512; i++)
        pattern[i] = 0xa5a5a5a5a5a5a5a5ull;
    if (ipc_notify(self_ep) != 0 || ipc_receive_nb(ANY, buf) != -E_FAULT)
        return 3;
    for (int i = 0; i < 512; i++)
        if (pattern[i] != 0xa5a5a5a5a5a5a5a5ull)
            return 4;
    if (ipc_receive_nb(ANY, &good) != 0 || good.type != MSG_NOTIFY) /* nothing was lost */
        return 5;
    /* made read-only: no write through the cached writable translation */
    if (sys_mem_map(SELF, va, 4096, PROT_R | PROT_W) != 0 || ipc_notify(self_ep) != 0 ||
        ipc_receive_nb(ANY, buf) != 0 || sys_mem_protect(SELF, va, 4096, PROT_R) != 0 ||
        ipc_notify(self_ep) != 0 || ipc_receive_nb(ANY, buf) != -E_FAULT ||
        ipc_receive_nb(ANY, &good) != 0)
        return 6;
    /* replaced by a new page at the same address: the message lands in the new page */
    if (sys_mem_unmap(SELF, va, 4096) != 0 || sys_mem_map(SELF, va, 4096, PROT_R | PROT_W) != 0 ||
        buf->type != 0 || ipc_notify(self_ep) != 0 || ipc_receive_nb(ANY, buf) != 0 ||
        buf->type != MSG_NOTIFY || buf->source != self_ep)
        return 7;
    return 0;
}

static void t_stale_buffer(void)
{
    run_helper("memdrv", "stale_buffer", 0);
}

const struct test ipc_tests[] = {
    {"ipc_sendrec_bounded", t_sendrec_bounded},
    {"ipc_sendrec", t_sendrec},
    {"ipc_send_receive", t_send_receive},
    {"ipc_receive_specific_then_any", t_receive_specific_then_any},
    {"ipc_nonblocking", t_nonblocking},
    {"ipc_notify", t_notify},
    {"ipc_notify_pending", t_notify_pending},
    {"ipc_notify_during_sendrec", t_notify_during_sendrec},
    {"ipc_alarm", t_alarm},
    {"ipc_dead_endpoint", t_dead_endpoint},
    {"ipc_stale_endpoint", t_stale_endpoint},
    {"ipc_dead_while_blocked", t_dead_while_blocked},
    {"ipc_cycle", t_cycle},
    {"ipc_bad_message_pointer", t_bad_message_pointer},
    {"ipc_reply_rule", t_reply_rule},
    {"ipc_reply_receive", t_reply_receive},
    {"ipc_stale_buffer", t_stale_buffer},
    {0, 0},
};

const struct khelper ipc_helpers[] = {
    {"echo", h_echo},
    {"recv_send", h_recv_then_send},
    {"send_one", h_send_one},
    {"notify", h_notify},
    {"sleep", h_sleep},
    {"take_crash", h_take_and_crash},
    {"send_to", h_send_to},
    {"late_reply", h_late_reply},
    {"notify_send", h_notify_send},
    {"notify_reply", h_notify_then_reply},
    {"reply_rule", h_reply_rule},
    {"reply_receive", h_reply_receive},
    {"stale_buffer", h_stale_buffer},
    {0, 0},
};
