/*
 * ICMP sockets: a raw pcb of lwIP's raw API (protocol ICMP) behind each
 * (sock.h), in Linux's two kinds:
 *
 * - SOCK_RAW, IPPROTO_ICMP (root only: vfs checks, as Linux wants
 *   CAP_NET_RAW): a send is one ICMP message the caller built, checksum
 *   included; lwIP adds the IP header. A receive gets every ICMP packet
 *   that reaches the host, IP header first (as Linux's raw sockets do),
 *   echo requests to ourselves included: lwIP's own ICMP still answers them.
 * - SOCK_DGRAM, IPPROTO_ICMP ("ping sockets", anyone): a send must be an
 *   echo request; its identifier becomes the socket's (the "port" a bind or
 *   the first send chose, getsockname's port) and the checksum is computed
 *   here. A receive gets only echo replies carrying that identifier, ICMP
 *   header first.
 *
 * Packets are copied out of lwIP's pbuf (pbuf_clone) and never eaten, so
 * icmp_input still runs. They wait in the socket's queue as UDP datagrams
 * do: at most RXQ_MAX and SO_RCVBUF bytes; a receive takes one whole.
 */
#include "sock.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip.h"
#include "lwip/prot/icmp.h"
#include "lwip/raw.h"
#include "sys.h"

#define ICMP_HEADER 8
#define ICMP_DATA_MAX 65507 /* an IPv4 datagram's room after a 20-byte header, minus 8 */

static uint16_t next_ping_id;

static int is_ping(const struct isock *s)
{
    return s->type == SOCK_DGRAM;
}

/* A ping socket's identifier, chosen at its bind or first send if it has none. */
static void ping_id_choose(struct isock *s)
{
    if (s->ping_id)
        return;
    if (!next_ping_id)
        next_ping_id = (uint16_t)(inet_random() | 1);
    s->ping_id = next_ping_id++;
    if (!next_ping_id)
        next_ping_id = 1;
}

static uint8_t on_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *from)
{
    struct isock *s = arg;
    (void)pcb;
    uint16_t skip = 0;
    if (is_ping(s)) { /* only echo replies to this socket, without the IP header */
        uint8_t h[ICMP_HEADER];
        skip = (uint16_t)(IPH_HL_BYTES((struct ip_hdr *)p->payload));
        if (pbuf_copy_partial(p, h, sizeof(h), skip) != sizeof(h) || h[0] != ICMP_ER ||
            (uint16_t)(h[4] << 8 | h[5]) != s->ping_id)
            return 0;
    }
    if ((s->shut & SHUT_READ) || s->rx_count == RXQ_MAX ||
        s->rx_bytes + p->tot_len - skip > s->rcvbuf)
        return 0;
    struct pbuf *copy = pbuf_alloc(PBUF_RAW, (uint16_t)(p->tot_len - skip), PBUF_RAM);
    if (!copy)
        return 0;
    pbuf_copy_partial(p, copy->payload, copy->tot_len, skip);
    rxq_push(s, copy, from, 0);
    return 0; /* not eaten: lwIP's ICMP answers echo requests as before */
}

static int64_t icmp_create(struct isock *s)
{
    s->raw = raw_new(IP_PROTO_ICMP);
    if (!s->raw)
        return -LX_ENOBUFS;
    raw_recv(s->raw, on_recv, s);
    return 0;
}

static void icmp_option(struct isock *s)
{
    (void)s;
}

static int64_t icmp_bind(struct isock *s, const ip_addr_t *ip, uint16_t port)
{
    if (is_ping(s))
        s->ping_id = port; /* 0: chosen at the first send */
    return sock_errno(raw_bind(s->raw, ip));
}

/* connect names the peer (AF_UNSPEC forgets it); packets from others are then ignored. */
static int64_t icmp_connect(struct isock *s, const struct msg_sock_addr *a)
{
    if (a->addr_len >= 2 && a->addr[0] == AF_UNSPEC && a->addr[1] == 0) {
        raw_disconnect(s->raw);
        s->state = IS_NEW;
        return 0;
    }
    ip_addr_t ip;
    uint16_t port;
    int64_t r = sock_addr_in(s, a, &ip, &port);
    if (r < 0 || (r = sock_errno(raw_connect(s->raw, &ip))) < 0)
        return r;
    s->state = IS_CONNECTED;
    return 0;
}

static int64_t icmp_send(struct isock *s, const struct msg_sock_data *d)
{
    ip_addr_t ip;
    uint16_t port;
    int64_t r;
    if (s->shut & SHUT_WRITE)
        return -LX_EPIPE;
    if (d->addr_len) {
        if ((r = sock_addr_parse(s, d->addr, d->addr_len, &ip, &port)) < 0)
            return r;
    } else if (s->state == IS_CONNECTED) {
        ip = s->raw->remote_ip;
    } else {
        return -LX_EDESTADDRREQ;
    }
    if (d->len > ICMP_DATA_MAX + ICMP_HEADER)
        return -LX_EMSGSIZE;
    if (is_ping(s) && d->len < ICMP_HEADER)
        return -LX_EINVAL;
    struct pbuf *p = pbuf_alloc(PBUF_IP, (uint16_t)d->len, PBUF_RAM);
    if (!p)
        return -LX_ENOBUFS;
    uint8_t *b = p->payload;
    if ((r = sock_copy_from(d->grant, 0, b, d->len)) == 0 && is_ping(s)) {
        if (b[0] != ICMP_ECHO || b[1] != 0)
            r = -LX_EINVAL; /* a ping socket sends echo requests only */
        ping_id_choose(s);
        b[4] = (uint8_t)(s->ping_id >> 8);
        b[5] = (uint8_t)s->ping_id;
        b[2] = b[3] = 0;
        uint16_t sum = inet_chksum(b, (uint16_t)d->len);
        memcpy(b + 2, &sum, 2);
    }
    if (r == 0)
        r = sock_errno(raw_sendto(s->raw, p, &ip));
    pbuf_free(p);
    return r < 0 ? r : (int64_t)d->len;
}

static int64_t icmp_name(struct isock *s, int peer, ip_addr_t *ip, uint16_t *port)
{
    if (peer && s->state != IS_CONNECTED)
        return -LX_ENOTCONN;
    *ip = peer ? s->raw->remote_ip : s->raw->local_ip;
    *port = peer || !is_ping(s) ? 0 : s->ping_id;
    return 0;
}

static void icmp_close(struct isock *s)
{
    if (s->raw)
        raw_remove(s->raw);
    s->raw = 0;
}

const struct isock_ops icmp_sock_ops = {
    .create = icmp_create,
    .bind = icmp_bind,
    .connect = icmp_connect,
    .listen = dgram_listen,
    .accept = dgram_accept,
    .send = icmp_send,
    .recv = dgram_recv,
    .shutdown = dgram_shutdown,
    .name = icmp_name,
    .option = icmp_option,
    .status = dgram_status,
    .close = icmp_close,
};
