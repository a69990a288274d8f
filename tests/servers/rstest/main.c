/*
 * rstest: how rs notices failures other than death, and its policies.
 * Boot with root, demo (heartbeat 100 ms, denial limit 64), crashy (the
 * demo program dying at start-up, back-off, limit 6) and rstest. Each test
 * prints "TEST rs.NAME PASS|FAIL"; the last line is "rstest: N passed,
 * M failed"; then QEMU exits.
 */
#include <samsara/fs.h>
#include <samsara/root.h>
#include "sys.h"

static char *strstr(const char *h, const char *n)
{
    for (; *h; h++)
        if (!strncmp(h, n, strlen(n)))
            return (char *)h;
    return 0;
}

static const char *current = "?";
static int failed_here;
static char buf[64];

#define CHECK(c)                                                                        \
    do {                                                                                \
        if (!(c)) {                                                                     \
            printf("FAIL rs.%s: line %d: %s\n", current, __LINE__, #c);                 \
            failed_here = 1;                                                            \
            return;                                                                     \
        }                                                                               \
    } while (0)

static endpoint_t lookup(const char *label)
{
    message_t m = {.type = ROOT_LOOKUP};
    strncpy_s((char *)m.u.b, label, 16);
    return ipc_sendrec(ROOT_EP, &m) < 0 ? -E_SRCH : m.type;
}

static endpoint_t wait_up(const char *label)
{
    endpoint_t ep;
    uint64_t until = sys_uptime() + 5000;
    while ((ep = lookup(label)) < 0 && sys_uptime() < until)
        ;
    return ep;
}

static int64_t stats(const char *label, message_t *m)
{
    *m = (message_t){.type = ROOT_SERVICE, .u.w = {SVC_STATS}};
    strncpy_s((char *)m->u.b + 8, label, 16);
    return ipc_sendrec(ROOT_EP, m) < 0 ? -1 : m->type;
}

static uint64_t restarts(const char *label)
{
    message_t m;
    return stats(label, &m) == 0 ? m.u.w[1] : ~0ull;
}

/* A CDEV request to demo: the driver's answer, or -1 if it died meanwhile. */
static int64_t demo_io(int type, const char *text)
{
    endpoint_t ep = wait_up("demo");
    uint64_t len = text ? strlen(text) : sizeof(buf);
    if (text)
        strncpy_s(buf, text, sizeof(buf));
    grant_id_t g = grant_alloc(ep, buf, sizeof(buf), GRANT_READ | GRANT_WRITE);
    message_t m = {.type = type, .u.w = {0, 7, (uint64_t)g, len, 0}};
    int r = ipc_sendrec(ep, &m);
    grant_free(g);
    return r < 0 ? -1 : (int64_t)m.u.w[0];
}

static void sleep_ms(uint64_t ms)
{
    message_t m;
    sys_alarm(ms);
    ipc_receive(SYSTEM, &m);
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
    message_t m;
    stats("demo", &m);
    printf("rs.busy: %lu requests of 80 ms over 10 s, %lu restarts, slowest heartbeat answer "
           "%lu ms (period 100)\n", n, restarts("demo") - before, m.u.w[6]);
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
    message_t m = {.type = ROOT_COMPLAIN};
    strncpy_s((char *)m.u.b, "demo", 16);
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0);
    if (m.type != 0)
        printf("rs.complaint: refused with %d\n", m.type);
    CHECK(m.type == 0);
    CHECK(wait_up("demo") > 0);
    sleep_ms(20);
    CHECK(restarts("demo") == before + 1);
    strncpy_s((char *)m.u.b, "nosuch", 16);
    m.type = ROOT_COMPLAIN;
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0 && m.type == -E_SRCH);
}

static void t_crash_at_start(void)
{
    message_t m;
    uint64_t t0 = sys_uptime();
    while (sys_uptime() - t0 < 5000 && (stats("crashy", &m) != 0 || m.u.w[5] != SVC_STATE_DOWN))
        sleep_ms(20);
    printf("rs.crashy: down after %lu restarts, %lu ms after this test began\n", m.u.w[1],
           sys_uptime() - t0);
    CHECK(m.u.w[5] == SVC_STATE_DOWN && m.u.w[1] == 6);
    /* the log shows the delays growing: 1, 2, 4 ... ms, then "down" */
    uint64_t expect = 1;
    int downs = 0;
    for (uint64_t i = 0; i < 64; i++) {
        message_t l = {.type = ROOT_SERVICE, .u.w = {SVC_LOG, i}};
        if (ipc_sendrec(ROOT_EP, &l) < 0 || l.type <= 0)
            break;
        char line[56];
        memcpy(line, l.u.b, (size_t)l.type);
        line[l.type] = 0;
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
    message_t m = {.type = ROOT_SERVICE, .u.w = {SVC_KILL}};
    strncpy_s((char *)m.u.b + 8, "nosuch", 16);
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0 && m.type == -E_SRCH);
    m = (message_t){.type = ROOT_SERVICE, .u.w = {99}};
    strncpy_s((char *)m.u.b + 8, "demo", 16);
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0 && m.type == -E_INVAL);
    /* down stays down; up brings it back */
    m = (message_t){.type = ROOT_SERVICE, .u.w = {SVC_DOWN}};
    strncpy_s((char *)m.u.b + 8, "demo", 16);
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0 && m.type == 0);
    sleep_ms(50);
    CHECK(lookup("demo") < 0);
    m = (message_t){.type = ROOT_SERVICE, .u.w = {SVC_UP}};
    strncpy_s((char *)m.u.b + 8, "demo", 16);
    CHECK(ipc_sendrec(ROOT_EP, &m) == 0 && m.type == 0);
    CHECK(wait_up("demo") > 0 && demo_io(CDEV_READ, 0) > 0);
}

static const struct {
    const char *name;
    void (*fn)(void);
} tests[] = {
    {"hang_detected_within_two_periods", t_hang_detected},
    {"busy_is_not_hung", t_busy_is_not_hung},
    {"request_in_flight_fails_then_works", t_request_in_flight},
    {"denials_over_limit_restart", t_denials_fail_it},
    {"complaint_restarts", t_complaint},
    {"crash_at_start_backoff_then_down", t_crash_at_start},
    {"admin_requests", t_admin_errors},
};

int main(uint64_t arg)
{
    (void)arg;
    int passed = 0, failed = 0;
    for (size_t i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) {
        current = tests[i].name;
        failed_here = 0;
        tests[i].fn();
        printf("TEST rs.%s %s\n", tests[i].name, failed_here ? "FAIL" : "PASS");
        failed_here ? failed++ : passed++;
    }
    printf("rstest: %d passed, %d failed\n", passed, failed);
    log_flush();
    sys_ioport(IO_OUT8, 0x501, failed ? 1 : 0);
    return failed;
}
