/*
 * inet's self-test (argument "selftest", tools/suite_inet.py): lwIP's
 * protocols end to end over the loopback interface, inside the running
 * server, each test a table entry of lib/test ("TEST inet.NAME PASS|FAIL").
 * A test sets up lwIP's callbacks and then turns inet's own loop
 * (inet_step) until its condition holds or its deadline passes, so the
 * heartbeat is answered and the timers run exactly as in service; after
 * the summary line inet goes on serving (QEMU is left to the host).
 */
#include "inet.h"
#include "lwip/icmp.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/timeouts.h"
#include "lwip/udp.h"
#include "sys.h"
#include "test/test.h"

#define ECHO_PORT 7
#define CLOSED_PORT 9 /* nobody listens: a connection is refused */
#define STREAM_BYTES (1024 * 1024)
#define DEADLINE_MS 60000 /* TCG on a loaded machine is slow; a hang still ends */

/* Turn inet's loop until *done or the deadline (ms from now); 1 if done. */
int run_until(const volatile int *done, uint64_t ms)
{
    uint64_t deadline = sys_uptime() + ms;
    while (!*done && sys_uptime() < deadline)
        inet_step(deadline);
    return *done;
}

static ip_addr_t loopback(void)
{
    ip_addr_t a;
    IP_ADDR4(&a, 127, 0, 0, 1);
    return a;
}

/* The stream the client sends: byte i of it, not periodic over a window's length. */
static uint8_t stream_byte(uint32_t i)
{
    return (uint8_t)(((i * 2654435761u) >> 24) ^ (i >> 11));
}

static uint32_t fnv1a(uint32_t h, uint8_t b)
{
    return (h ^ b) * 16777619u;
}

/* ---- lo: up at 127.0.0.1/8 from lwip_init ---- */

static void test_loopback_up(void)
{
    struct netif *lo = netif_find("lo0");
    CHECK(lo != NULL);
    if (!lo)
        return;
    CHECK(netif_is_up(lo));
    CHECK(netif_is_link_up(lo));
    EXPECT(lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(lo))), 0x7f000001);
    EXPECT(lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(lo))), 0xff000000);
}

/* ---- lwIP's timeouts run from KC_ALARM when nothing else happens ---- */

static void timeout_fired(void *arg)
{
    *(volatile int *)arg = 1;
}

static void test_timeout_fires(void)
{
    static volatile int fired;
    fired = 0;
    uint64_t start = sys_uptime();
    sys_timeout(50, timeout_fired, (void *)&fired);
    CHECK(run_until(&fired, 2000));
    uint64_t took = sys_uptime() - start;
    CHECK(took >= 50);
    CHECK(took < 500); /* a missed alarm shows as the next heartbeat, 1000 ms on */
    if (!fired)
        sys_untimeout(timeout_fired, (void *)&fired);
}

/* ---- TCP: an echo server on 127.0.0.1:7 and a client streaming 1 MiB through it ---- */

/* The server's side of one connection: what it received and has not yet echoed. */
static struct echo_conn {
    struct tcp_pcb *pcb;
    struct pbuf *pending; /* received, not yet written back (its window stays closed) */
    int peer_closed;
} echo;

static struct tcp_pcb *echo_listener;

static void echo_close(void)
{
    if (!echo.pcb)
        return;
    tcp_arg(echo.pcb, NULL);
    tcp_recv(echo.pcb, NULL);
    tcp_sent(echo.pcb, NULL);
    tcp_err(echo.pcb, NULL);
    if (tcp_close(echo.pcb) != ERR_OK)
        tcp_abort(echo.pcb);
    echo.pcb = NULL;
}

/* Write back as much of what is pending as the send buffer takes; open the window as much. */
static void echo_flush(void)
{
    while (echo.pending && echo.pcb) {
        if (!echo.pending->len) { /* an empty pbuf in the chain: nothing to write of it */
            struct pbuf *rest = pbuf_dechain(echo.pending);
            pbuf_free(echo.pending);
            echo.pending = rest;
            continue;
        }
        uint32_t room = tcp_sndbuf(echo.pcb);
        uint16_t n = echo.pending->len < room ? echo.pending->len : (uint16_t)room;
        if (!n || tcp_write(echo.pcb, echo.pending->payload, n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* full: tcp_sent calls again */
        tcp_recved(echo.pcb, n);
        echo.pending = pbuf_free_header(echo.pending, n);
    }
    if (echo.pcb)
        tcp_output(echo.pcb);
    if (echo.peer_closed && !echo.pending)
        echo_close();
}

static err_t echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg, (void)pcb, (void)err;
    if (!p)
        echo.peer_closed = 1;
    else if (echo.pending)
        pbuf_cat(echo.pending, p);
    else
        echo.pending = p;
    echo_flush();
    return ERR_OK;
}

static err_t echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg, (void)pcb, (void)len;
    echo_flush();
    return ERR_OK;
}

static void echo_err(void *arg, err_t err)
{
    (void)arg;
    printf("inet: echo connection error %d\n", err);
    echo.pcb = NULL; /* lwIP freed it */
}

static err_t echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    if (echo.pcb) { /* one connection at a time */
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    echo = (struct echo_conn){.pcb = pcb};
    tcp_recv(pcb, echo_recv);
    tcp_sent(pcb, echo_sent);
    tcp_err(pcb, echo_err);
    return ERR_OK;
}

/* 0, or what failed */
static const char *echo_listen(void)
{
    struct tcp_pcb *pcb = tcp_new();
    if (!pcb)
        return "tcp_new";
    ip_addr_t lo = loopback();
    if (tcp_bind(pcb, &lo, ECHO_PORT) != ERR_OK) {
        tcp_close(pcb);
        return "tcp_bind";
    }
    echo_listener = tcp_listen(pcb);
    if (!echo_listener) {
        tcp_close(pcb);
        return "tcp_listen";
    }
    tcp_accept(echo_listener, echo_accept);
    return 0;
}

/* The client: sends the stream, checks every byte that comes back. */
static struct stream_client {
    struct tcp_pcb *pcb;
    uint32_t total; /* bytes to send */
    uint32_t sent, received;
    uint32_t sum_sent, sum_received; /* FNV-1a of each direction */
    uint32_t mismatches, first_bad;
    err_t error; /* from tcp_err */
    int connected;
    volatile int done; /* everything came back, or an error */
} cl;

static void client_fill(void)
{
    static uint8_t chunk[16384];
    while (cl.pcb && cl.sent < cl.total) {
        uint32_t n = cl.total - cl.sent, room = tcp_sndbuf(cl.pcb);
        n = n < sizeof(chunk) ? n : sizeof(chunk);
        n = n < room ? n : room;
        if (!n)
            break;
        for (uint32_t i = 0; i < n; i++)
            chunk[i] = stream_byte(cl.sent + i);
        if (tcp_write(cl.pcb, chunk, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break; /* queue full: tcp_sent calls again */
        for (uint32_t i = 0; i < n; i++)
            cl.sum_sent = fnv1a(cl.sum_sent, chunk[i]);
        cl.sent += n;
    }
    if (cl.pcb)
        tcp_output(cl.pcb);
}

static err_t client_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg, (void)err;
    if (!p) { /* the server closed: it must have echoed everything first */
        cl.done = 1;
        return ERR_OK;
    }
    for (struct pbuf *q = p; q; q = q->next)
        for (u16_t i = 0; i < q->len; i++, cl.received++) {
            uint8_t b = ((uint8_t *)q->payload)[i];
            cl.sum_received = fnv1a(cl.sum_received, b);
            if (b != stream_byte(cl.received) && !cl.mismatches++)
                cl.first_bad = cl.received;
        }
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    if (cl.received >= cl.total && cl.pcb) {
        tcp_close(cl.pcb); /* the server sees the end and closes its side */
        cl.pcb = NULL;
        cl.done = 1;
    }
    return ERR_OK;
}

static err_t client_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg, (void)pcb, (void)len;
    client_fill();
    return ERR_OK;
}

static void client_err(void *arg, err_t err)
{
    (void)arg;
    cl.error = err;
    cl.pcb = NULL;
    cl.done = 1;
}

static err_t client_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg, (void)pcb, (void)err;
    cl.connected = 1;
    client_fill();
    return ERR_OK;
}

/* Connect a client to to:port that will send total bytes: 0, or what failed. */
static const char *client_connect(const ip_addr_t *to, uint16_t port, uint32_t total)
{
    cl = (struct stream_client){
        .total = total, .sum_sent = 2166136261u, .sum_received = 2166136261u};
    cl.pcb = tcp_new();
    if (!cl.pcb)
        return "tcp_new";
    tcp_recv(cl.pcb, client_recv);
    tcp_sent(cl.pcb, client_sent);
    tcp_err(cl.pcb, client_err);
    if (tcp_connect(cl.pcb, to, port, client_connected) != ERR_OK) {
        tcp_abort(cl.pcb);
        cl.pcb = NULL;
        return "tcp_connect";
    }
    return 0;
}

/*
 * Stream total bytes to to:port, an echo server, and check every byte that comes back within ms;
 * the client's connection is closed (or aborted) after.
 */
void stream_echo(const ip_addr_t *to, uint16_t port, uint32_t total, uint64_t ms)
{
    const char *why = client_connect(to, port, total);
    if (why) {
        printf("inet: %s failed\n", why);
        CHECK(why == NULL);
        return;
    }
    uint64_t start = sys_uptime();
    CHECK(run_until(&cl.done, ms));
    uint64_t took = sys_uptime() - start;
    printf("inet: tcp echo: %u of %u bytes back in %lu ms (%lu KiB/s), fnv1a sent 0x%x back 0x%x\n",
           cl.received, cl.sent, took, took ? (uint64_t)cl.received * 1000 / 1024 / took : 0,
           cl.sum_sent, cl.sum_received);
    CHECK(cl.connected);
    EXPECT(cl.error, ERR_OK);
    EXPECT(cl.sent, total);
    EXPECT(cl.received, total);
    EXPECT(cl.mismatches, 0);
    EXPECT(cl.sum_received, cl.sum_sent);
    if (cl.mismatches)
        printf("inet: first wrong byte at offset %u\n", cl.first_bad);
    if (cl.pcb)
        tcp_abort(cl.pcb);
    cl.pcb = NULL;
}

void loopback_echo(uint32_t bytes)
{
    const char *why = echo_listen();
    if (why) {
        printf("inet: %s failed\n", why);
        CHECK(why == NULL);
        return;
    }
    ip_addr_t lo = loopback();
    stream_echo(&lo, ECHO_PORT, bytes, DEADLINE_MS);
    /* the server saw the client's close and closed too */
    for (uint64_t until = sys_uptime() + 5000; echo.pcb && sys_uptime() < until;)
        inet_step(until);
    CHECK(echo.pcb == NULL);
    echo_close();
    if (echo_listener)
        tcp_close(echo_listener);
    echo_listener = NULL;
}

static void test_tcp_echo_1mib(void)
{
    loopback_echo(STREAM_BYTES);
}

/* A connection to a port nobody listens on is reset: the client hears ERR_RST. */
static void test_tcp_refused(void)
{
    ip_addr_t lo = loopback();
    const char *why = client_connect(&lo, CLOSED_PORT, STREAM_BYTES);
    CHECK(why == NULL);
    if (why)
        return;
    CHECK(run_until(&cl.done, 5000));
    EXPECT(cl.error, ERR_RST);
    CHECK(!cl.connected);
}

/* ---- UDP: datagrams of several sizes echoed through 127.0.0.1:7 ---- */

static const uint16_t udp_sizes[] = {1, 100, 1472, 9000, 65507};
#define NR_UDP (sizeof(udp_sizes) / sizeof(udp_sizes[0]))

static struct {
    unsigned got;   /* datagrams back */
    unsigned wrong; /* back with the wrong size or content */
    volatile int done;
} udp_client;

static void udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                          u16_t port)
{
    (void)arg;
    udp_sendto(pcb, p, addr, port); /* the same datagram back to its sender */
    pbuf_free(p);
}

static void udp_client_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                            u16_t port)
{
    (void)arg, (void)pcb, (void)addr;
    unsigned i = udp_client.got++;
    int ok = port == ECHO_PORT && i < NR_UDP && p->tot_len == udp_sizes[i];
    for (u16_t off = 0; ok && off < p->tot_len; off++)
        ok = pbuf_get_at(p, off) == stream_byte(off + i);
    udp_client.wrong += !ok;
    pbuf_free(p);
    if (udp_client.got == NR_UDP)
        udp_client.done = 1;
}

static void test_udp_echo(void)
{
    udp_client.got = udp_client.wrong = 0;
    udp_client.done = 0;
    ip_addr_t lo = loopback();
    struct udp_pcb *server = udp_new(), *client = udp_new();
    CHECK(server && client);
    if (!server || !client)
        goto out;
    EXPECT(udp_bind(server, &lo, ECHO_PORT), ERR_OK);
    udp_recv(server, udp_echo_recv, NULL);
    EXPECT(udp_bind(client, &lo, 0), ERR_OK);
    udp_recv(client, udp_client_recv, NULL);
    for (unsigned i = 0; i < NR_UDP; i++) {
        struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, udp_sizes[i], PBUF_RAM);
        CHECK(p != NULL);
        if (!p)
            goto out;
        for (u16_t off = 0; off < udp_sizes[i]; off++)
            ((uint8_t *)p->payload)[off] = stream_byte(off + i);
        EXPECT(udp_sendto(client, p, &lo, ECHO_PORT), ERR_OK);
        pbuf_free(p);
        /* one at a time: the order is the check's */
        for (uint64_t until = sys_uptime() + 5000; udp_client.got <= i && sys_uptime() < until;)
            inet_step(until);
    }
    CHECK(run_until(&udp_client.done, 5000));
    EXPECT(udp_client.got, NR_UDP);
    EXPECT(udp_client.wrong, 0);
out:
    if (server)
        udp_remove(server);
    if (client)
        udp_remove(client);
}

/* ---- ICMP: an echo request to 127.0.0.1 comes back as an echo reply ---- */

#define PING_ID 0x5a5a
#define PING_DATA 56

static struct {
    uint16_t seq;
    int replies, wrong;
    volatile int done;
} ping;

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    (void)arg, (void)pcb, (void)addr;
    struct icmp_echo_hdr h;
    u16_t hlen = (u16_t)(IPH_HL_BYTES((struct ip_hdr *)p->payload));
    if (pbuf_copy_partial(p, &h, sizeof(h), hlen) != sizeof(h) || h.type != ICMP_ER ||
        h.id != lwip_htons(PING_ID))
        return 0; /* not ours (our own request, on its way to lwIP's ICMP): not eaten */
    ping.replies++;
    ping.wrong += h.seqno != lwip_htons(ping.seq) || p->tot_len != hlen + sizeof(h) + PING_DATA;
    for (u16_t i = 0; i < PING_DATA && !ping.wrong; i++)
        ping.wrong += pbuf_get_at(p, (u16_t)(hlen + sizeof(h) + i)) != (uint8_t)i;
    ping.done = 1;
    pbuf_free(p);
    return 1;
}

/* One ICMP echo request to `to` must come back as its reply within ms. */
void ping_check(const ip_addr_t *to, uint64_t ms)
{
    ping.replies = ping.wrong = ping.done = 0;
    ping.seq++;
    struct raw_pcb *pcb = raw_new(IP_PROTO_ICMP);
    CHECK(pcb != NULL);
    if (!pcb)
        return;
    raw_recv(pcb, ping_recv, NULL);
    struct pbuf *p = pbuf_alloc(PBUF_IP, sizeof(struct icmp_echo_hdr) + PING_DATA, PBUF_RAM);
    CHECK(p != NULL);
    if (p) {
        struct icmp_echo_hdr *h = p->payload;
        ICMPH_TYPE_SET(h, ICMP_ECHO);
        ICMPH_CODE_SET(h, 0);
        h->id = lwip_htons(PING_ID);
        h->seqno = lwip_htons(ping.seq);
        h->chksum = 0;
        for (int i = 0; i < PING_DATA; i++)
            ((uint8_t *)(h + 1))[i] = (uint8_t)i;
        h->chksum = inet_chksum(h, p->len);
        EXPECT(raw_sendto(pcb, p, to), ERR_OK);
        pbuf_free(p);
        CHECK(run_until(&ping.done, ms));
        EXPECT(ping.replies, 1);
        EXPECT(ping.wrong, 0);
    }
    raw_remove(pcb);
}

static void test_icmp_ping(void)
{
    ip_addr_t lo = loopback();
    ping_check(&lo, 5000);
}

static const struct test tests[] = {
    {"loopback_up", test_loopback_up},
    {"timeout_fires", test_timeout_fires},
    {"tcp_echo_1mib", test_tcp_echo_1mib},
    {"tcp_refused", test_tcp_refused},
    {"udp_echo", test_udp_echo},
    {"icmp_ping", test_icmp_ping},
    {0},
};

int inet_run_tests(const char *prefix, const struct test *table, const char *why_not,
                   const char *args)
{
    static struct test_suite suite; /* test_main keeps a pointer to it */
    suite = (struct test_suite){
        .program = "inet",
        .prefix = prefix,
        .tests = table,
        .exit_only_if_asked = 1, /* inet goes on serving; the host ends QEMU */
    };
    return why_not ? test_abort(&suite, why_not) : test_main(&suite, args);
}

int inet_selftest(const char *args)
{
    return inet_run_tests("inet.", tests, 0, args);
}
