/*
 * The interfaces' self-test (argument "selftest net nic=... ip=... gw=...", tools/suite_inet.py
 * with QEMU's user networking): inet over a real network driver, inside the running server.
 * ARP and ping to the gateway (slirp, 10.0.2.2), then 16 MiB through a TCP echo server on the
 * host (QEMU forwards 10.0.2.100:7 to it) while tests/servers/netkill has rs kill the driver
 * every 0.3 s: the stream must come back whole, and inet must have initialised the driver's
 * successors and sent its unconfirmed frames again.
 */
#include <samsara/ds.h>
#include "inet.h"
#include "lwip/etharp.h"
#include "netif.h"
#include "test/test.h"

#define HOST_ECHO_PORT 7
#define STRESS_KEY                                                                                 \
    "inet.stress" /* 1 while netkill should kill the driver (tests/servers/netkill) */
#define STRESS_BYTES (16 * 1024 * 1024) /* several seconds: several kills */

static struct nic *nic; /* the first interface of the configuration */

static ip_addr_t addr(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ip_addr_t r;
    IP_ADDR4(&r, a, b, c, d);
    return r;
}

/* More grants than lib/sys's default table holds: inet's own table (GRANT_TABLE) has them. */
static void test_grant_table(void)
{
    static uint8_t byte;
    static grant_id_t g[3 * GRANT_TABLE_DEFAULT];
    int made = 0;
    for (int i = 0; i < 3 * GRANT_TABLE_DEFAULT; i++)
        made += (g[i] = grant_alloc(self_ep, &byte, 1, GRANT_READ)) >= 0;
    EXPECT(made, 3 * GRANT_TABLE_DEFAULT);
    EXPECT(grant_table_size, NETIF_GRANTS);
    for (int i = 0; i < 3 * GRANT_TABLE_DEFAULT; i++)
        grant_free(g[i]);
}

static void test_up(void)
{
    volatile int up = 0;
    for (uint64_t until = sys_uptime() + 20000; !up && sys_uptime() < until;) {
        inet_step(until < sys_uptime() + 100 ? until : sys_uptime() + 100);
        up = nic->added && netif_is_up(&nic->netif) && netif_is_link_up(&nic->netif);
    }
    CHECK(up);
    if (!up)
        return;
    static const uint8_t qemu_mac[NET_ADDR_LEN] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
    CHECK(!memcmp(nic->netif.hwaddr, qemu_mac, NET_ADDR_LEN));
    EXPECT(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&nic->netif))), 0x0a00020f);
    EXPECT(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&nic->netif))), 0xffffff00);
    EXPECT(lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&nic->netif))), 0x0a000202);
    CHECK(netif_default == &nic->netif);
    EXPECT(nic->posted_rx, nic->recv_max);
}

static void test_arp_gateway(void)
{
    ip4_addr_t gw;
    IP4_ADDR(&gw, 10, 0, 2, 2);
    struct eth_addr *mac;
    const ip4_addr_t *ip;
    EXPECT(etharp_request(&nic->netif, &gw), ERR_OK);
    int found = -1;
    for (uint64_t until = sys_uptime() + 5000; found < 0 && sys_uptime() < until;) {
        inet_step(sys_uptime() + 50);
        found = etharp_find_addr(&nic->netif, &gw, &mac, &ip);
    }
    CHECK(found >= 0);
    if (found >= 0)
        printf("inet: 10.0.2.2 is at %02x:%02x:%02x:%02x:%02x:%02x\n", mac->addr[0], mac->addr[1],
               mac->addr[2], mac->addr[3], mac->addr[4], mac->addr[5]);
}

static void test_ping_gateway(void)
{
    ip_addr_t gw = addr(10, 0, 2, 2);
    ping_check(&gw, 5000);
}

/* Tell netkill to start (1) or stop (0) killing the driver. */
static void stress(uint64_t on)
{
    int r = ds_publish_u64(STRESS_KEY, on, DS_OVERWRITE);
    if (r < 0)
        printf("inet: cannot publish %s: %s\n", STRESS_KEY, strerror_s(-r));
    EXPECT(r, 0);
}

static void test_tcp_host_echo_killed(void)
{
    ip_addr_t host = addr(10, 0, 2, 100);
    uint64_t inits = nic->inits, resent = nic->resent;
    stress(1);
    stream_echo(&host, HOST_ECHO_PORT, STRESS_BYTES, 240000);
    stress(0);
    printf("inet: %s during the stream: %lu new instances initialised, %lu frames sent again, "
           "%lu complaints, %lu frames dropped (FIFO full)\n",
           nic->label, nic->inits - inits, nic->resent - resent, nic->complaints, nic->tx_dropped);
    CHECK(nic->inits - inits >= 3); /* the driver did die, and came back, during the stream */
}

static const struct test tests[] = {
    {"grant_table", test_grant_table},
    {"up", test_up},
    {"arp_gateway", test_arp_gateway},
    {"ping_gateway", test_ping_gateway},
    {"tcp_host_echo_killed", test_tcp_host_echo_killed},
    {0},
};

int netif_selftest(const char *args)
{
    nic = nic_find("virtio_net");
    return inet_run_tests("inet.net.", tests,
                          nic ? 0 : "no interface for virtio_net in the configuration", args);
}
