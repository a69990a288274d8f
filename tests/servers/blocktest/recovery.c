/*
 * blocktest's recovery tests, through lib/bdev (the client side a file
 * server uses): the driver is killed through rs (SVC_KILL), by blocktest
 * itself between requests or by blockother every 500 ms while blocktest
 * is in the middle of lib/bdev's requests; every request must come back
 * with the right bytes. Recovery times (kill to the first good request)
 * are printed, per kill and on average.
 *
 * Then the two hangs (docs/BLOCK.md, "When a driver hangs"): the device
 * stalls (the suite throttles the disk's writes to nothing through QEMU's
 * monitor when blocktest says so: the driver's own request timeout must
 * fire and its successor reset the device), and the driver itself spins
 * mid-transfer (BDEV_DEBUG_HANG: rs's heartbeat must replace it). Each
 * writes HANG_BYTES of its own pattern through lib/bdev while it happens;
 * the suite checks them on the image.
 */
#include <samsara/root.h>
#include "bdev/bdev.h"
#include "blocktest.h"
#define TEST_LEAVE return
#include "test/test.h"

#define KILLS 10
#define RECOVERY_MEAN_MAX_US 500000 /* far above the few ms a restart takes under TCG */
#define STRESS_BYTES (32ull << 20)  /* written and read back on partition 1 */
#define STRESS_CHUNK BDEV_TRANSFER_MAX
#define STRESS_BUFS 16 /* one chunk as 16 buffers: the vector path */
#define KILL_PERIOD_MS 500
#define STRESS_MS 5000         /* ten kills at least */
#define STALL_AT (32ull << 20) /* partition 1's bytes past the stress test's 32 MiB */
#define HANG_AT (36ull << 20)
#define DEAF_AT HANG_AT /* before the hang test, which writes it again (checked on the host) */
#define DEAF_PASS 0x64656166ull
#define DEAF_REQUEST_MS 1000 /* lib/bdev's request timeout for the deaf test */
#define HANG_BYTES (4ull << 20)
#define HANG_PASS 0x68616e67ull /* their patterns' pass numbers (tools/suite_block.py) */
#define STALL_PASS 0x7374616cull
#define STALL_ARM_MS 500   /* the suite's time to throttle the disk after our word */
#define STALL_SEEN_MS 3000 /* a write this slow was the stall (the drivers wait 5 s) */
#define STALL_TRY_MS 20000 /* no stall by then: the throttle never came */
#define HANG_SEEN_MS 1000  /* rs must notice within this (heartbeat 200: two missed) */

static struct bdev disk, part1;
static uint8_t data[STRESS_CHUNK], back[STRESS_CHUNK];

static int open_devices(void)
{
    if (disk.driver > 0 && part1.driver > 0)
        return 0;
    int r = bdev_open(&disk, driver, 0, BDEV_R | BDEV_W);
    return r < 0 ? r : bdev_open(&part1, driver, 1, BDEV_R | BDEV_W);
}

/* The stress pattern of pass `pass`: 64-bit word i of partition 1 (tools/suite_block.py checks
 * the last pass's on the image). */
static void pattern(uint64_t position, uint64_t pass, uint8_t *b, uint64_t len)
{
    uint64_t *w = (uint64_t *)b;
    for (uint64_t i = 0; i < len / 8; i++)
        w[i] = ((position / 8 + i + 1) * 0x9e3779b97f4a7c15ull) ^ 0x0123456789abcdefull ^ pass;
}

void test_recovery(void)
{
    static uint8_t sector[SECTOR];
    EXPECT(open_devices(), 0);
    EXPECT(bdev_read(&disk, SECTOR, sector, SECTOR), SECTOR); /* the instance now running */
    uint64_t total = 0, worst = 0, restarts = disk.restarts;
    for (int k = 1; k <= KILLS; k++) {
        uint64_t t0 = now_us();
        EXPECT(root_service(SVC_KILL, driver, 0), 0);
        EXPECT(bdev_read(&disk, SECTOR, sector, SECTOR), SECTOR);
        uint64_t us = now_us() - t0;
        printf("blocktest: kill %d: first good request after %lu us\n", k, us);
        CHECK(memcmp(sector, "blocktest disk", 14) == 0);
        total += us;
        worst = us > worst ? us : worst;
    }
    printf("blocktest: recovery (kill to first good request) over %d kills: mean %lu us, max %lu "
           "us\n",
           KILLS, total / KILLS, worst);
    EXPECT(disk.restarts - restarts, KILLS);
    CHECK(total / KILLS < RECOVERY_MEAN_MAX_US);
}

/* Kill the driver again while its successor starts (rs restarting it, the pci calls, the
 * reset, the queue, the MBR): 0.5, 1, ... 3 ms after the first kill. The next must serve. */
void test_killed_during_init(void)
{
    static uint8_t sector[SECTOR];
    EXPECT(open_devices(), 0);
    for (int k = 1; k <= 6; k++) {
        EXPECT(root_service(SVC_KILL, driver, 0), 0);
        uint64_t until = now_us() + 500ull * k;
        while (now_us() < until)
            ;
        int r = root_service(SVC_KILL, driver, 0); /* E_SRCH if it is between instances */
        CHECK(r == 0 || r == -E_SRCH);
        EXPECT(bdev_read(&part1, 0, sector, SECTOR), SECTOR);
        EXPECT(bdev_read(&disk, SECTOR, sector, SECTOR), SECTOR);
        CHECK(memcmp(sector, "blocktest disk", 14) == 0);
    }
}

/* One pass: 32 MiB written to partition 1 (as 16 buffers per request: the vector path), flushed,
 * and read back: the mismatched MiB, or -1 if a request failed. */
static int64_t stress_pass(uint64_t pass)
{
    struct bdev_buf v[STRESS_BUFS];
    for (int i = 0; i < STRESS_BUFS; i++)
        v[i] = (struct bdev_buf){data + (uint64_t)i * (STRESS_CHUNK / STRESS_BUFS),
                                 STRESS_CHUNK / STRESS_BUFS};
    for (uint64_t pos = 0; pos < STRESS_BYTES; pos += STRESS_CHUNK) {
        pattern(pos, pass, data, STRESS_CHUNK);
        if (bdev_transfer(&part1, 1, pos, v, STRESS_BUFS) != STRESS_CHUNK)
            return -1;
    }
    if (bdev_flush(&part1) != 0)
        return -1;
    int64_t bad = 0;
    for (uint64_t pos = 0; pos < STRESS_BYTES; pos += STRESS_CHUNK) {
        if (bdev_read(&part1, pos, back, STRESS_CHUNK) != STRESS_CHUNK)
            return -1;
        pattern(pos, pass, data, STRESS_CHUNK);
        bad += memcmp(data, back, STRESS_CHUNK) != 0;
    }
    return bad;
}

/* Passes of stress_pass, each with its own pattern, for STRESS_MS at least, while blockother
 * kills the driver every 500 ms. */
void test_stress_kills(void)
{
    EXPECT(open_devices(), 0);
    uint64_t restarts = part1.restarts, t0 = now_us(), until = sys_uptime() + STRESS_MS;
    EXPECT(ask("blockother", DO_KILLER_START, KILL_PERIOD_MS), 0);
    uint64_t pass = 0;
    int64_t bad = 0;
    while (bad == 0 && (pass == 0 || sys_uptime() < until))
        bad = stress_pass(++pass);
    int64_t kills = ask("blockother", DO_KILLER_STOP, 0);
    uint64_t ms = (now_us() - t0) / 1000;
    printf("blocktest: stress: %lu passes of 32 MiB written and read back in %lu ms (%lu MiB/s), "
           "%ld kills, %lu restarts seen by lib/bdev, %ld bad MiB\n",
           pass, ms, ms ? pass * 64 * 1000 / ms : 0, (long)kills, part1.restarts - restarts,
           (long)bad);
    printf("blocktest: stress last pass %lu\n", pass);
    EXPECT(bad, 0);
    CHECK(kills >= STRESS_MS / KILL_PERIOD_MS - 1);
    CHECK(part1.restarts > restarts);
}

/* Two clients at once: blockpeer reads the disk's first MiB again and again while blocktest
 * reads partition 2's; the driver keeps the requests that come while it waits for the device
 * (blockdriver_wait) and serves them after. Both see their own data every time. */
void test_two_clients(void)
{
    EXPECT(open_devices(), 0);
    struct bdev part2;
    EXPECT(bdev_open(&part2, driver, 2, BDEV_R), 0);
    EXPECT(ask("blockpeer", DO_PEER_START, 0), 0);
    int bad = 0;
    for (int i = 0; i < 40; i++) {
        EXPECT(bdev_read(&part2, 0, back, STRESS_CHUNK), STRESS_CHUNK);
        bad += memcmp(back, "blocktest part2", 15) != 0;
    }
    int64_t peer = ask("blockpeer", DO_PEER_STOP, 0);
    printf("blocktest: two clients: blockpeer read 1 MiB %ld times, %ld bad\n",
           (long)(peer & 0xffffffff), (long)(peer >> 32));
    bdev_close(&part2);
    EXPECT(bad, 0);
    CHECK(peer > 0 && (peer & 0xffffffff) > 0 && (peer >> 32) == 0);
}

/* blockpeer: on DO_PEER_START, read the disk's first MiB through lib/bdev until DO_PEER_STOP;
 * the answer to that: good reads | bad reads << 32. On DO_PEER_HANG, send the driver
 * BDEV_DEBUG_HANG, or the BDEV_DEBUG_* type in the argument (refused: only blocktest may), and
 * answer its result. */
int peer_main(void)
{
    struct bdev disk0 = {0};
    for (;;) {
        message_t m;
        if (ipc_receive(ANY, &m) < 0 || m.type != TEST_BLOCK_DO)
            continue;
        endpoint_t who = m.source;
        if (m.u.w[0] == DO_PEER_HANG) { /* a client, but not blocktest: must be refused */
            message_t q = {.type = m.u.w[1] == BDEV_DEBUG_DEAF ? BDEV_DEBUG_DEAF : BDEV_DEBUG_HANG};
            endpoint_t ep = announced(0, 1000);
            int r = ipc_sendrec_bounded(ep, &q, 3000);
            m.u.w[0] = (uint64_t)(int64_t)(r < 0 ? r : q.u.bdev.reply.result);
            ipc_sendnb(who, &m);
            continue;
        }
        if (m.u.w[0] != DO_PEER_START)
            continue;
        m.u.w[0] = disk0.driver > 0 ? 0 : (uint64_t)(int64_t)bdev_open(&disk0, driver, 0, BDEV_R);
        ipc_sendnb(who, &m);
        uint64_t good = 0, bad = 0;
        for (;;) {
            int64_t r = bdev_read(&disk0, 0, data, STRESS_CHUNK);
            if (r == STRESS_CHUNK && memcmp(data + SECTOR, "blocktest disk", 14) == 0)
                good++;
            else
                bad++;
            if (ipc_receive_nb(ANY, &m) == 0 && m.type == TEST_BLOCK_DO &&
                m.u.w[0] == DO_PEER_STOP) {
                m.u.w[0] = good | bad << 32;
                ipc_sendnb(m.source, &m);
                break;
            }
        }
    }
}

/* HANG_BYTES of pattern `pass` at partition 1's byte `at`, in BDEV_TRANSFER_MAX writes: the
 * longest write's time in ms (0 if one failed). */
static uint64_t write_area(uint64_t at, uint64_t pass)
{
    uint64_t worst = 0;
    for (uint64_t pos = at; pos < at + HANG_BYTES; pos += STRESS_CHUNK) {
        pattern(pos, pass, data, STRESS_CHUNK);
        uint64_t t0 = sys_uptime(); /* ms, as the drivers' timeouts and rs's log */
        if (bdev_write(&part1, pos, data, STRESS_CHUNK) != STRESS_CHUNK)
            return 0;
        uint64_t ms = sys_uptime() - t0;
        worst = ms > worst ? ms : worst;
    }
    return worst ? worst : 1;
}

/* Flushed, then read back: 1 if the area holds pattern `pass`. */
static int area_holds(uint64_t at, uint64_t pass)
{
    if (bdev_flush(&part1) != 0)
        return 0;
    for (uint64_t pos = at; pos < at + HANG_BYTES; pos += STRESS_CHUNK) {
        pattern(pos, pass, data, STRESS_CHUNK);
        if (bdev_read(&part1, pos, back, STRESS_CHUNK) != STRESS_CHUNK ||
            memcmp(data, back, STRESS_CHUNK) != 0)
            return 0;
    }
    return 1;
}

/* The device stalls: the suite, on our word, throttles the disk's writes to 1 byte a second
 * (QEMU's block_set_io_throttle) and lifts it once the driver gives up on the request. Writes
 * go on until one was stalled: the driver's timeout, its exit, the successor's reset and lib/bdev's
 * reissue must bring the data there. */
void test_device_stall(void)
{
    EXPECT(open_devices(), 0);
    uint64_t restarts = part1.restarts, stalled = 0, until = sys_uptime() + STALL_TRY_MS;
    printf("blocktest: device stall: throttle the disk now\n");
    sleep_ms(STALL_ARM_MS);
    while (stalled < STALL_SEEN_MS && sys_uptime() < until) {
        stalled = write_area(STALL_AT, STALL_PASS);
        if (!stalled)
            break;
    }
    printf("blocktest: device stall: the stalled write took %lu ms, %lu driver restarts\n", stalled,
           part1.restarts - restarts);
    CHECK(stalled >= STALL_SEEN_MS);
    CHECK(part1.restarts > restarts);
    CHECK(area_holds(STALL_AT, STALL_PASS));
}

/* rs's log line saying when it killed the driver for missed heartbeats after `after` ms: its
 * time in ms, or 0. */
static uint64_t heartbeat_missed_at(uint64_t after)
{
    char line[ROOT_LINE_MAX + 1];
    uint64_t at = 0;
    for (uint64_t i = 0; root_log_line(i, line) > 0; i++) {
        uint64_t s = 0, ms = 0;
        const char *p = line;
        while (*p == ' ')
            p++;
        for (; *p >= '0' && *p <= '9'; p++)
            s = s * 10 + (uint64_t)(*p - '0');
        if (*p++ != '.')
            continue;
        for (; *p >= '0' && *p <= '9'; p++)
            ms = ms * 10 + (uint64_t)(*p - '0');
        ms += s * 1000; /* then " LABEL TEXT", the label padded to 10 */
        uint64_t n = strlen(driver);
        if (*p++ != ' ' || strncmp(p, driver, n) != 0 || p[n] != ' ')
            continue;
        for (p += n; *p == ' '; p++)
            ;
        if (ms >= after && strncmp(p, "failed: heartbeat missed", 24) == 0)
            at = ms;
    }
    return at;
}

/* The driver spins in the middle of a transfer (BDEV_DEBUG_HANG: after the first run of the next
 * 1 MiB write, the first 128 or 256 KiB on the disk), answering nothing: rs must see the missed
 * heartbeats, kill it, start another, and lib/bdev must reissue the write to it. */
void test_driver_hang(void)
{
    EXPECT(open_devices(), 0);
    EXPECT(ask("blockpeer", DO_PEER_HANG, 0), -E_PERM); /* blocktest's only */
    uint64_t restarts = part1.restarts;
    message_t m = {.type = BDEV_DEBUG_HANG};
    uint64_t armed = sys_uptime();
    EXPECT(ipc_sendrec_bounded(part1.driver, &m, 3000), 0);
    EXPECT(m.u.bdev.reply.result, 0);
    uint64_t t0 = sys_uptime(), worst = write_area(HANG_AT, HANG_PASS);
    uint64_t all = sys_uptime() - t0, seen = heartbeat_missed_at(armed);
    printf("blocktest: driver hang: rs saw the missed heartbeats %lu ms after the hang began; the "
           "hung write took %lu ms, all %lu MiB %lu ms; %lu driver restarts\n",
           seen ? seen - armed : 0, worst, (unsigned long)(HANG_BYTES >> 20), all,
           part1.restarts - restarts);
    CHECK(worst > 0);
    CHECK(seen > 0 && seen - armed < HANG_SEEN_MS);
    EXPECT(part1.restarts - restarts, 1);
    CHECK(area_holds(HANG_AT, HANG_PASS));
}

/* The driver stays alive and answers its heartbeats but no request (BDEV_DEBUG_DEAF: a fault
 * that broke its request path, as a nop trial of the fault-injection campaign did): lib/bdev's
 * request timeout (DEAF_REQUEST_MS here) must complain to rs, which replaces the driver, and the
 * write goes to the next instance. Before, lib/bdev waited for a new instance that never came,
 * BDEV_WAIT_MS a request, and failed it with E_IO. */
void test_driver_deaf(void)
{
    EXPECT(open_devices(), 0);
    EXPECT(ask("blockpeer", DO_PEER_HANG, BDEV_DEBUG_DEAF), -E_PERM); /* blocktest's only */
    uint64_t restarts = part1.restarts, complaints = part1.complaints;
    message_t m = {.type = BDEV_DEBUG_DEAF};
    EXPECT(ipc_sendrec_bounded(part1.driver, &m, 3000), 0);
    EXPECT(m.u.bdev.reply.result, 0);
    part1.request_ms = DEAF_REQUEST_MS;
    uint64_t t0 = sys_uptime(), worst = write_area(DEAF_AT, DEAF_PASS);
    uint64_t all = sys_uptime() - t0;
    part1.request_ms = 0;
    printf("blocktest: deaf driver: the unanswered write took %lu ms, all %lu MiB %lu ms; %lu "
           "complaints, %lu driver restarts\n",
           worst, (unsigned long)(HANG_BYTES >> 20), all, part1.complaints - complaints,
           part1.restarts - restarts);
    CHECK(worst >= DEAF_REQUEST_MS && worst < DEAF_REQUEST_MS + BDEV_WAIT_MS);
    EXPECT(part1.complaints - complaints, 1);
    EXPECT(part1.restarts - restarts, 1);
    CHECK(area_holds(DEAF_AT, DEAF_PASS));
}
