/*
 * blocktest: the BDEV protocol (samsara/bdev.h) against a real block
 * driver, then lib/bdev across the driver's deaths. Boot root, ds, pci, the
 * driver, blocktest and blockother (this image, argument "other") with a
 * disk the suite made (tools/suite_block.py; blocktest.h has its layout).
 * The argument's first word is the driver's label (virtio_blk without one);
 * the rest goes to lib/test. Each test prints "TEST block.NAME PASS|FAIL";
 * the last line is "blocktest: N passed, M failed"; then QEMU exits.
 *
 * The protocol's checks send raw messages (main.c): geometry, partitions,
 * the edges of a transfer (sector 0, the last sector, past the end, zero
 * and huge lengths, misaligned ones, overflowing sums), scatter-gather
 * inline and by vector, bad grants, requests on minors not open, a sender
 * that is no client (blockother). recovery.c goes through lib/bdev, with a
 * second client (blockpeer: this image, argument "peer") at times.
 */
#include <samsara/ds.h>
#include <samsara/msg/bdev.h>
#include <samsara/root.h>
#include "format/format.h"
#include "blocktest.h"
#define TEST_LEAVE return
#include "test/test.h"

GRANT_TABLE(600);

char driver[32] = "virtio_blk";
endpoint_t drv;
uint64_t tsc_per_us = 1;
static char announce_key[DS_KEY_MAX];

static uint8_t buf[BDEV_TRANSFER_MAX + 2 * SECTOR], buf2[BDEV_TRANSFER_MAX + SECTOR];

uint64_t now_us(void)
{
    return sys_tsc() / tsc_per_us;
}

void sleep_ms(uint64_t ms)
{
    message_t m;
    uint64_t until = sys_uptime() + ms;
    for (uint64_t now; (now = sys_uptime()) < until;) {
        sys_alarm(until - now);
        ipc_receive(SYSTEM, &m);
    }
}

endpoint_t announced(endpoint_t old, uint64_t ms)
{
    uint64_t until = sys_uptime() + ms, ep;
    for (;;) {
        if (ds_retrieve_u64(announce_key, &ep) == 0 && (endpoint_t)ep != old && (endpoint_t)ep > 0)
            return (endpoint_t)ep;
        if (sys_uptime() >= until)
            return 0;
        sleep_ms(2);
    }
}

int64_t ask(const char *helper, uint64_t op, uint64_t arg)
{
    endpoint_t ep = -1;
    for (int i = 0; i < 500 && (ep = root_lookup(helper)) < 0; i++)
        sleep_ms(10);
    if (ep < 0)
        return ep;
    message_t m = {.type = TEST_BLOCK_DO, .u.w = {op, arg}};
    int r = ipc_sendrec_bounded(ep, &m, 5000);
    return r < 0 ? r : (int64_t)m.u.w[0];
}

/* One request to the driver: its result, or the IPC error; the reply in *m. */
static int64_t call(message_t *m)
{
    int r = ipc_sendrec_bounded(drv, m, 5000);
    if (r < 0)
        return r;
    return m->type == BDEV_REPLY ? m->u.bdev.reply.result : -E_INVAL;
}

static int64_t open_minor(uint32_t minor, uint32_t access, struct msg_bdev_geometry_reply *g)
{
    message_t m = {.type = BDEV_OPEN, .u.bdev.open = {minor, access}};
    int64_t r = call(&m);
    if (g)
        *g = m.u.bdev.geometry_reply;
    return r;
}

static int64_t simple(int type, uint32_t minor)
{
    message_t m = {.type = type, .u.bdev.minor.minor = minor};
    return call(&m);
}

/* A transfer of up to three inline pieces, each its own grant: [addr, addr+len). */
struct piece {
    void *addr;
    uint32_t len;
};

static int64_t xfer(int type, uint32_t minor, uint64_t position, const struct piece *p, int n)
{
    uint32_t access = type == BDEV_WRITE ? GRANT_READ : GRANT_WRITE;
    message_t m = {.type = type, .u.bdev.transfer = {minor, (uint32_t)n, position, -1, {{0}}}};
    grant_id_t g[BDEV_INLINE_PIECES];
    for (int i = 0; i < n && i < BDEV_INLINE_PIECES; i++) {
        g[i] = grant_alloc(drv, p[i].addr, p[i].len, access);
        m.u.bdev.transfer.piece[i] = (struct bdev_piece){g[i], 0, p[i].len};
    }
    int64_t r = call(&m);
    for (int i = 0; i < n && i < BDEV_INLINE_PIECES; i++)
        grant_free(g[i]);
    return r;
}

static int64_t rd(uint32_t minor, uint64_t position, void *addr, uint32_t len)
{
    struct piece p = {addr, len};
    return xfer(BDEV_READ, minor, position, &p, 1);
}

static int64_t wr(uint32_t minor, uint64_t position, void *addr, uint32_t len)
{
    struct piece p = {addr, len};
    return xfer(BDEV_WRITE, minor, position, &p, 1);
}

static void fill(uint8_t *b, uint64_t len, uint64_t seed)
{
    for (uint64_t i = 0; i < len; i++)
        b[i] = (uint8_t)(seed * 131 + i * 7 + (i >> 9));
}

/* Minors not open: E_RESTARTED; opened read-only: no writes; a minor that is not one: E_NXIO. */
static void test_not_open(void)
{
    EXPECT(rd(2, 0, buf, SECTOR), -E_RESTARTED);
    EXPECT(simple(BDEV_FLUSH, 2), -E_RESTARTED);
    EXPECT(simple(BDEV_GEOMETRY, 2), -E_RESTARTED);
    EXPECT(simple(BDEV_CLOSE, 2), -E_RESTARTED);
    EXPECT(rd(9, 0, buf, SECTOR), -E_NXIO);
    EXPECT(open_minor(BDEV_MINORS, BDEV_R, 0), -E_NXIO);
    EXPECT(open_minor(2, 0, 0), -E_INVAL);
    EXPECT(open_minor(2, 0x10, 0), -E_INVAL);
    EXPECT(open_minor(2, BDEV_R, 0), 0);
    EXPECT(rd(2, 0, buf, SECTOR), SECTOR);
    EXPECT(wr(2, 0, buf, SECTOR), -E_PERM);
    EXPECT(simple(BDEV_CLOSE, 2), 0);
    EXPECT(rd(2, 0, buf, SECTOR), -E_RESTARTED);
}

static void test_geometry(void)
{
    struct msg_bdev_geometry_reply g;
    EXPECT(open_minor(0, BDEV_R | BDEV_W, &g), 0);
    EXPECT(g.size, DISK_SIZE);
    EXPECT(g.sector_size, SECTOR);
    EXPECT(g.start, 0);
    message_t m = {.type = BDEV_GEOMETRY, .u.bdev.minor.minor = 0};
    EXPECT(call(&m), 0);
    EXPECT(m.u.bdev.geometry_reply.size, DISK_SIZE);
    EXPECT(rd(0, SECTOR, buf, SECTOR), SECTOR);
    CHECK(memcmp(buf, DISK_MARK, sizeof(DISK_MARK) - 1) == 0);
}

/* The MBR's partitions as minors 1 and 2; 3 lies outside the disk, 4 is empty. */
static void test_partitions(void)
{
    struct msg_bdev_geometry_reply g;
    EXPECT(open_minor(1, BDEV_R | BDEV_W, &g), 0);
    EXPECT(g.size, P1_SECTORS * SECTOR);
    EXPECT(g.start, P1_START * SECTOR);
    EXPECT(open_minor(2, BDEV_R | BDEV_W, &g), 0);
    EXPECT(g.size, P2_SECTORS * SECTOR);
    EXPECT(g.start, P2_START * SECTOR);
    EXPECT(open_minor(3, BDEV_R, 0), -E_NXIO);
    EXPECT(open_minor(4, BDEV_R, 0), -E_NXIO);
    EXPECT(rd(2, 0, buf, SECTOR), SECTOR);
    CHECK(memcmp(buf, PART2_MARK, sizeof(PART2_MARK) - 1) == 0);
    /* partition 2's last sector is the disk's sector P2_START + P2_SECTORS - 1 */
    uint64_t last = (P2_SECTORS - 1) * SECTOR;
    fill(buf, SECTOR, 2);
    EXPECT(wr(2, last, buf, SECTOR), SECTOR);
    EXPECT(rd(0, (P2_START + P2_SECTORS - 1) * SECTOR, buf2, SECTOR), SECTOR);
    CHECK(memcmp(buf, buf2, SECTOR) == 0);
    EXPECT(rd(2, last + SECTOR, buf, SECTOR), -E_RANGE); /* inside the disk, past the minor */
    EXPECT(rd(2, last, buf, 2 * SECTOR), -E_RANGE);
}

/* Sector 0 and the last sector written and read back; past the end refused whole. */
static void test_edges(void)
{
    uint8_t mbr[SECTOR];
    uint64_t last = DISK_SIZE - SECTOR;
    EXPECT(rd(0, 0, mbr, SECTOR), SECTOR);
    fill(buf, 4 * SECTOR, 3);
    EXPECT(wr(0, 0, buf, 4 * SECTOR), 4 * SECTOR);
    EXPECT(rd(0, 0, buf2, 4 * SECTOR), 4 * SECTOR);
    CHECK(memcmp(buf, buf2, 4 * SECTOR) == 0);
    memcpy(buf, mbr, SECTOR); /* the partition table back, and the mark after it */
    memset(buf + SECTOR, 0, SECTOR);
    memcpy(buf + SECTOR, DISK_MARK, sizeof(DISK_MARK) - 1);
    EXPECT(wr(0, 0, buf, 2 * SECTOR), 2 * SECTOR);
    fill(buf, SECTOR, 4);
    EXPECT(wr(0, last, buf, SECTOR), SECTOR);
    EXPECT(rd(0, last, buf2, SECTOR), SECTOR);
    CHECK(memcmp(buf, buf2, SECTOR) == 0);
    EXPECT(rd(0, DISK_SIZE, buf, SECTOR), -E_RANGE);
    EXPECT(rd(0, last, buf, 2 * SECTOR), -E_RANGE); /* straddles the end: nothing read */
    EXPECT(wr(0, last, buf, 2 * SECTOR), -E_RANGE);
    EXPECT(rd(0, -(uint64_t)SECTOR, buf, 2 * SECTOR), -E_RANGE); /* position + len wraps */
    EXPECT(rd(0, 0, buf, 0), 0);                                 /* zero length */
    EXPECT(xfer(BDEV_READ, 0, 0, 0, 0), 0);                      /* no pieces at all */
    EXPECT(rd(0, 100, buf, SECTOR), -E_INVAL);                   /* not a sector multiple */
    EXPECT(rd(0, 0, buf, 100), -E_INVAL);
    EXPECT(rd(0, 0, buf, BDEV_TRANSFER_MAX + SECTOR), -E_INVAL); /* too long */
    EXPECT(rd(0, 0, buf, BDEV_TRANSFER_MAX), BDEV_TRANSFER_MAX);
    message_t m = {.type = BDEV_READ, .u.bdev.transfer = {0, BDEV_INLINE_PIECES + 1, 0, -1}};
    EXPECT(call(&m), -E_INVAL); /* four inline pieces */
    m = (message_t){.type = 0x4277};
    EXPECT(call(&m), -E_NOSYS);
}

/* Scatter-gather: odd-sized inline pieces, and vectors of BDEV_VEC_MAX pieces (and one more). */
static void test_scatter_gather(void)
{
    fill(buf, 3 * SECTOR, 5);
    struct piece w[3] = {{buf, 100}, {buf + 100, 900}, {buf + 1000, 536}};
    EXPECT(xfer(BDEV_WRITE, 0, 8 * SECTOR, w, 3), 3 * SECTOR);
    memset(buf2, 0, 3 * SECTOR);
    struct piece r[3] = {{buf2, 1000}, {buf2 + 1000, 24}, {buf2 + 1024, 512}};
    EXPECT(xfer(BDEV_READ, 0, 8 * SECTOR, r, 3), 3 * SECTOR);
    CHECK(memcmp(buf, buf2, 3 * SECTOR) == 0);

    /* A vector of BDEV_VEC_MAX pieces of 4 KiB: one whole BDEV_TRANSFER_MAX, pieces backwards */
    static struct bdev_piece vec[BDEV_VEC_MAX + 1];
    uint32_t each = BDEV_TRANSFER_MAX / BDEV_VEC_MAX;
    grant_id_t data = grant_alloc(drv, buf2, BDEV_TRANSFER_MAX, GRANT_WRITE);
    for (int i = 0; i < BDEV_VEC_MAX + 1; i++)
        vec[i] =
            (struct bdev_piece){data, (uint32_t)(BDEV_VEC_MAX - 1 - i % BDEV_VEC_MAX) * each, each};
    grant_id_t vg = grant_alloc(drv, vec, sizeof(vec), GRANT_READ);
    fill(buf, BDEV_TRANSFER_MAX, 6);
    EXPECT(wr(0, 64 * SECTOR, buf, BDEV_TRANSFER_MAX), BDEV_TRANSFER_MAX);
    message_t m = {.type = BDEV_READ, .u.bdev.transfer = {0, BDEV_VEC_MAX, 64 * SECTOR, vg}};
    EXPECT(call(&m), BDEV_TRANSFER_MAX);
    int same = 1;
    for (int i = 0; i < BDEV_VEC_MAX; i++)
        same &= memcmp(buf + (uint64_t)i * each, buf2 + (uint64_t)(BDEV_VEC_MAX - 1 - i) * each,
                       each) == 0;
    CHECK(same);
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, BDEV_VEC_MAX + 1, 0, vg}};
    EXPECT(call(&m), -E_INVAL);
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 0, 0, vg}};
    EXPECT(call(&m), -E_INVAL);
    grant_free(vg);
    grant_free(data);
}

/* Grants that do not exist, are too short, give the wrong access or overflow: refused, and the
 * driver goes on. */
static void test_bad_grants(void)
{
    message_t m = {.type = BDEV_READ, .u.bdev.transfer = {0, 1, 0, -1, {{550, 0, SECTOR}}}};
    EXPECT(call(&m), -E_BADGRANT); /* no such grant */
    grant_id_t ro = grant_alloc(drv, buf, SECTOR, GRANT_READ);
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 1, 0, -1, {{ro, 0, SECTOR}}}};
    CHECK(call(&m) < 0); /* a read into memory it may only read */
    grant_id_t small = grant_alloc(drv, buf, SECTOR, GRANT_READ | GRANT_WRITE);
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 1, 0, -1, {{small, 0, 2 * SECTOR}}}};
    EXPECT(call(&m), -E_RANGE); /* longer than the grant */
    m = (message_t){.type = BDEV_WRITE,
                    .u.bdev.transfer = {0, 1, 0, -1, {{small, 0xffffff00u, SECTOR}}}};
    EXPECT(call(&m), -E_RANGE); /* an offset past the grant */
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 4, 0, 551}};
    EXPECT(call(&m), -E_BADGRANT); /* no such vector grant */
    m = (message_t){.type = BDEV_READ, .u.bdev.transfer = {0, 4, 0, small}};
    CHECK(call(&m) < 0); /* a vector of garbage pieces (the sector's bytes) */
    grant_free(ro);
    grant_free(small);
    EXPECT(rd(0, SECTOR, buf, SECTOR), SECTOR); /* still serving */
    CHECK(memcmp(buf, DISK_MARK, sizeof(DISK_MARK) - 1) == 0);
}

static void test_flush(void)
{
    fill(buf, SECTOR, 7);
    EXPECT(wr(0, 16 * SECTOR, buf, SECTOR), SECTOR);
    EXPECT(simple(BDEV_FLUSH, 0), 0);
    EXPECT(simple(BDEV_FLUSH, 1), 0);
}

/* A new instance knows no open: E_RESTARTED until the client opens the minor again. */
void test_restart_error(void)
{
    endpoint_t old = drv;
    EXPECT(root_service(SVC_KILL, driver, 0), 0);
    drv = announced(old, 5000);
    CHECK(drv > 0);
    EXPECT(rd(0, SECTOR, buf, SECTOR), -E_RESTARTED);
    EXPECT(simple(BDEV_FLUSH, 0), -E_RESTARTED);
    EXPECT(open_minor(0, BDEV_R, 0), 0);
    EXPECT(rd(0, SECTOR, buf, SECTOR), SECTOR);
    CHECK(memcmp(buf, DISK_MARK, sizeof(DISK_MARK) - 1) == 0);
}

/* blockother runs under a label the driver does not serve. */
static void test_not_client(void)
{
    EXPECT(ask("blockother", DO_OPEN, 0), -E_PERM);
    EXPECT(ask("blockother", DO_READ, 0), -E_PERM);
    EXPECT(rd(0, SECTOR, buf, SECTOR), SECTOR);
}

static const struct test tests[] = {
    /* clang-format off */
    {"not_open", test_not_open},
    {"geometry", test_geometry},
    {"partitions", test_partitions},
    {"edges", test_edges},
    {"scatter_gather", test_scatter_gather},
    {"bad_grants", test_bad_grants},
    {"flush", test_flush},
    {"not_client", test_not_client},
    {"two_clients", test_two_clients},
    {"restart_error", test_restart_error},
    {"recovery", test_recovery},
    {"killed_during_init", test_killed_during_init},
    {"stress_kills", test_stress_kills},
    {"device_stall_recovered", test_device_stall},
    {"driver_deaf_replaced", test_driver_deaf},
    {"driver_hang_replaced", test_driver_hang},
    {0},
    /* clang-format on */
};

static const struct test_suite block_suite = {
    .program = "blocktest", .prefix = "block.", .tests = tests};

int main(uint64_t argp)
{
    const char *arg = argp ? (const char *)argp : "";
    int other = strncmp(arg, "other", 5) == 0 && (arg[5] == ' ' || arg[5] == '\0');
    int peer = strncmp(arg, "peer", 4) == 0 && (arg[4] == ' ' || arg[4] == '\0');
    if (other) /* blockother: "other [DRIVER]" */
        arg += arg[5] ? 6 : 5;
    if (peer) /* blockpeer: "peer [DRIVER]" */
        arg += arg[4] ? 5 : 4;
    size_t len = 0;
    while (arg[len] && arg[len] != ' ')
        len++;
    if (len >= sizeof(driver))
        return test_abort(&block_suite, "the first argument must be the driver's label");
    if (len) {
        memcpy(driver, arg, len);
        driver[len] = '\0';
    }
    arg += arg[len] ? len + 1 : len;
    snprintf_s(announce_key, sizeof(announce_key), "%s%s", driver, BDEV_DS_SUFFIX);
    if (other)
        return other_main();
    if (peer)
        return peer_main();
    uint64_t t0 = sys_tsc(), tick0 = sys_uptime(); /* the TSC rate, over 20 ms */
    while (sys_uptime() < tick0 + 20)
        ;
    tsc_per_us = (sys_tsc() - t0) / 20000 ?: 1;
    if ((drv = announced(0, 10000)) <= 0)
        return test_abort(&block_suite, "the driver did not announce itself");
    return test_main(&block_suite, arg);
}
