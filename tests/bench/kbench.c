/*
 * Kernel micro-benchmarks, run by `make bench`: the round trip of sendrec
 * plus reply between two address spaces (the partner answers with sendnb and
 * receives again, or, as the server loops do, with one KC_REPLY_RECEIVE), a null kernel call
 * (KC_UPTIME), a notify round trip, and a notify that only sets a pending bit. Each figure is the
 * median over RUNS runs of ITERS operations, in TSC ticks per operation; under QEMU's -icount
 * shift=0 one tick is one guest instruction. Prints "BENCH name median min max" lines, then exits
 * QEMU through isa-debug-exit.
 */
#include <samsara/root.h>
#include "sys.h"

#define RUNS 21
#define ITERS 2000

static uint64_t samples[RUNS];

static void report(const char *name)
{
    sort_u64(samples, RUNS);
    printf("BENCH %s %lu %lu %lu\n", name, samples[RUNS / 2], samples[0], samples[RUNS - 1]);
}

/*
 * Partner: answer every message at once; answer a notification with a
 * notification; on TEST_BENCH_SLEEP, sleep w[0] ticks without receiving (so
 * that notifications to it stay pending); stop on TEST_BENCH_STOP.
 */
static int partner(void)
{
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0)
            return 1;
        if (m.source == SYSTEM)
            continue;
        if (m.type == MSG_NOTIFY) {
            ipc_notify(m.source);
            continue;
        }
        if (m.type == TEST_BENCH_STOP)
            return 0;
        ipc_sendnb(m.source, &m);
        if (m.type == TEST_BENCH_SLEEP) {
            sys_alarm(m.u.w[0]);
            ipc_receive(SYSTEM, &m);
        }
    }
}

/* Partner for the server loop's round trip: each answer and the next wait in one kernel entry. */
static int partner_reply_receive(void)
{
    message_t m;
    if (ipc_receive(ANY, &m) < 0)
        return 1;
    while (m.type != TEST_BENCH_STOP)
        if (ipc_reply_receive(m.source, &m) < 0)
            return 1;
    return 0;
}

/* The median cost of ITERS sendrecs to peer, each echoed. */
static int roundtrips(endpoint_t peer)
{
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = sys_tsc();
        for (int i = 0; i < ITERS; i++) {
            message_t q = {.type = TEST_BENCH_ECHO, .u.w = {(uint64_t)i}};
            if (ipc_sendrec(peer, &q) < 0 || q.u.w[0] != (uint64_t)i)
                return -1;
        }
        samples[r] = (sys_tsc() - t0) / ITERS;
    }
    return 0;
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    if (arg[0] == 'p')
        return partner();
    if (arg[0] == 'r')
        return partner_reply_receive();

    endpoint_t peer = root_spawn("kbench", "kbench", "p"),
               server = root_spawn("kbench", "kbench", "r");
    if (peer < 0 || server < 0) {
        printf("kbench: cannot spawn partner\n");
        return 1;
    }
    while (arg[0] == 'l') { /* "loop": for profiling with QEMU's exec log (the server loop's way) */
        message_t q = {.type = TEST_BENCH_ECHO};
        ipc_sendrec(arg[1] == 'p' ? peer : server, &q); /* "lp": the sendnb partner */
    }

    if (roundtrips(peer) < 0)
        return 2;
    report("sendrec_roundtrip");
    if (roundtrips(server) < 0)
        return 2;
    report("reply_receive_roundtrip");

    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = sys_tsc();
        for (int i = 0; i < ITERS; i++)
            sys_uptime();
        samples[r] = (sys_tsc() - t0) / ITERS;
    }
    report("null_kernel_call");

    /* notify and the notification back: two notifies, two receives, two switches */
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = sys_tsc();
        for (int i = 0; i < ITERS; i++) {
            message_t n;
            if (ipc_notify(peer) < 0 || ipc_receive(peer, &n) < 0 || n.type != MSG_NOTIFY)
                return 2;
        }
        samples[r] = (sys_tsc() - t0) / ITERS;
    }
    report("notify_roundtrip");

    /* notify to a process that is not waiting: only a pending bit is set */
    message_t sleep = {.type = TEST_BENCH_SLEEP, .u.w = {1000}};
    if (ipc_sendrec(peer, &sleep) < 0)
        return 2;
    for (int r = 0; r < RUNS; r++) {
        uint64_t t0 = sys_tsc();
        for (int i = 0; i < ITERS; i++)
            if (ipc_notify(peer) < 0)
                return 2;
        samples[r] = (sys_tsc() - t0) / ITERS;
    }
    report("notify_pending");

    message_t m = {.type = TEST_BENCH_STOP};
    ipc_send(peer, &m);
    ipc_send(server, &m);
    printf("kbench: done\n");
    log_flush();
    sys_ioport(IO_OUT8, 0x501, 0);
    return 0;
}
