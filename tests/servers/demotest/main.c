/*
 * demotest: the reincarnation demonstration. It reads the demo driver's
 * counter, has root kill the driver (an administrator's SVC_KILL), and
 * reads again until the restarted driver answers, N times (argument,
 * default 1000). Every answer must be the previous value plus one: the
 * state came back with the driver. It measures, per kill, the time from
 * the request to the first good answer, and prints the median and maximum
 * with root's own figures (kill to ROOT_READY), and the free frames before
 * and after (nothing of the dead instances may stay). Exits QEMU at the end.
 */
#include <samsara/fs.h>
#include <samsara/root.h>
#include "sys.h"
#include "test/test.h"

#define MAX_KILLS 5000

static uint64_t samples[MAX_KILLS];
static char buf[32];

/* One read from the driver: the value, or -1 if it is not there (yet). */
static int64_t read_counter(endpoint_t ep)
{
    grant_id_t g = grant_alloc(ep, buf, sizeof(buf), GRANT_WRITE);
    message_t m = {.type = CDEV_READ, .u.cdev.rw = {.id = 1, .grant = g, .len = sizeof(buf)}};
    int r = ipc_sendrec(ep, &m);
    grant_free(g);
    if (r < 0 || m.u.cdev.reply.result <= 0)
        return -1;
    int64_t v = 0;
    for (int i = 0; buf[i] >= '0' && buf[i] <= '9'; i++)
        v = v * 10 + (buf[i] - '0');
    return v;
}

int main(uint64_t argp)
{
    const char *arg = (const char *)argp;
    int kills = 0, wrong = 0;
    for (const char *c = arg; *c >= '0' && *c <= '9'; c++)
        kills = kills * 10 + (*c - '0');
    if (kills <= 0 || kills > MAX_KILLS)
        kills = 1000;
    /* the TSC rate, for microseconds */
    uint64_t t0 = sys_tsc(), tick0 = sys_uptime();
    while (sys_uptime() < tick0 + 20)
        ;
    uint64_t per_us = (sys_tsc() - t0) / 20000 ? (sys_tsc() - t0) / 20000 : 1;
    endpoint_t ep;
    while ((ep = root_lookup("demo")) < 0)
        ;
    int64_t prev = read_counter(ep);
    struct sysinfo before, after;
    sys_sysinfo(&before);
    printf("demotest: counter starts at %ld; killing demo %d times\n", prev, kills);
    for (int k = 0; k < kills; k++) {
        uint64_t start = sys_tsc();
        int r = root_service(SVC_KILL, "demo", 0);
        if (r != 0) {
            printf("demotest: kill %d refused (%d)\n", k, r);
            wrong++;
            break;
        }
        int64_t v;
        for (;;) { /* until the new instance answers */
            ep = root_lookup("demo");
            if (ep > 0 && (v = read_counter(ep)) >= 0)
                break;
        }
        samples[k] = (sys_tsc() - start) / per_us;
        if (v != prev + 1) {
            printf("demotest: after kill %d the counter is %ld, expected %ld\n", k, v, prev + 1);
            wrong++;
        }
        prev = v;
    }
    struct root_stats_reply st = {0};
    sys_sysinfo(&after); /* a new demo as big as the first runs: memory all back? */
    printf("demotest: %lu free frames before the kills, %lu after\n", before.free_frames,
           after.free_frames);
    root_service(SVC_STATS, "demo", &st);
    sort_u64(samples, kills);
    printf("demotest: %d kills, %lu restarts, counter %ld, %d wrong answers\n", kills, st.restarts,
           prev, wrong);
    printf("RECOVERY client median_us=%lu max_us=%lu root_mean_us=%lu root_max_us=%lu\n",
           samples[kills / 2], samples[kills - 1], st.mean_us, st.max_us);
    printf("TEST rs.demo_killed_%d_times %s\n", kills,
           !wrong && st.restarts >= (uint64_t)kills ? "PASS" : "FAIL");
    test_exit_qemu(wrong);
    return wrong != 0;
}
