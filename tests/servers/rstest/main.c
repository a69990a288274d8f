/*
 * rstest: how rs notices failures other than death, its policies, and who
 * may ask it what. Boot with root, ds, pci, demo (heartbeat 100 ms, denial
 * limit 64), crashy (the demo program dying at start-up, back-off, limit 6),
 * rstest, rsother, slowstart and slowhung (demo computing in its start-up).
 * Each test prints "TEST rs.NAME PASS|FAIL"; the last line is "rstest: N
 * passed, M failed"; then QEMU exits.
 *
 * The same program plays two other parts, chosen by its argument:
 *   helper  a child spawned with ROOT_SPAWN (manifest rshelper: no `manage`,
 *           not a service): sends rs what only others may send;
 *   other   the service rsother (this image under that name, restart
 *           never): a service that does not depend on demo;
 *   driver  a child spawned with manifest rsdriver: IPC to demo only.
 */
#include <samsara/fs.h>
#include <samsara/pci.h>
#include <samsara/root.h>
#include "sys.h"
#define TEST_LEAVE return /* a failed check fails the test and leaves it */
#include "test/test.h"

static char *strstr(const char *h, const char *n)
{
    for (; *h; h++)
        if (!strncmp(h, n, strlen(n)))
            return (char *)h;
    return 0;
}

static char buf[64];

static endpoint_t lookup(const char *label)
{
    return root_lookup(label);
}

static endpoint_t wait_up(const char *label)
{
    endpoint_t ep;
    uint64_t until = sys_uptime() + 5000;
    while ((ep = lookup(label)) < 0 && sys_uptime() < until)
        ;
    return ep;
}

static uint64_t restarts(const char *label)
{
    struct root_stats_reply st;
    return root_service(SVC_STATS, label, &st) == 0 ? st.restarts : ~0ull;
}

/* A CDEV request to demo: the driver's answer, or -1 if it died meanwhile. */
static int64_t demo_io(int type, const char *text)
{
    endpoint_t ep = wait_up("demo");
    uint64_t len = text ? strlen(text) : sizeof(buf);
    if (text)
        strncpy_s(buf, text, sizeof(buf));
    grant_id_t g = grant_alloc(ep, buf, sizeof(buf), GRANT_READ | GRANT_WRITE);
    message_t m = {.type = type, .u.cdev.rw = {.id = 7, .grant = g, .len = len}};
    int r = ipc_sendrec(ep, &m);
    grant_free(g);
    return r < 0 ? -1 : m.u.cdev.reply.result;
}

static void sleep_ms(uint64_t ms)
{
    message_t m;
    uint64_t until = sys_uptime() + ms;
    for (uint64_t now; (now = sys_uptime()) < until;) { /* (a child's death also wakes us) */
        sys_alarm(until - now);
        ipc_receive(SYSTEM, &m);
    }
}

static void t_hang_detected(void)
{
    uint64_t before = restarts("demo"), t0 = sys_uptime();
    CHECK(demo_io(CDEV_READ, 0) > 0);
    CHECK(demo_io(CDEV_WRITE, "hang") == -1); /* it never answers: rs kills it */
    uint64_t took = sys_uptime() - t0;
    printf("rs.hang: detected and replaced after %lu ms (heartbeat period 100 ms)\n", took);
    CHECK(took <= 2 * 100 + 50); /* within two periods, and rs's 10 ms tick */
    CHECK(wait_up("demo") > 0 && restarts("demo") == before + 1);
    CHECK(demo_io(CDEV_READ, 0) > 0);
}

static void t_busy_is_not_hung(void)
{
    uint64_t before = restarts("demo"), t0 = sys_uptime(), n = 0;
    while (sys_uptime() - t0 < 10000) { /* 10 s of back-to-back 80 ms computations */
        CHECK(demo_io(CDEV_WRITE, "busy 80") == 7);
        n++;
    }
    struct root_stats_reply st = {0};
    root_service(SVC_STATS, "demo", &st);
    printf("rs.busy: %lu requests of 80 ms over 10 s, %lu restarts, slowest heartbeat answer "
           "%lu ms (period 100)\n",
           n, restarts("demo") - before, st.slowest_answer_ms);
    CHECK(restarts("demo") == before);
}

static void t_request_in_flight(void)
{
    /* a request the driver is working on when it is declared hung: an error, never a hang */
    uint64_t before = restarts("demo");
    CHECK(demo_io(CDEV_WRITE, "busy 400") == -1); /* over two periods: killed meanwhile */
    CHECK(wait_up("demo") > 0 && restarts("demo") == before + 1);
    int64_t v = demo_io(CDEV_READ, 0);
    CHECK(v > 0); /* and the next one works */
}

static void t_denials_fail_it(void)
{
    uint64_t before = restarts("demo");
    demo_io(CDEV_WRITE, "violate 100"); /* it may die before it answers */
    CHECK(wait_up("demo") > 0);
    sleep_ms(50);
    CHECK(restarts("demo") == before + 1);
}

static void t_complaint(void)
{
    CHECK(wait_up("demo") > 0);
    uint64_t before = restarts("demo");
    int r = root_complain("demo", 0);
    if (r != 0)
        printf("rs.complaint: refused with %d\n", r);
    CHECK(r == 0);
    CHECK(wait_up("demo") > 0);
    sleep_ms(20);
    CHECK(restarts("demo") == before + 1);
    EXPECT(root_complain("nosuch", 0), -E_SRCH);
}

static void t_crash_at_start(void)
{
    struct root_stats_reply st = {0};
    uint64_t t0 = sys_uptime();
    while (sys_uptime() - t0 < 5000 &&
           (root_service(SVC_STATS, "crashy", &st) != 0 || st.state != SVC_STATE_DOWN))
        sleep_ms(20);
    printf("rs.crashy: down after %lu restarts, %lu ms after this test began\n", st.restarts,
           sys_uptime() - t0);
    CHECK(st.state == SVC_STATE_DOWN && st.restarts == 6);
    /* the log shows the delays growing: 1, 2, 4 ... ms, then "down" */
    uint64_t expect = 1;
    int downs = 0;
    char line[ROOT_LINE_MAX + 1];
    for (uint64_t i = 0; i < 64 && root_log_line(i, line) > 0; i++) {
        if (!strstr(line, "crashy"))
            continue;
        const char *in = strstr(line, "restart in ");
        if (in) {
            uint64_t ms = 0;
            for (in += 11; *in >= '0' && *in <= '9'; in++)
                ms = ms * 10 + (uint64_t)(*in - '0');
            CHECK(ms == expect);
            expect *= 2;
        }
        downs += strstr(line, "down") != 0;
    }
    CHECK(expect == 64 && downs == 1); /* six growing delays, then down once */
}

static void t_admin_errors(void)
{
    EXPECT(root_service(SVC_KILL, "nosuch", 0), -E_SRCH);
    EXPECT(root_service(99, "demo", 0), -E_INVAL);
    /* down stays down; up brings it back */
    EXPECT(root_service(SVC_DOWN, "demo", 0), 0);
    sleep_ms(50);
    CHECK(lookup("demo") < 0);
    EXPECT(root_service(SVC_UP, "demo", 0), 0);
    CHECK(wait_up("demo") > 0 && demo_io(CDEV_READ, 0) > 0);
}

/* ---- who may send what (docs/REINCARNATION.md) ---- */

/*
 * Does rs's event log have a line with both a and b? A line comes cut to
 * ROOT_LINE_MAX bytes, its text after 22 of time and label: b must fit in 26.
 */
static int logged(const char *a, const char *b)
{
    char line[ROOT_LINE_MAX + 1];
    for (uint64_t i = 0; i < 64 && root_log_line(i, line) > 0; i++)
        if (strstr(line, a) && strstr(line, b))
            return 1;
    return 0;
}

/*
 * One request built by hand, to rs: the reply's result; an IPC error, or a
 * reply of a type other than `type`, gives a value rs never answers.
 */
static int64_t call_for(message_t *m, int32_t type)
{
    int r = ipc_sendrec(ROOT_EP, m);
    return r < 0 ? r - 10000 : m->type != type ? -20000 : m->u.reply.result;
}

static int64_t root_call(message_t *m)
{
    return call_for(m, ROOT_REPLY);
}

/* A /dev/service command sent straight to rs, as vfs would forward it: the reply's result. */
static int64_t cdev_command(const char *text)
{
    static char line[64];
    strncpy_s(line, text, sizeof(line));
    grant_id_t g = grant_alloc(ROOT_EP, line, strlen(line), GRANT_READ);
    message_t m = {.type = CDEV_WRITE, .u.cdev.rw = {.id = 1, .grant = g, .len = strlen(line)}};
    int64_t r = call_for(&m, CDEV_REPLY);
    grant_free(g);
    return r;
}

/*
 * The checks a process that is neither vfs nor a manager nor a service
 * makes: bit n failed. It may reach rs (bit 6: anyone may look up), so each
 * E_PERM is rs's refusal, not the kernel's.
 */
static uint64_t outsider_checks(void)
{
    uint64_t fails = 0;
    grant_id_t g;
    uint64_t size;
    fails |= (uint64_t)(root_service(SVC_KILL, "demo", 0) != -E_PERM) << 0;
    fails |= (uint64_t)(cdev_command("kill demo") != -E_PERM) << 1;
    fails |= (uint64_t)(root_complain("demo", 0) != -E_PERM) << 2;
    fails |= (uint64_t)(root_ready(0, 0) != -E_PERM) << 3;
    fails |= (uint64_t)(root_module("manifests", &g, &size) != -E_PERM) << 4;
    fails |= (uint64_t)(root_spawn("rstest", "rshelper", "helper") != -E_PERM) << 5;
    fails |= (uint64_t)(lookup("demo") <= 0) << 6;
    return fails;
}

static _Noreturn void helper_main(void)
{
    message_t m = {.type = TEST_HELPER_DONE, .u.w = {outsider_checks()}};
    ipc_send(parent_ep, &m);
    sys_exit(0);
    for (;;)
        ;
}

/* rsother: a service whose manifest names only rs and rstest: it does not depend on demo. */
static _Noreturn void other_main(void)
{
    endpoint_t rstest = wait_up("rstest");
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0 || service_handle(&m))
            continue; /* rs's save request answered: a planned stop */
        if (m.source != rstest || m.type != TEST_OTHER_GO)
            continue;
        uint64_t fails = 0;
        fails |= (uint64_t)(root_complain("demo", 0) != -E_PERM) << 0;
        message_t c = {.type = ROOT_SAVED}; /* nobody asked: ignored */
        fails |= (uint64_t)(ipc_send(ROOT_EP, &c) != 0) << 1;
        grant_id_t g;
        uint64_t size;
        for (int i = 0; i < 100; i++) /* a service may borrow a data module, again and again */
            fails |= (uint64_t)(root_module("manifests", &g, &size) < 0) << 2;
        /* but only one its manifest names: not the one with /etc/shadow, nor learn what exists */
        fails |= (uint64_t)(root_module("initramfs.cpio", &g, &size) != -E_PERM) << 3;
        fails |= (uint64_t)(root_module("no-such-module", &g, &size) != -E_PERM) << 4;
        c = (message_t){.type = TEST_HELPER_DONE, .u.w = {fails}};
        ipc_send(rstest, &c);
    }
}

/*
 * rsdriver: a driver-like helper whose manifest names only rs, its parent
 * and demo. For each TEST_OTHER_GO from rstest (w0: an endpoint demo had
 * before, or 0): demo answers it (by the reply rule: demo names no rsdriver),
 * the kernel refuses its request and its notification to ds, and demo's old
 * endpoint is dead. Answers TEST_HELPER_DONE with the failed checks (bits).
 */
static _Noreturn void driver_main(void)
{
    for (;;) {
        message_t m;
        if (ipc_receive(parent_ep, &m) < 0 || m.type != TEST_OTHER_GO)
            continue;
        endpoint_t old = (endpoint_t)m.u.w[0], demo = lookup("demo"), ds = lookup("ds");
        uint64_t fails = 0;
        m = (message_t){.type = CDEV_READ, .u.w = {0, 1, 0, 16, 0}}; /* refused, but answered */
        fails |= (uint64_t)(demo <= 0 || ipc_sendrec(demo, &m) != 0 || m.source != demo) << 0;
        m = (message_t){.type = TEST_OTHER_GO};
        fails |= (uint64_t)(ds <= 0 || ipc_sendrec(ds, &m) != -E_PERM) << 1;
        fails |= (uint64_t)(ipc_notify(ds) != -E_PERM) << 2;
        fails |= (uint64_t)(old && ipc_sendrec(old, &m) != -E_DEADEP) << 3;
        m = (message_t){.type = TEST_HELPER_DONE, .u.w = {fails}};
        ipc_send(parent_ep, &m);
    }
}

/*
 * IPC by label: rsdriver reaches demo, which its manifest names, and not ds,
 * which it does not; each refusal is a kernel denial. After demo restarts
 * (a new endpoint), rs has given rsdriver the right to the new instance.
 */
static void t_ipc_by_label(void)
{
    endpoint_t demo = wait_up("demo"), before = 0;
    CHECK(demo > 0);
    endpoint_t driver = root_spawn("rstest", "rsdriver", "driver");
    CHECK(driver > 0);
    message_t m;
    for (uint64_t round = 1; round <= 2; round++) {
        struct proc_info info;
        m = (message_t){.type = TEST_OTHER_GO, .u.w = {(uint64_t)before}};
        CHECK(ipc_send(driver, &m) == 0);
        CHECK(ipc_receive(driver, &m) == 0 && m.type == TEST_HELPER_DONE);
        if (m.u.w[0])
            printf("rs.ipc_by_label: round %lu: checks failed (bits) 0x%lx\n", round, m.u.w[0]);
        CHECK(m.u.w[0] == 0);
        CHECK(sys_proc_info(driver, &info) == 0 && info.denied == 2 * round);
        if (round == 2)
            break;
        EXPECT(root_service(SVC_RESTART, "demo", 0), 0);
        uint64_t until = sys_uptime() + 3000;
        while ((lookup("demo") == demo || lookup("demo") < 0) && sys_uptime() < until)
            sleep_ms(5);
        before = demo;
        demo = lookup("demo");
        CHECK(demo > 0 && demo != before);
    }
    struct death_info d;
    CHECK(sys_proc_kill(driver) == 0);
    for (int i = 0; sys_proc_reap(&d) != driver && i < 100; i++)
        sleep_ms(10);
}

static void t_cdev_only_from_vfs(void)
{
    CHECK(wait_up("demo") > 0);
    uint64_t before = restarts("demo");
    CHECK(cdev_command("kill demo") == -E_PERM); /* rstest may manage, but it is not vfs */
    CHECK(cdev_command("list") == -E_PERM);
    message_t m = {.type = CDEV_READ, .u.cdev.rw = {.id = 1, .grant = 0, .len = 16}};
    CHECK(call_for(&m, CDEV_REPLY) == -E_PERM); /* in the protocol it came in */
    sleep_ms(50);
    CHECK(restarts("demo") == before && lookup("demo") > 0);
    CHECK(logged("rstest", "refused /dev/service write"));
}

static void t_outsider_refused(void)
{
    CHECK(wait_up("demo") > 0);
    uint64_t before = restarts("demo");
    endpoint_t helper = root_spawn("rstest", "rshelper", "helper");
    CHECK(helper > 0);
    message_t m;
    CHECK(ipc_receive(helper, &m) == 0 && m.type == TEST_HELPER_DONE);
    if (m.u.w[0])
        printf("rs.outsider: checks failed (bits) 0x%lx\n", m.u.w[0]);
    CHECK(m.u.w[0] == 0);
    struct death_info d;
    for (int i = 0; sys_proc_reap(&d) != helper && i < 100; i++)
        sleep_ms(10);
    sleep_ms(50);
    CHECK(restarts("demo") == before);
    CHECK(logged("rshelper", "refused complaint"));
}

static void t_spawn_manifests(void)
{
    /* a manager may not take a service's manifest (demo's, ds's) */
    EXPECT(root_spawn("rstest", "demo", "helper"), -E_PERM);
    EXPECT(root_spawn("rstest", "ds", "helper"), -E_PERM);
    /* strings that are not NUL-terminated are refused, never read past */
    message_t m = {.type = ROOT_SPAWN};
    memset(m.u.b, 'a', sizeof(m.u.b));
    CHECK(root_call(&m) == -E_INVAL);
    m = (message_t){.type = ROOT_LOOKUP};
    memcpy(m.u.root.label.label, "demodemodemodemo", ROOT_LABEL_MAX);
    CHECK(root_call(&m) == -E_INVAL);
    m = (message_t){.type = ROOT_COMPLAIN};
    memcpy(m.u.root.label.label, "demodemodemodemo", ROOT_LABEL_MAX);
    CHECK(root_call(&m) == -E_SRCH);
    m = (message_t){.type = ROOT_SERVICE, .u.root.service.op = SVC_STATS};
    memcpy(m.u.root.service.label, "demodemodemodemo", ROOT_LABEL_MAX);
    CHECK(root_call(&m) == -E_SRCH);
    m = (message_t){.type = ROOT_SERVICE, .u.root.service = {.op = SVC_LOG, .line = ~0ull}};
    CHECK(root_call(&m) == 0);                    /* no such line */
    m = (message_t){.type = ROOT_RQ_BASE + 0x77}; /* no such request: the one reply convention */
    CHECK(root_call(&m) == -E_NOSYS);
}

static void t_complaint_needs_dependent(void)
{
    endpoint_t other = wait_up("rsother");
    CHECK(other > 0 && wait_up("demo") > 0);
    uint64_t before = restarts("demo");
    message_t m = {.type = TEST_OTHER_GO};
    CHECK(ipc_send(other, &m) == 0);
    CHECK(ipc_receive(other, &m) == 0 && m.type == TEST_HELPER_DONE);
    if (m.u.w[0])
        printf("rs.complaint: rsother's checks failed (bits) 0x%lx\n", m.u.w[0]);
    CHECK(m.u.w[0] == 0);
    sleep_ms(50);
    CHECK(restarts("demo") == before && lookup("demo") > 0);
    CHECK(logged("rsother", "refused complaint"));
    CHECK(logged("rsother", "refused saved"));
    CHECK(logged("rsother", "refused module")); /* a module its manifest does not name */
    /* nor against a service that would not come back, even from a dependent (rsother: never) */
    endpoint_t never = lookup("rsother");
    EXPECT(root_complain("rsother", 0), -E_PERM);
    sleep_ms(20);
    CHECK(never > 0 && lookup("rsother") == never);
}

static void t_force(void)
{
    /* rsother would not come back (restart never): only forced */
    endpoint_t other = wait_up("rsother");
    EXPECT(root_service(SVC_KILL, "rsother", 0), -E_PERM);
    EXPECT(root_service(SVC_DOWN, "rsother", 0), -E_PERM);
    sleep_ms(20);
    CHECK(lookup("rsother") == other);
    /* a forced restart brings it back, whatever its policy */
    EXPECT(root_service(SVC_RESTART | SVC_FORCE, "rsother", 0), 0);
    uint64_t until = sys_uptime() + 3000;
    while ((lookup("rsother") == other || lookup("rsother") < 0) && sys_uptime() < until)
        sleep_ms(5);
    CHECK(lookup("rsother") > 0 && lookup("rsother") != other);
    CHECK(restarts("rsother") == 1);
    /* a forced kill: it stays down, as its policy says */
    EXPECT(root_service(SVC_KILL | SVC_FORCE, "rsother", 0), 0);
    sleep_ms(50);
    CHECK(lookup("rsother") < 0);
}

/*
 * rstest is restart never and has a heartbeat period it never answers: rs
 * logs the silence and leaves it running (killing it would help nobody).
 * First, while the log entry is still in rs's 64-entry log.
 */
static void t_restart_never_silence_logged(void)
{
    int seen = 0;
    for (int i = 0; i < 20 && !(seen = logged("rstest", "heartbeat missed (left")); i++)
        sleep_ms(50);
    CHECK(seen);
    CHECK(lookup("rstest") > 0); /* still up, still a service */
}

/*
 * Only rs may ask the pci server to quiesce a driver's devices (it would
 * stop a running driver's DMA): rstest is refused, the refusal is logged
 * (tools/suite_rs.py reads it), and the server answers what it does not know.
 */
static void t_pci_quiesce_only_rs(void)
{
    endpoint_t pci = wait_up("pci");
    CHECK(pci > 0);
    message_t m = {.type = PCI_QUIESCE};
    m.u.pci.quiesce.driver = lookup("demo");
    m.u.pci.quiesce.nr_ids = 1;
    m.u.pci.quiesce.ids[0] = (struct pci_id){0x8086, 0x2922};
    strncpy_s(m.u.pci.quiesce.label, "demo", sizeof(m.u.pci.quiesce.label));
    CHECK(ipc_sendrec(pci, &m) == 0 && m.type == PCI_REPLY);
    CHECK(m.u.pci.quiesce_reply.result == -E_PERM && m.u.pci.quiesce_reply.quiesced == 0);
    m = (message_t){.type = PCI_RQ_BASE + 0x77};
    CHECK(ipc_sendrec(pci, &m) == 0 && m.type == PCI_REPLY && m.u.reply.result == -E_NOSYS);
}

/* ---- rs's start-up grace (servers/root/service.c: START_GRACE_MS, 1 s) ---- */

/* rs's stats for label once it is in state (or after 8 s, whatever its state then). */
static struct root_stats_reply stats_in(const char *label, uint64_t state)
{
    struct root_stats_reply st = {0};
    uint64_t until = sys_uptime() + 8000;
    while (sys_uptime() < until && (root_service(SVC_STATS, label, &st) != 0 || st.state != state))
        sleep_ms(20);
    return st;
}

/*
 * slowstart (tools/suite_rs.py) computes 500 ms in its start-up with a 100 ms heartbeat: no
 * answer for five periods, but before ROOT_READY rs waits START_GRACE_MS. Never restarted; it
 * answers a read (its sendrec would fail had rs killed it). Without the grace it is killed twice
 * and down (restart_limit 1).
 */
static void t_slow_start_within_grace(void)
{
    endpoint_t ep = wait_up("slowstart");
    CHECK(ep > 0);
    message_t m = {.type = CDEV_READ, .u.w = {0, 1, 0, 16, 0}}; /* answered once it is ready */
    int r = ipc_sendrec(ep, &m);
    struct root_stats_reply st = stats_in("slowstart", SVC_STATE_UP);
    printf("rs.slow_start: read answered %d, restarts %lu, state %lu\n", r, st.restarts, st.state);
    CHECK(r == 0 && m.source == ep);
    CHECK(st.restarts == 0 && st.state == SVC_STATE_UP && lookup("slowstart") == ep);
}

/*
 * slowhung computes 3 s in its start-up: the grace is bounded, so rs kills it as hung (after
 * 1 s), restarts it once, kills it again, and leaves it down. Had rs waited for its ROOT_READY,
 * it would be up after 3 s, never restarted.
 */
static void t_slow_start_beyond_grace_killed(void)
{
    struct root_stats_reply st = stats_in("slowhung", SVC_STATE_DOWN);
    printf("rs.slow_hung: restarts %lu, state %lu\n", st.restarts, st.state);
    CHECK(st.state == SVC_STATE_DOWN && st.restarts == 1);
}

static const struct test tests[] = {
    {"restart_never_silence_logged", t_restart_never_silence_logged},
    {"hang_detected_within_two_periods", t_hang_detected},
    {"busy_is_not_hung", t_busy_is_not_hung},
    {"request_in_flight_fails_then_works", t_request_in_flight},
    {"denials_over_limit_restart", t_denials_fail_it},
    {"complaint_restarts", t_complaint},
    {"crash_at_start_backoff_then_down", t_crash_at_start},
    {"admin_requests", t_admin_errors},
    {"cdev_only_from_vfs", t_cdev_only_from_vfs},
    {"outsider_refused", t_outsider_refused},
    {"spawn_manifests_and_garbage", t_spawn_manifests},
    {"complaint_only_from_dependent", t_complaint_needs_dependent},
    {"ipc_by_label_follows_restarts", t_ipc_by_label},
    {"force_for_restart_never", t_force},
    {"pci_quiesce_only_rs", t_pci_quiesce_only_rs},
    {"slow_start_within_grace", t_slow_start_within_grace},
    {"slow_start_beyond_grace_killed", t_slow_start_beyond_grace_killed},
    {0},
};

static const struct test_suite rs_suite = {.program = "rstest", .prefix = "rs.", .tests = tests};

int main(uint64_t arg)
{
    const char *part = (const char *)arg;
    while (*part == ' ')
        part++;
    if (!strncmp(part, "helper", 6))
        helper_main();
    if (!strncmp(part, "other", 5))
        other_main();
    if (!strncmp(part, "driver", 6))
        driver_main();
    return test_main(&rs_suite, part);
}
