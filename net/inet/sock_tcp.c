/*
 * Stream sockets: a TCP pcb of lwIP's raw API behind each (sock.h).
 *
 * connect starts the handshake and answers -EINPROGRESS; the socket shows
 * SOCK_ST_CONNECTING until lwIP calls `connected` or `err` (a reset: the
 * error is ECONNREFUSED), and the next connect reports the outcome once.
 * A listener's new connections get a socket of their own at once, held back
 * from lwIP's backlog count (tcp_backlog_delayed) until vfs accepts them, so
 * lwIP drops SYNs beyond the backlog as Linux does. Received segments wait in
 * the socket's queue and are acknowledged to the window (tcp_recved) only
 * when read. A send takes what fits tcp_sndbuf (copied into lwIP's queue)
 * and answers -EAGAIN when nothing fits. close() resets a connection that
 * left data unread, as Linux does (lwIP's tcp_close sees the shrunk window);
 * otherwise it closes it and lwIP finishes the FIN exchange alone.
 */
#include "sock.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/tcp.h"
#include "sys.h"

#define BACKLOG_MAX 255 /* lwIP keeps it in a u8 */

static uint64_t accepted; /* connections come to listeners in this order */

/* No more callbacks for us (a listening pcb has only accept's: lwIP asserts the others). */
static void detach(struct tcp_pcb *pcb)
{
    tcp_arg(pcb, 0);
    if (pcb->state == LISTEN) {
        tcp_accept(pcb, 0);
        return;
    }
    tcp_recv(pcb, 0);
    tcp_err(pcb, 0);
}

static void on_err(void *arg, err_t err)
{
    struct isock *s = arg;
    if (!s)
        return;
    s->tcp = 0; /* lwIP freed it */
    if (s->state == IS_CONNECTING)
        s->error = err == ERR_RST ? LX_ECONNREFUSED : -sock_errno(err);
    else if (err != ERR_CLSD)
        s->error = -sock_errno(err);
    s->state = IS_CLOSED;
    s->eof = 1;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct isock *s = arg;
    (void)err;
    if (!p) {
        s->eof = 1;
        return ERR_OK;
    }
    if (s->shut & SHUT_READ) { /* read side shut: dropped, the window stays open */
        tcp_recved(pcb, p->tot_len);
        pbuf_free(p);
        return ERR_OK;
    }
    if (s->rx_count == RXQ_MAX)
        return ERR_MEM; /* lwIP keeps it and offers it again */
    rxq_push(s, p, 0, 0);
    return ERR_OK;
}

static void watch(struct isock *s, struct tcp_pcb *pcb)
{
    s->tcp = pcb;
    tcp_arg(pcb, s);
    tcp_recv(pcb, on_recv);
    tcp_err(pcb, on_err);
}

static void tcp_option(struct isock *s)
{
    if (!s->tcp)
        return;
    if (s->reuseaddr)
        ip_set_option(s->tcp, SOF_REUSEADDR);
    else
        ip_reset_option(s->tcp, SOF_REUSEADDR);
    if (s->keepalive)
        ip_set_option(s->tcp, SOF_KEEPALIVE);
    else
        ip_reset_option(s->tcp, SOF_KEEPALIVE);
    if (s->tcp->state == LISTEN)
        return;
    if (s->nodelay)
        tcp_nagle_disable(s->tcp);
    else
        tcp_nagle_enable(s->tcp);
}

static int64_t tcp_create(struct isock *s)
{
    struct tcp_pcb *pcb = tcp_new_ip_type(s->family == AF_INET6 ? IPADDR_TYPE_ANY : IPADDR_TYPE_V4);
    if (!pcb)
        return -LX_ENOBUFS;
    watch(s, pcb);
    return 0;
}

static int64_t tcp_bind_(struct isock *s, const ip_addr_t *ip, uint16_t port)
{
    if (!s->tcp || s->state != IS_NEW)
        return -LX_EINVAL;
    tcp_option(s);
    return sock_errno(tcp_bind(s->tcp, ip, port));
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
    struct isock *s = arg;
    (void)pcb;
    (void)err;
    s->state = IS_CONNECTED;
    s->connect_done = 1;
    return ERR_OK;
}

static int64_t tcp_connect_(struct isock *s, const struct msg_sock_addr *a)
{
    switch (s->state) {
    case IS_CONNECTING:
        return -LX_EALREADY;
    case IS_CONNECTED:
        if (s->connect_done) {
            s->connect_done = 0;
            return 0;
        }
        return -LX_EISCONN;
    case IS_LISTENING:
        return -LX_EISCONN; /* as Linux: a listener is not connected, but may not connect */
    case IS_CLOSED:
        if (s->error) {
            int e = s->error;
            s->error = 0;
            return -e;
        }
        return -LX_EISCONN;
    case IS_NEW:
        break;
    }
    ip_addr_t ip;
    uint16_t port;
    int64_t r = sock_addr_in(s, a, &ip, &port);
    if (r < 0)
        return r;
    if (!s->tcp)
        return -LX_EINVAL;
    sock_any_to_loopback(&ip);
    tcp_option(s);
    if ((r = sock_errno(tcp_connect(s->tcp, &ip, port, on_connected))) < 0)
        return r;
    s->state = IS_CONNECTING;
    s->bound = 1;
    return -LX_EINPROGRESS;
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err)
{
    struct isock *l = arg;
    if (err != ERR_OK || !newpcb)
        return ERR_VAL;
    struct isock *c = l->pending < l->backlog ? isock_new(SOCK_STREAM, l->family) : 0;
    if (!c)
        return ERR_MEM; /* lwIP resets it */
    watch(c, newpcb);
    c->state = IS_CONNECTED;
    c->bound = 1;
    c->listener = isock_id(l);
    c->order = ++accepted;
    c->v6only = l->v6only;
    c->reuseaddr = l->reuseaddr;
    c->keepalive = l->keepalive;
    c->nodelay = l->nodelay;
    tcp_option(c);
    tcp_backlog_delayed(newpcb);
    l->pending++;
    return ERR_OK;
}

static int64_t tcp_listen_(struct isock *s, int backlog)
{
    if (s->state == IS_LISTENING) {
        s->backlog = backlog < BACKLOG_MAX ? backlog + 1 : BACKLOG_MAX;
        return 0;
    }
    if (s->state != IS_NEW || !s->tcp)
        return -LX_EINVAL;
    int64_t r;
    tcp_option(s);
    if (!s->bound && (r = sock_errno(tcp_bind(s->tcp, sock_any(s), 0))) < 0)
        return r;
    s->bound = 1;
    s->backlog = backlog < BACKLOG_MAX ? backlog + 1 : BACKLOG_MAX; /* Linux takes one more */
    err_t e;
    struct tcp_pcb *lp = tcp_listen_with_backlog_and_err(s->tcp, (uint8_t)s->backlog, &e);
    if (!lp)
        return sock_errno(e);
    s->tcp = lp; /* lwIP freed the old one */
    tcp_arg(lp, s);
    tcp_accept(lp, on_accept);
    s->state = IS_LISTENING;
    return 0;
}

/* The oldest connection waiting (its socket is vfs's from now on). */
static int64_t tcp_accept_(struct isock *s)
{
    if (s->state != IS_LISTENING)
        return -LX_EINVAL;
    struct isock *oldest = 0;
    for (int i = 0; i < SOCK_MAX; i++) {
        struct isock *c = isock_by_id(i);
        if (c && !c->handed && c->listener == isock_id(s))
            oldest = !oldest || c->order < oldest->order ? c : oldest;
    }
    if (!oldest)
        return -LX_EAGAIN;
    oldest->handed = 1;
    oldest->listener = -1;
    s->pending--;
    if (oldest->tcp)
        tcp_backlog_accepted(oldest->tcp);
    return isock_id(oldest);
}

/* A pending error first (once); then EPIPE where nothing can be sent again. */
static int64_t send_check(struct isock *s)
{
    if (s->error) {
        int e = s->error;
        s->error = 0;
        return -e;
    }
    if (s->state == IS_CONNECTING)
        return -LX_EAGAIN;
    if ((s->shut & SHUT_WRITE) || s->state != IS_CONNECTED || !s->tcp)
        return s->state == IS_LISTENING ? -LX_ENOTCONN : -LX_EPIPE;
    return 0;
}

static int64_t tcp_send_(struct isock *s, const struct msg_sock_data *d)
{
    int64_t r = send_check(s);
    if (r < 0)
        return r;
    if (d->addr_len)
        return -LX_EISCONN;
    uint64_t done = 0;
    while (done < d->len) {
        uint64_t room = tcp_sndbuf(s->tcp);
        if (tcp_sndqueuelen(s->tcp) >= TCP_SND_QUEUELEN - 1)
            room = 0;
        uint64_t n = d->len - done;
        n = n < room ? n : room;
        n = n < 0xffff ? n : 0xffff;
        if (!n)
            break;
        if (sock_copy_from(d->grant, done, sock_bounce, n) < 0) {
            r = -LX_EFAULT;
            break;
        }
        if (tcp_write(s->tcp, sock_bounce, (uint16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        done += n;
    }
    if (done)
        tcp_output(s->tcp);
    if (done || !d->len)
        return (int64_t)done;
    return r < 0 ? r : -LX_EAGAIN;
}

static int64_t tcp_recv_(struct isock *s, const struct msg_sock_data *d, message_t *reply)
{
    (void)reply;
    if (s->state == IS_NEW || s->state == IS_LISTENING)
        return -LX_ENOTCONN;
    if (!s->rx_bytes) {
        if (s->error) {
            int e = s->error;
            s->error = 0;
            return -e;
        }
        if (s->eof || (s->shut & SHUT_READ) || s->state == IS_CLOSED)
            return 0;
        return -LX_EAGAIN;
    }
    int peek = (d->flags & MSG_PEEK) != 0;
    uint64_t done = 0;
    int item = 0;
    uint32_t off = s->rx_off;
    while (done < d->len && item < s->rx_count) {
        struct pbuf *p = s->rxq[(s->rx_head + item) % RXQ_MAX].p;
        uint64_t n = p->tot_len - off;
        n = n < d->len - done ? n : d->len - done;
        pbuf_copy_partial(p, sock_bounce, (uint16_t)n, (uint16_t)off);
        if (sock_copy_to(d->grant, done, sock_bounce, n) < 0)
            break;
        done += n;
        off += (uint32_t)n;
        if (off < p->tot_len)
            break;
        item++;
        off = 0;
    }
    if (!done)
        return d->len ? -LX_EFAULT : 0;
    if (peek)
        return (int64_t)done;
    for (uint64_t left = done; left;) { /* consume, and open the window as far */
        struct pbuf *p = s->rxq[s->rx_head].p;
        uint64_t n = p->tot_len - s->rx_off;
        n = n < left ? n : left;
        left -= n;
        if (s->rx_off + n == p->tot_len) {
            rxq_pop(s); /* takes its unread bytes off rx_bytes */
        } else {
            s->rx_off += (uint32_t)n;
            s->rx_bytes -= n;
        }
        if (s->tcp)
            tcp_recved(s->tcp, (uint16_t)n);
    }
    if (s->tcp && s->tcp->refused_data)
        tcp_process_refused_data(s->tcp);
    return (int64_t)done;
}

static int64_t tcp_shutdown_(struct isock *s, int how)
{
    if (s->state == IS_LISTENING)
        return 0;
    if (s->state != IS_CONNECTED && s->state != IS_CLOSED)
        return -LX_ENOTCONN;
    int bits = how + 1; /* SHUT_RD 0 -> SHUT_READ, SHUT_WR 1 -> SHUT_WRITE, RDWR both */
    if ((bits & SHUT_READ) && !(s->shut & SHUT_READ)) {
        s->shut |= SHUT_READ;
        uint64_t unread = s->rx_bytes;
        rxq_clear(s);
        s->rx_bytes = 0;
        for (; s->tcp && unread; unread -= unread < 0xffff ? unread : 0xffff)
            tcp_recved(s->tcp, (uint16_t)(unread < 0xffff ? unread : 0xffff));
    }
    if ((bits & SHUT_WRITE) && !(s->shut & SHUT_WRITE)) {
        s->shut |= SHUT_WRITE;
        if (s->tcp)
            tcp_shutdown(s->tcp, 0, 1); /* our FIN */
    }
    return 0;
}

static int64_t tcp_name(struct isock *s, int peer, ip_addr_t *ip, uint16_t *port)
{
    if (peer && s->state != IS_CONNECTED)
        return -LX_ENOTCONN;
    if (!s->tcp)
        return peer ? -LX_ENOTCONN : 0;
    *ip = peer ? s->tcp->remote_ip : s->tcp->local_ip;
    *port = peer ? s->tcp->remote_port : s->tcp->local_port;
    return 0;
}

static uint32_t tcp_status(struct isock *s, uint32_t *unread)
{
    *unread = s->rx_bytes > 0x7fffffff ? 0x7fffffff : (uint32_t)s->rx_bytes;
    switch (s->state) {
    case IS_LISTENING:
        return s->pending ? SOCK_ST_RD : 0;
    case IS_CONNECTING:
        return SOCK_ST_CONNECTING;
    case IS_NEW: /* calls fail at once (ENOTCONN, EPIPE) */
        return SOCK_ST_RD | SOCK_ST_WR | SOCK_ST_HUP;
    case IS_CLOSED:
        return SOCK_ST_RD | SOCK_ST_WR | SOCK_ST_HUP;
    case IS_CONNECTED:
        break;
    }
    uint32_t f = 0;
    if (s->rx_bytes || s->eof || (s->shut & SHUT_READ))
        f |= SOCK_ST_RD;
    if (!s->tcp || (s->shut & SHUT_WRITE) ||
        (tcp_sndbuf(s->tcp) >= TCP_SNDLOWAT && tcp_sndqueuelen(s->tcp) < TCP_SND_QUEUELEN / 2))
        f |= SOCK_ST_WR;
    if ((s->eof || (s->shut & SHUT_READ)) && (s->shut & SHUT_WRITE))
        f |= SOCK_ST_HUP;
    return f;
}

static void tcp_close_(struct isock *s)
{
    struct tcp_pcb *pcb = s->tcp;
    s->tcp = 0;
    if (!pcb)
        return;
    detach(pcb);
    if (pcb->state == LISTEN) {
        tcp_close(pcb);
        return;
    }
    if (s->rx_bytes || s->listener >= 0) { /* unread data, or never accepted: reset */
        tcp_abort(pcb);
        return;
    }
    if (tcp_close(pcb) != ERR_OK)
        tcp_abort(pcb);
}

const struct isock_ops tcp_sock_ops = {
    .create = tcp_create,
    .bind = tcp_bind_,
    .connect = tcp_connect_,
    .listen = tcp_listen_,
    .accept = tcp_accept_,
    .send = tcp_send_,
    .recv = tcp_recv_,
    .shutdown = tcp_shutdown_,
    .name = tcp_name,
    .option = tcp_option,
    .status = tcp_status,
    .close = tcp_close_,
};
