/*
 * Datagram sockets: a UDP pcb of lwIP's raw API behind each (sock.h).
 * Received datagrams wait in the socket's queue with their source, at most
 * RXQ_MAX of them and SO_RCVBUF bytes (more are dropped, as UDP may); a
 * receive takes one whole datagram (cut to the buffer: MSG_TRUNC). A send
 * is one datagram of at most 65507 bytes, to the given address or the
 * connected peer; an unbound socket gets a port at its first send.
 */
#include "sock.h"
#include "lwip/udp.h"
#include "sys.h"

#define UDP_DATA_MAX 65507 /* 65535 minus the IPv4 and UDP headers */
#define MSG_TRUNC_OUT 0x20

static void on_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *from,
                    uint16_t port)
{
    struct isock *s = arg;
    (void)pcb;
    if ((s->shut & SHUT_READ) || s->rx_count == RXQ_MAX || s->rx_bytes + p->tot_len > s->rcvbuf) {
        pbuf_free(p);
        return;
    }
    rxq_push(s, p, from, port);
}

static int64_t udp_create(struct isock *s)
{
    s->udp = udp_new_ip_type(s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);
    if (!s->udp)
        return -LX_ENOBUFS;
    udp_recv(s->udp, on_recv, s);
    return 0;
}

static void udp_option(struct isock *s)
{
    if (s->reuseaddr)
        ip_set_option(s->udp, SOF_REUSEADDR);
    else
        ip_reset_option(s->udp, SOF_REUSEADDR);
}

static int64_t udp_bind_(struct isock *s, const ip_addr_t *ip, uint16_t port)
{
    udp_option(s);
    return sock_errno(udp_bind(s->udp, ip, port));
}

/* connect names the peer (AF_UNSPEC forgets it); datagrams from others are then ignored. */
static int64_t udp_connect_(struct isock *s, const struct msg_sock_addr *a)
{
    if (a->addr_len >= 2 && a->addr[0] == AF_UNSPEC && a->addr[1] == 0) {
        udp_disconnect(s->udp);
        s->state = IS_NEW;
        return 0;
    }
    ip_addr_t ip;
    uint16_t port;
    int64_t r = sock_addr_in(s, a, &ip, &port);
    if (r < 0)
        return r;
    sock_any_to_loopback(&ip);
    if ((r = sock_errno(udp_connect(s->udp, &ip, port))) < 0)
        return r;
    s->bound = 1;
    s->state = IS_CONNECTED;
    return 0;
}

/* Datagram sockets neither listen nor accept (UDP's and ICMP's). */
int64_t dgram_listen(struct isock *s, int backlog)
{
    (void)s, (void)backlog;
    return -LX_EOPNOTSUPP;
}

int64_t dgram_accept(struct isock *s)
{
    (void)s;
    return -LX_EOPNOTSUPP;
}

static int64_t udp_send_(struct isock *s, const struct msg_sock_data *d)
{
    ip_addr_t ip;
    uint16_t port;
    int64_t r;
    if (s->error) {
        int e = s->error;
        s->error = 0;
        return -e;
    }
    if (s->shut & SHUT_WRITE)
        return -LX_EPIPE;
    if (d->addr_len) {
        if ((r = sock_addr_parse(s, d->addr, d->addr_len, &ip, &port)) < 0)
            return r;
        sock_any_to_loopback(&ip);
    } else if (s->state == IS_CONNECTED) {
        ip = s->udp->remote_ip;
        port = s->udp->remote_port;
    } else {
        return -LX_EDESTADDRREQ;
    }
    if (d->len > UDP_DATA_MAX)
        return -LX_EMSGSIZE;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (uint16_t)d->len, PBUF_RAM);
    if (!p)
        return -LX_ENOBUFS;
    if ((r = sock_copy_from(d->grant, 0, p->payload, d->len)) == 0)
        r = sock_errno(udp_sendto(s->udp, p, &ip, port));
    pbuf_free(p);
    s->bound = 1;
    return r < 0 ? r : (int64_t)d->len;
}

/* A datagram's receive, shutdown and status: UDP's, shared with ICMP sockets (sock_icmp.c). */
int64_t dgram_recv(struct isock *s, const struct msg_sock_data *d, message_t *reply)
{
    if (!s->rx_count) {
        if (s->error) {
            int e = s->error;
            s->error = 0;
            return -e;
        }
        return (s->shut & SHUT_READ) ? 0 : -LX_EAGAIN;
    }
    struct rx_item *it = &s->rxq[s->rx_head];
    uint64_t whole = it->p->tot_len, n = whole < d->len ? whole : d->len;
    pbuf_copy_partial(it->p, sock_bounce, (uint16_t)n, 0);
    if (sock_copy_to(d->grant, 0, sock_bounce, n) < 0)
        return -LX_EFAULT; /* the datagram stays */
    struct msg_sock_recv_reply *rr = &reply->u.sock.recv_reply;
    sock_addr_out(s, &it->from, it->port, rr->addr, &rr->addr_len);
    rr->flags = whole > n ? MSG_TRUNC_OUT : 0;
    if (!(d->flags & MSG_PEEK))
        rxq_pop(s);
    return (int64_t)((d->flags & MSG_TRUNC) ? whole : n);
}

int64_t dgram_shutdown(struct isock *s, int how)
{
    if (s->state != IS_CONNECTED)
        return -LX_ENOTCONN;
    s->shut |= how + 1;
    if (s->shut & SHUT_READ)
        rxq_clear(s);
    return 0;
}

static int64_t udp_name(struct isock *s, int peer, ip_addr_t *ip, uint16_t *port)
{
    if (peer && s->state != IS_CONNECTED)
        return -LX_ENOTCONN;
    *ip = peer ? s->udp->remote_ip : s->udp->local_ip;
    *port = peer ? s->udp->remote_port : s->udp->local_port;
    return 0;
}

uint32_t dgram_status(struct isock *s, uint32_t *unread)
{
    *unread = s->rx_count ? s->rxq[s->rx_head].p->tot_len : 0;
    uint32_t f = SOCK_ST_WR;
    if (s->rx_count || (s->shut & SHUT_READ))
        f |= SOCK_ST_RD;
    if (s->shut == (SHUT_READ | SHUT_WRITE))
        f |= SOCK_ST_HUP;
    return f;
}

static void udp_close(struct isock *s)
{
    if (s->udp)
        udp_remove(s->udp);
    s->udp = 0;
}

const struct isock_ops udp_sock_ops = {
    .create = udp_create,
    .bind = udp_bind_,
    .connect = udp_connect_,
    .listen = dgram_listen,
    .accept = dgram_accept,
    .send = udp_send_,
    .recv = dgram_recv,
    .shutdown = dgram_shutdown,
    .name = udp_name,
    .option = udp_option,
    .status = dgram_status,
    .close = udp_close,
};
