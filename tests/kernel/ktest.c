/*
 * ktest's part of the runner (lib/test runs the table and prints the lines)
 * and the support every test uses. Each test runs in a child ("t:NAME")
 * spawned through root under the "ktest" manifest, with a deadline; the run
 * ends with "ktest: N passed, N failed" and, with the argument "exit",
 * leaves QEMU through isa-debug-exit (status 1 if all passed).
 */
#include "ktest.h"

#define TEST_DEADLINE_TICKS (120 * 1000)

static const struct test *const test_groups[] = {ipc_tests,  grant_tests,   priv_tests, fault_tests,
                                                 misc_tests, devpriv_tests, proc_tests, 0};
static const struct khelper *const helper_groups[] = {ipc_helpers,   grant_helpers, priv_helpers,
                                                      fault_helpers, misc_helpers,  devpriv_helpers,
                                                      proc_helpers};
#define NR_HELPER_GROUPS (sizeof(helper_groups) / sizeof(helper_groups[0]))

/* The helpers this test spawned: a failing test kills them, so none outlives it (re-parented to
 * root, a leftover would hold an IRQ share or frames and fail later tests too). */
static endpoint_t spawned[64];
static int nr_spawned;

static void kill_spawned(void)
{
    for (int i = 0; i < nr_spawned; i++)
        sys_proc_kill(spawned[i]); /* E_DEADEP for those already gone */
}

static void u64_to_str(uint64_t v, char *out)
{
    char tmp[24];
    int n = 0;
    do
        tmp[n++] = (char)('0' + v % 10);
    while (v /= 10);
    while (n)
        *out++ = tmp[--n];
    *out = '\0';
}

endpoint_t spawn_helper(const char *manifest, const char *name, uint64_t n)
{
    char arg[32] = "h:";
    size_t len = strlen(name);
    if (len > 16)
        len = 16;
    memcpy(arg + 2, name, len);
    arg[2 + len] = ':';
    u64_to_str(n, arg + 3 + len);
    endpoint_t ep = root_spawn("ktest", manifest, arg);
    CHECK(ep > 0);
    if (nr_spawned < (int)(sizeof(spawned) / sizeof(spawned[0])))
        spawned[nr_spawned++] = ep;
    return ep;
}

/* Death reports of children reaped while waiting for another one. */
static struct death_info stash[16];
static int stashed;

void wait_child(endpoint_t ep, struct death_info *d)
{
    for (int i = 0; i < stashed; i++)
        if (stash[i].ep == ep) {
            *d = stash[i];
            stash[i] = stash[--stashed];
            return;
        }
    for (;;) {
        endpoint_t r = sys_proc_reap(d);
        if (r == ep)
            return;
        if (r > 0) {
            if (stashed < 16)
                stash[stashed++] = *d;
            continue;
        }
        message_t m;
        CHECK(ipc_receive(SYSTEM, &m) == 0);
        if (m.u.notify.bits & NOTIFY_ALARM) /* not ours to consume: re-arm soon */
            sys_alarm(1);
    }
}

void expect_clean_exit(endpoint_t ep)
{
    struct death_info d;
    wait_child(ep, &d);
    EXPECT(d.cause, DEATH_EXIT);
    EXPECT(d.code, 0);
}

void run_helper(const char *manifest, const char *name, uint64_t n)
{
    expect_clean_exit(spawn_helper(manifest, name, n));
}

void sleep_ticks(uint64_t ticks)
{
    message_t m;
    uint64_t until = sys_uptime() + ticks;
    while (sys_uptime() < until) {
        CHECK(sys_alarm(until - sys_uptime() + 1) == 0);
        CHECK(ipc_receive(SYSTEM, &m) == 0);
    }
    sys_alarm(0);
}

/* The runner's run_apart: the test in a child of its own, with a deadline. */
static int run_test(const struct test *t)
{
    char arg[32] = "t:";
    strncpy_s(arg + 2, t->name, sizeof(arg) - 2);
    uint64_t start = sys_uptime();
    endpoint_t ep = root_spawn("ktest", "ktest", arg);
    if (ep < 0) {
        printf("FAIL %s: cannot spawn: %s\n", t->name, strerror_s(ep));
        return 0;
    }
    sys_alarm(TEST_DEADLINE_TICKS);
    struct death_info d;
    for (;;) {
        if (sys_proc_reap(&d) == ep)
            break;
        message_t m;
        ipc_receive(SYSTEM, &m);
        if ((m.u.notify.bits & NOTIFY_ALARM) && sys_uptime() >= start + TEST_DEADLINE_TICKS) {
            printf("FAIL %s: no result after %d s, killing it\n", t->name,
                   TEST_DEADLINE_TICKS / 1000);
            sys_proc_kill(ep);
        }
    }
    sys_alarm(0);
    if (d.cause == DEATH_FAULT)
        printf("FAIL %s: died of exception %ld at %lx (addr %lx)\n", t->name, d.code, d.rip,
               d.addr);
    return d.cause == DEATH_EXIT && d.code == 0;
}

static const struct test_suite ktest_suite = {
    .program = "ktest",
    .prefix = "",
    .groups = test_groups,
    .run_apart = run_test,
    .on_fail = kill_spawned,
    .fail_exits = 1,
    .exit_only_if_asked = 1,
};

static uint64_t parse_u64(const char *s)
{
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    if (arg[0] == 't' && arg[1] == ':')
        return test_child(&ktest_suite, arg + 2);
    if (arg[0] == 'h' && arg[1] == ':') {
        const char *name = arg + 2, *colon = name;
        while (*colon && *colon != ':')
            colon++;
        test_enter(&ktest_suite, arg);
        for (size_t g = 0; g < NR_HELPER_GROUPS; g++)
            for (const struct khelper *h = helper_groups[g]; h->name; h++)
                if (!strncmp(h->name, name, (size_t)(colon - name)) && !h->name[colon - name])
                    return h->fn(parse_u64(*colon ? colon + 1 : colon));
        printf("ktest: no helper named %s\n", name);
        return 2;
    }
    printf("ktest: kernel test suite starting\n");
    return test_main(&ktest_suite, arg);
}
