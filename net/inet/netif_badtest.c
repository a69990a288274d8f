/*
 * The self-test over the hostile driver (argument "selftest badnet nic=badnet ip=... gw=...",
 * tools/suite_inet.py's third boot; the driver is tests/drivers/badnet, docs/INET.md "A hostile
 * driver"). badnet's wire is a pretend host at 10.0.2.2 answering ARP, pings and UDP echo; this
 * test talks to badnet with words in UDP datagrams to that host's port 9:
 *
 *  - "frames": badnet delivers thousands of malformed frames (its frames.c), some to the TCP
 *    and UDP sockets open here on port 7, and ends with "done N" to our port 9. inet must take
 *    them all without complaining about the driver, and still work after: TCP over loopback,
 *    a ping and a UDP echo through badnet.
 *  - "garbage": each badnet instance then breaks the NET protocol in one way; inet must report
 *    each to rs, which restarts badnet with the next, until a well-behaved instance answers
 *    "clean N". inet must have complained exactly N times and must work through it again.
 *  - "report": badnet prints rs's counters and log for the host (who checks them).
 */
#include "inet.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "netif.h"
#include "test/test.h"

#define PEER_PORT_ECHO 7
#define CONTROL_PORT 9
#define FRAMES_MIN 3000 /* badnet's random frames alone */

static struct nic *nic;
static struct udp_pcb *control, *udp_sink, *udp_client;
static struct tcp_pcb *tcp_sink;
static char heard[32];             /* the last word from badnet */
static volatile int heard_any;     /* set at each word */
static volatile int echo_back;     /* our UDP datagram came back from the peer */
static uint64_t sunk, connections; /* what the sockets on port 7 took */

static ip_addr_t peer(void)
{
    ip_addr_t r;
    IP_ADDR4(&r, 10, 0, 2, 2);
    return r;
}

static void heard_word(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                       u16_t port)
{
    (void)arg, (void)pcb, (void)addr, (void)port;
    u16_t n = pbuf_copy_partial(p, heard, sizeof(heard) - 1, 0);
    heard[n] = 0;
    heard_any = 1;
    pbuf_free(p);
}

static void say(const char *word)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)strlen(word), PBUF_RAM);
    if (!p)
        return;
    memcpy(p->payload, word, strlen(word));
    ip_addr_t to = peer();
    udp_sendto(control, p, &to, CONTROL_PORT);
    pbuf_free(p);
}

static void udp_sunk(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                     u16_t port)
{
    (void)arg, (void)pcb, (void)addr, (void)port;
    sunk += p->tot_len;
    pbuf_free(p);
}

static err_t tcp_sunk(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg, (void)err;
    if (!p) {
        tcp_arg(pcb, NULL);
        tcp_recv(pcb, NULL);
        if (tcp_close(pcb) != ERR_OK) {
            tcp_abort(pcb);
            return ERR_ABRT;
        }
        return ERR_OK;
    }
    sunk += p->tot_len;
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
}

static err_t sink_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    connections++;
    tcp_recv(pcb, tcp_sunk);
    return ERR_OK;
}

static void echoed(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                   u16_t port)
{
    (void)arg, (void)pcb, (void)addr;
    int ok = port == PEER_PORT_ECHO && p->tot_len == 100;
    for (u16_t i = 0; ok && i < 100; i++)
        ok = pbuf_get_at(p, i) == (uint8_t)(i * 7);
    echo_back = ok ? 1 : -1;
    pbuf_free(p);
}

/* The sockets on this interface's address: control (9), sinks (7), a UDP client. */
static const char *open_sockets(void)
{
    const ip_addr_t *me = &nic->netif.ip_addr;
    control = udp_new(), udp_sink = udp_new(), udp_client = udp_new();
    struct tcp_pcb *pcb = tcp_new();
    if (!control || !udp_sink || !udp_client || !pcb)
        return "no pcb";
    if (udp_bind(control, me, CONTROL_PORT) != ERR_OK || udp_bind(udp_sink, me, 7) != ERR_OK ||
        udp_bind(udp_client, me, 5555) != ERR_OK || tcp_bind(pcb, me, 7) != ERR_OK)
        return "bind";
    udp_recv(control, heard_word, NULL);
    udp_recv(udp_sink, udp_sunk, NULL);
    udp_recv(udp_client, echoed, NULL);
    if (!(tcp_sink = tcp_listen(pcb)))
        return "listen";
    tcp_accept(tcp_sink, sink_accept);
    return 0;
}

/* Wait up to ms for a word starting with `prefix`, saying `word` every 100 ms (0: never). */
static int hear(const char *prefix, const char *word, uint64_t ms)
{
    uint64_t until = sys_uptime() + ms;
    while (sys_uptime() < until) {
        if (word)
            say(word);
        heard_any = 0;
        heard[0] = 0;
        uint64_t next = sys_uptime() + 100;
        while (sys_uptime() < next && strncmp(heard, prefix, strlen(prefix)))
            inet_step(next);
        if (!strncmp(heard, prefix, strlen(prefix)))
            return 1;
    }
    return 0;
}

static void udp_echo_through_peer(void)
{
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, 100, PBUF_RAM);
    CHECK(p != NULL);
    if (!p)
        return;
    for (int i = 0; i < 100; i++)
        ((uint8_t *)p->payload)[i] = (uint8_t)(i * 7);
    ip_addr_t to = peer();
    echo_back = 0;
    EXPECT(udp_sendto(udp_client, p, &to, PEER_PORT_ECHO), ERR_OK);
    pbuf_free(p);
    CHECK(run_until(&echo_back, 5000));
    EXPECT(echo_back, 1);
}

static void test_up(void)
{
    volatile int up = 0;
    for (uint64_t until = sys_uptime() + 20000; !up && sys_uptime() < until;) {
        inet_step(sys_uptime() + 100);
        up = nic->added && netif_is_up(&nic->netif) && netif_is_link_up(&nic->netif);
    }
    CHECK(up);
    static const uint8_t mac[NET_ADDR_LEN] = {0x02, 0x00, 0x00, 0x00, 0x0b, 0xad};
    CHECK(!memcmp(nic->netif.hwaddr, mac, NET_ADDR_LEN));
    const char *why = open_sockets();
    if (why)
        printf("inet: badnet test sockets: %s\n", why);
    CHECK(why == NULL);
}

static void test_peer_answers(void)
{
    ip_addr_t to = peer();
    ping_check(&to, 5000);
    udp_echo_through_peer();
}

static void test_malformed_frames(void)
{
    uint64_t inits = nic->inits, received = nic->received;
    CHECK(hear("done", "frames", 1000) || hear("done", 0, 60000));
    uint64_t made = 0;
    for (const char *c = heard + 4; *c == ' ' || (*c >= '0' && *c <= '9'); c++)
        made = *c == ' ' ? made : made * 10 + (uint64_t)(*c - '0');
    printf("inet: badnet: %lu malformed frames sent, %lu received; %lu bytes and %lu "
           "connections on port 7; lwIP drops: link %u, etharp %u, ip %u, frag %u, icmp %u, udp "
           "%u, tcp %u\n",
           made, nic->received - received, sunk, connections, lwip_stats.link.drop,
           lwip_stats.etharp.drop, lwip_stats.ip.drop, lwip_stats.ip_frag.drop,
           lwip_stats.icmp.drop, lwip_stats.udp.drop, lwip_stats.tcp.drop);
    CHECK(made >= FRAMES_MIN);
    CHECK(nic->received - received >= made);
    CHECK(connections >= 1); /* the connection badnet took past the handshake */
    EXPECT(nic->complaints, 0);
    EXPECT(nic->inits, inits); /* the same instance throughout */
}

static void test_still_works(void)
{
    /* badnet's SYNs from hundreds of ports left half-open connections: sockets still open */
    struct tcp_pcb *pcbs[8];
    int made = 0;
    for (int i = 0; i < 8; i++)
        made += (pcbs[i] = tcp_new()) != NULL;
    printf("inet: badnet: %d of 8 new TCP pcbs; %lu half-open connections aborted\n", made,
           half_open_aborted);
    EXPECT(made, 8);
    for (int i = 0; i < 8; i++)
        if (pcbs[i])
            tcp_close(pcbs[i]);
    loopback_echo(256 * 1024);
    test_peer_answers();
}

static void test_garbage_answers(void)
{
    CHECK(hear("clean", "garbage", 60000));
    uint64_t cases = 0;
    for (const char *c = heard + 6; *c >= '0' && *c <= '9'; c++)
        cases = cases * 10 + (uint64_t)(*c - '0');
    printf("inet: badnet: %lu garbage cases, %lu complaints, %lu instances initialised\n", cases,
           nic->complaints, nic->inits);
    CHECK(cases > 0);
    EXPECT(nic->complaints, cases); /* one for each, no more */
    test_peer_answers();            /* the well-behaved instance works */
    loopback_echo(64 * 1024);
    say("report");
    inet_step(sys_uptime() + 50);
}

static const struct test tests[] = {
    {"up", test_up},
    {"peer_answers", test_peer_answers},
    {"malformed_frames", test_malformed_frames},
    {"still_works", test_still_works},
    {"garbage_answers", test_garbage_answers},
    {0},
};

int netif_badtest(const char *args)
{
    nic = nic_find("badnet");
    return inet_run_tests("inet.bad.", tests,
                          nic ? 0 : "no interface for badnet in the configuration", args);
}
