/*
 * nettest: the NET protocol (samsara/net.h) against a real driver, with
 * nettest playing inet. Boot root, ds, pci, the driver and nettest, with
 * the driver's device on QEMU's user networking (tools/suite_net.py). The
 * argument's first word is the driver's label (virtio_net without one:
 * `nettest rtl8139`, `nettest e1000 only=arp_reply`); the rest goes to lib/test (a test name,
 * "exit"). Each test prints "TEST net.NAME PASS|FAIL"; the last line is "nettest: N passed, M
 * failed"; then QEMU exits.
 *
 * Traffic: one ARP request for 10.0.2.2 (QEMU's user networking, the host's
 * side), answered by slirp; nothing leaves the host.
 *
 * Recovery: rs kills the driver (SVC_KILL) again and again; each time the
 * new instance announces itself in ds (LABEL.net), nettest initialises
 * it with new grants, and an ARP exchange must succeed. The time from the
 * kill to the first good frame received is printed, per kill and on average.
 */
#include <samsara/ds.h>
#include <samsara/net.h>
#include <samsara/root.h>
#include "format/format.h"
#include "sys.h"
#define TEST_LEAVE return
#include "test/test.h"

static char driver[32] = "virtio_net"; /* the driver's label: the first word of the argument */
static char announce[DS_KEY_MAX];      /* its announcement in ds: LABEL.net */
#define RX_BUFS 8
#define KILLS 10
#define MANY_FRAMES 400
#define SEND_BURST 12 /* within NETDRIVER_SEND_MAX (16), beyond any device's transmit slots */
/* A mean recovery above this fails: far above the few ms a restart takes under TCG, far below
 * the second QEMU's e1000 withholds frames after an RCTL write (drivers/net/e1000). */
#define RECOVERY_MEAN_MAX_US 250000

static struct net_mailbox box;
static uint8_t rx_buf[RX_BUFS][NET_FRAME_MAX];
static uint8_t tx_buf[64];
static grant_id_t box_grant = -1, rx_grant[RX_BUFS], tx_grant = -1;
static endpoint_t drv, ds;
static uint8_t mac[NET_ADDR_LEN];
static uint64_t next_id = 1, tsc_per_us = 1;
static uint64_t other_frames; /* frames received that were not the ARP reply awaited */

static const uint8_t qemu_mac[NET_ADDR_LEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
static const uint8_t my_ip[4] = {10, 0, 2, 15}, host_ip[4] = {10, 0, 2, 2};

static uint64_t now_us(void)
{
    return sys_tsc() / tsc_per_us;
}

static int call(message_t *m)
{
    int r = ipc_sendrec_bounded(drv, m, 1000); /* never wait for a driver for good */
    if (r < 0)
        return r;
    return m->type == NET_REPLY ? (int)m->u.net.reply.result : -E_INVAL;
}

static int frame_rq(int type, uint64_t id, grant_id_t g, uint32_t len)
{
    message_t m = {.type = type, .u.net.frame = {.id = id, .count = 1, .piece = {{g, 0, len}}}};
    return call(&m);
}

/* Wait up to ms for a notification from the driver or ds (1), or nothing (0). */
static int wait_notify(uint64_t ms)
{
    sys_alarm(ms);
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0)
            continue;
        if (m.source == SYSTEM && (m.u.notify.bits & NOTIFY_ALARM))
            return 0;
        if (m.type == MSG_NOTIFY && (m.source == drv || m.source == ds)) {
            sys_alarm(0);
            return 1;
        }
    }
}

/* The driver's endpoint from its announcement, once it differs from `old`; 0 if none came. */
static endpoint_t announced(endpoint_t old, uint64_t ms)
{
    uint64_t until = sys_uptime() + ms;
    for (;;) {
        char key[DS_KEY_MAX];
        uint64_t ep;
        while (ds_check(key, sizeof(key)) > 0)
            ;
        if (ds_retrieve_u64(announce, &ep) == 0 && (endpoint_t)ep != old && (endpoint_t)ep > 0)
            return (endpoint_t)ep;
        if (sys_uptime() >= until)
            return 0;
        wait_notify(until - sys_uptime());
    }
}

static void release_grants(void)
{
    grant_free(box_grant);
    grant_free(tx_grant);
    for (int i = 0; i < RX_BUFS; i++)
        grant_free(rx_grant[i]);
}

/* Grants to the current driver instance (grants name one endpoint), NET_INIT, and receive
 * buffers: 0 or an error. */
static uint32_t drv_flags; /* init_reply.flags */

/* A NET_RECVV of `count` buffers, each rx_grant[0] (or `grant`) and `len` bytes. */
static int recvv_rq(uint32_t count, uint32_t len, int32_t grant)
{
    message_t m = {.type = NET_RECVV, .u.net.recvv = {.id = 5000, .count = count, .len = len}};
    for (int i = 0; i < NET_RECVV_MAX; i++)
        m.u.net.recvv.grant[i] = grant;
    return call(&m);
}

static int init_driver(void)
{
    release_grants();
    memset(&box, 0, sizeof(box));
    box_grant = grant_alloc(drv, &box, sizeof(box), GRANT_READ | GRANT_WRITE);
    tx_grant = grant_alloc(drv, tx_buf, sizeof(tx_buf), GRANT_READ);
    for (int i = 0; i < RX_BUFS; i++)
        rx_grant[i] = grant_alloc(drv, rx_buf[i], NET_FRAME_MAX, GRANT_WRITE);
    message_t m = {.type = NET_INIT, .u.net.init = {box_grant, sizeof(box), NET_MODE_BROADCAST}};
    int r = call(&m);
    if (r < 0)
        return r;
    memcpy(mac, m.u.net.init_reply.mac, NET_ADDR_LEN);
    drv_flags = m.u.net.init_reply.flags;
    for (int i = 0; i < RX_BUFS && r == 0; i++)
        r = frame_rq(NET_RECV, 1000 + i, rx_grant[i], NET_FRAME_MAX);
    return r;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* An ARP request for 10.0.2.2 from us, in tx_buf: its length. */
static uint32_t arp_request(void)
{
    uint8_t *p = tx_buf;
    memset(p, 0, sizeof(tx_buf));
    memset(p, 0xff, 6);
    memcpy(p + 6, mac, 6);
    put16(p + 12, 0x0806);
    put16(p + 14, 1);      /* Ethernet */
    put16(p + 16, 0x0800); /* IPv4 */
    p[18] = 6;
    p[19] = 4;
    put16(p + 20, 1); /* request */
    memcpy(p + 22, mac, 6);
    memcpy(p + 28, my_ip, 4);
    memcpy(p + 38, host_ip, 4);
    return 60; /* the minimum Ethernet frame without CRC */
}

static int is_arp_reply(const uint8_t *p, int64_t len)
{
    return len >= 42 && !memcmp(p, mac, 6) && p[12] == 0x08 && p[13] == 0x06 && p[20] == 0 &&
           p[21] == 2 && !memcmp(p + 28, host_ip, 4) && !memcmp(p + 38, my_ip, 4);
}

/*
 * Take the mailbox's items: NET_ST_SENT items with value 0 for ids lo..hi-1 count in *sent;
 * receive buffers go back to the driver as they are used. Returns the ARP replies received
 * (the replier's MAC in replier); other frames count in other_frames.
 */
static int take_items(uint64_t lo, uint64_t hi, int *sent, uint8_t replier[6])
{
    int got = 0;
    uint64_t head = box.head, was_full = head - box.tail >= NET_MAILBOX_ITEMS;
    __asm__ volatile("" ::: "memory");
    while (box.tail != head) {
        struct net_status_item it = box.item[box.tail % NET_MAILBOX_ITEMS];
        box.tail++;
        if (it.kind == NET_ST_SENT && it.id >= lo && it.id < hi)
            *sent += it.value == 0;
        if (it.kind == NET_ST_RECEIVED && it.id >= 1000 && it.id < 1000 + RX_BUFS) {
            int b = (int)(it.id - 1000);
            if (is_arp_reply(rx_buf[b], it.value)) {
                memcpy(replier, rx_buf[b] + 22, 6);
                got++;
            } else {
                other_frames++;
            }
            frame_rq(NET_RECV, it.id, rx_grant[b], NET_FRAME_MAX);
        }
    }
    if (was_full)
        ipc_notify(drv); /* room again: the driver writes what it kept back */
    return got;
}

/*
 * Send an ARP request and take mailbox items until its reply comes (1), or until ms pass
 * (0). *sent counts NET_ST_SENT items for the request.
 */
static int arp_exchange(uint64_t ms, int *sent, uint8_t replier[6])
{
    uint64_t id = next_id++, until = sys_uptime() + ms;
    if (frame_rq(NET_SEND, id, tx_grant, arp_request()) < 0)
        return 0;
    for (;;) {
        if (take_items(id, id + 1, sent, replier))
            return 1;
        if (sys_uptime() >= until)
            return 0;
        wait_notify(until - sys_uptime());
    }
}

static void test_init(void)
{
    drv = announced(0, 5000);
    CHECK(drv > 0);
    message_t m = {.type = NET_STAT};
    EXPECT(call(&m), -E_SRCH); /* ignored until initialised */
    EXPECT(init_driver(), 0);
    CHECK(!memcmp(mac, qemu_mac, NET_ADDR_LEN));
    m = (message_t){.type = NET_STAT};
    EXPECT(call(&m), 0);
}

static void test_bad_requests(void)
{
    message_t m = {.type = NET_SEND, .u.net.frame = {.id = 1, .count = 0}};
    EXPECT(call(&m), -E_INVAL);
    EXPECT(frame_rq(NET_SEND, 1, tx_grant, NET_FRAME_MIN - 1), -E_INVAL);
    EXPECT(frame_rq(NET_SEND, 1, tx_grant, NET_FRAME_MAX + 1), -E_INVAL);
    EXPECT(frame_rq(NET_RECV, 1, rx_grant[0], 100), -E_INVAL); /* too small for a frame */
    CHECK(drv_flags & NET_F_RECVV); /* lib/netdriver takes NET_RECVV: each bad one, none kept */
    EXPECT(recvv_rq(0, NET_FRAME_MAX, rx_grant[0]), -E_INVAL);
    EXPECT(recvv_rq(NET_RECVV_MAX + 1, NET_FRAME_MAX, rx_grant[0]), -E_INVAL);
    EXPECT(recvv_rq(2, NET_FRAME_MAX - 1, rx_grant[0]), -E_INVAL);
    EXPECT(recvv_rq(2, NET_FRAME_MAX, -1), -E_INVAL);
    m = (message_t){.type = NET_SEND, .u.net.frame = {.id = 1, .count = 4}};
    EXPECT(call(&m), -E_INVAL);
    m = (message_t){.type = NET_MODE, .u.net.mode = {0x80}};
    EXPECT(call(&m), -E_INVAL);
    m = (message_t){.type = NET_RQ_BASE + 0x40};
    EXPECT(call(&m), -E_NOSYS);
    m = (message_t){.type = NET_INIT, .u.net.init = {box_grant, 8, 0}}; /* box too small */
    EXPECT(call(&m), -E_INVAL);
    EXPECT(init_driver(), 0); /* and a good NET_INIT makes it work again */
}

static void test_arp(void)
{
    int sent = 0;
    uint8_t replier[6];
    CHECK(arp_exchange(3000, &sent, replier));
    CHECK(sent == 1);
    printf("nettest: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x\n", replier[0], replier[1],
           replier[2], replier[3], replier[4], replier[5]);
    message_t m = {.type = NET_STAT};
    EXPECT(call(&m), 0);
    CHECK(m.u.net.stat_reply.sent >= 1 && m.u.net.stat_reply.received >= 1);
}

/*
 * Many frames through one instance: 400 ARP exchanges, each reply checked, none lost and no
 * other frame (a damaged reply is one). A receive ring wraps around: rtl8139's 8 KiB holds 120
 * of slirp's 68-byte records (header, 60 bytes, CRC), so it wraps 3 times and each wrap splits a
 * frame 32 bytes further on, twice within the ARP reply's 42 meaningful bytes. Every reply must
 * still arrive whole.
 */
static void test_many_frames(void)
{
    uint64_t others = other_frames;
    int sent = 0;
    for (int i = 0; i < MANY_FRAMES; i++) {
        uint8_t replier[6];
        int ok = arp_exchange(1000, &sent, replier);
        if (!ok || other_frames != others)
            printf("nettest: ARP exchange %d of %d: %s, %lu other frames\n", i + 1, MANY_FRAMES,
                   ok ? "answered" : "no answer", other_frames - others);
        CHECK(ok && other_frames == others);
    }
}

/*
 * More sends at once than a device has transmit slots (rtl8139: 4): the driver answers
 * NETDRIVER_BUSY for the rest and the library hands them over as slots free up. Every frame is
 * confirmed sent, and slirp answers each.
 */
static void test_send_burst(void)
{
    uint32_t len = arp_request();
    uint64_t first = next_id, until = sys_uptime() + 3000;
    for (int i = 0; i < SEND_BURST; i++)
        EXPECT(frame_rq(NET_SEND, next_id++, tx_grant, len), 0);
    int sent = 0, replies = 0;
    uint8_t replier[6];
    for (uint64_t now; sent < SEND_BURST || replies < SEND_BURST; wait_notify(until - now)) {
        replies += take_items(first, next_id, &sent, replier);
        if ((now = sys_uptime()) >= until || (sent == SEND_BURST && replies == SEND_BURST))
            break;
    }
    printf("nettest: a burst of %d sends: %d confirmed, %d replies\n", SEND_BURST, sent, replies);
    EXPECT(sent, SEND_BURST);
    EXPECT(replies, SEND_BURST);
}

/* An ARP exchange with slirp within 20 tries (slirp may not answer the first): 1 if one came. */
static int arp_resumes(void)
{
    int sent = 0, ok = 0;
    uint8_t replier[6];
    for (int tries = 0; tries < 20 && !ok; tries++)
        ok = arp_exchange(200, &sent, replier);
    return ok;
}

/* Kill the driver KILLS times; each time traffic must resume. */
static void test_recovery(void)
{
    uint64_t total = 0, worst = 0;
    for (int k = 1; k <= KILLS; k++) {
        endpoint_t old = drv;
        uint64_t t0 = now_us();
        EXPECT(root_service(SVC_KILL, driver, 0), 0);
        drv = announced(old, 5000);
        CHECK(drv > 0);
        uint64_t t_up = now_us();
        EXPECT(init_driver(), 0);
        int ok = arp_resumes();
        uint64_t us = now_us() - t0;
        printf("nettest: kill %d: announced after %lu us, first good frame after %lu us\n", k,
               t_up - t0, us);
        CHECK(ok);
        total += us;
        worst = us > worst ? us : worst;
    }
    printf("nettest: recovery (kill to first good frame) over %d kills: mean %lu us, max %lu us\n",
           KILLS, total / KILLS, worst);
    CHECK(total / KILLS < RECOVERY_MEAN_MAX_US);
}

/*
 * Kill the driver again while its successor starts (rs restarting it, the pci calls, the
 * device reset, the rings): at 0.5, 1, ... 3 ms after the first kill, before the successor
 * announced itself (about 3 ms under TCG). The instance after that must pass traffic.
 */
static void test_killed_during_init(void)
{
    for (int k = 1; k <= 6; k++) {
        endpoint_t old = drv;
        EXPECT(root_service(SVC_KILL, driver, 0), 0);
        uint64_t until = now_us() + 500ull * k;
        while (now_us() < until)
            ;
        int r = root_service(SVC_KILL, driver, 0); /* E_SRCH if it is between instances */
        CHECK(r == 0 || r == -E_SRCH);
        drv = announced(old, 5000);
        CHECK(drv > 0);
        /* on a slow machine the successor may have announced itself before the second kill
         * found it: then the instance after that one is the one to use */
        int got = init_driver();
        if (got == -E_DEADEP) {
            drv = announced(drv, 5000);
            CHECK(drv > 0);
            got = init_driver();
        }
        EXPECT(got, 0);
        CHECK(arp_resumes());
    }
}

/*
 * The pci server is killed and comes back (its reservations kept in ds, docs/PCI.md): the
 * driver's device privileges are the kernel's, so traffic goes on; then the driver is killed,
 * rs has the new pci server quiesce its device, and its successor reserves the device from the
 * new pci server and passes traffic.
 */
static void test_after_pci_restart(void)
{
    uint64_t old = 0, now = 0;
    EXPECT(ds_retrieve_u64("ep.pci", &old), 0);
    EXPECT(root_service(SVC_KILL, "pci", 0), 0);
    for (int i = 0; i < 500 && (ds_retrieve_u64("ep.pci", &now) < 0 || !now || now == old); i++)
        wait_notify(10);
    CHECK(now && now != old);
    CHECK(arp_resumes());
    endpoint_t prev = drv;
    EXPECT(root_service(SVC_KILL, driver, 0), 0);
    drv = announced(prev, 5000);
    CHECK(drv > 0);
    EXPECT(init_driver(), 0);
    CHECK(arp_resumes());
}

/* A sender that is no client is refused; a client's second NET_INIT takes over. */
static void test_not_initialised_after_restart(void)
{
    endpoint_t old = drv;
    EXPECT(root_service(SVC_KILL, driver, 0), 0);
    drv = announced(old, 5000);
    CHECK(drv > 0);
    message_t m = {.type = NET_STAT};
    EXPECT(call(&m), -E_SRCH); /* a new instance knows no client */
    EXPECT(init_driver(), 0);
}

static const struct test tests[] = {
    /* clang-format off */
    {"init", test_init},
    {"bad_requests", test_bad_requests},
    {"arp_reply", test_arp},
    {"many_frames", test_many_frames},
    {"send_burst", test_send_burst},
    {"restart_needs_init", test_not_initialised_after_restart},
    {"recovery", test_recovery},
    {"killed_during_init", test_killed_during_init},
    {"after_pci_restart", test_after_pci_restart},
    {0},
    /* clang-format on */
};

static const struct test_suite net_suite = {.program = "nettest", .prefix = "net.", .tests = tests};

int main(uint64_t argp)
{
    const char *arg = argp ? (const char *)argp : "";
    size_t len = 0;
    while (arg[len] && arg[len] != ' ')
        len++;
    if (len >= sizeof(driver))
        return test_abort(&net_suite, "the first argument must be the driver's label");
    if (len) { /* none: virtio_net */
        memcpy(driver, arg, len);
        driver[len] = '\0';
    }
    snprintf_s(announce, sizeof(announce), "%s.net", driver);
    arg += arg[len] ? len + 1 : len;
    uint64_t t0 = sys_tsc(), tick0 = sys_uptime(); /* the TSC rate, over 20 ms */
    while (sys_uptime() < tick0 + 20)
        ;
    tsc_per_us = (sys_tsc() - t0) / 20000 ?: 1;
    for (int i = 0; i < 100 && (ds = ds_endpoint()) <= 0; i++)
        wait_notify(10);
    if (ds <= 0 || ds_subscribe(announce, DS_INITIAL) < 0)
        return test_abort(&net_suite, "no ds");
    for (int i = 0; i < RX_BUFS; i++)
        rx_grant[i] = -1;
    return test_main(&net_suite, arg);
}
