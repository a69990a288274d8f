/*
 * pmtest: who may send pm what (docs/USERLAND.md, "Who may send what").
 * A system server that is neither rs (root) nor vfs nor a Linux process
 * sends pm each kind of message it has no right to send; pm must refuse
 * each one (the replies are checked here, the refusal log lines by
 * tools/suite_pm.py) and go on serving. Prints "TEST pm.NAME PASS|FAIL",
 * then "pmtest: N passed, M failed", and exits QEMU (status 1 if all passed).
 */
#include <samsara/linux.h>
#include <samsara/pm.h>
#include <samsara/root.h>
#include "sys.h"
#include "test/test.h" /* CHECK, EXPECT: a failed check marks the test failed and goes on */

static endpoint_t pm;

/* A request to pm: the reply's result (the first word, in pm's and the Linux replies), its type. */
static int64_t ask(message_t m, int *reply_type)
{
    if (ipc_sendrec(pm, &m) < 0)
        return 1; /* no answer: a failure below */
    *reply_type = m.type;
    return m.u.pm.reply.result;
}

static void run_from_stranger(void)
{
    static char argv[] = "/bin/sleep\0"
                         "1";
    grant_id_t g = grant_alloc(pm, argv, sizeof(argv), GRANT_READ);
    int type = 0;
    int64_t r = ask((message_t){.type = PM_RUN, .u.pm.run = {g, sizeof(argv)}}, &type);
    grant_free(g);
    EXPECT(type, PM_REPLY);
    EXPECT(r, -LX_EPERM);
}

static void results_from_stranger(void)
{
    int type = 0;
    EXPECT(ask((message_t){.type = PM_RESULTS}, &type), -LX_EPERM);
    EXPECT(type, PM_REPLY);
}

static void linux_call_from_server(void)
{
    int type = 0; /* exit_group(0) as if a Linux process had called it */
    EXPECT(ask((message_t){.type = MSG_LINUX_CALL, .u.w = {LX_exit_group}}, &type), -LX_ENOSYS);
    EXPECT(type, MSG_LINUX_REPLY);
}

static void unknown_request(void)
{
    int type = 0;
    EXPECT(ask((message_t){.type = ROOT_SAVE}, &type), -LX_ENOSYS);
    EXPECT(type, MSG_LINUX_REPLY);
}

static void notify_from_stranger(void)
{
    int type = 0; /* a notification only vfs may send; pm still answers afterwards */
    EXPECT(ipc_notify(pm), 0);
    EXPECT(ask((message_t){.type = PM_RESULTS}, &type), -LX_EPERM);
}

static const struct test tests[] = {
    {"run_from_stranger", run_from_stranger},
    {"results_from_stranger", results_from_stranger},
    {"linux_call_from_server", linux_call_from_server},
    {"unknown_request", unknown_request},
    {"notify_from_stranger", notify_from_stranger},
    {0},
};

static const struct test_suite pm_suite = {.program = "pmtest", .prefix = "pm.", .tests = tests};

int main(uint64_t arg)
{
    pm = root_lookup("pm");
    if (pm <= 0)
        return test_abort(&pm_suite, "cannot find pm");
    return test_main(&pm_suite, (const char *)arg);
}
