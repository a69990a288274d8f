/*
 * The SOCK protocol's server side (samsara/sock.h, docs/INET.md "Sockets"):
 * the socket table, the requests every socket type shares (dispatch, names,
 * options, close), addresses, the receive queue, and vfs's status table.
 *
 * Who may send what: every SOCK request comes from vfs only (checked by
 * label, client_set); anything else is refused -EPERM and logged. vfs's
 * SOCK_CALLER_PRIV (the caller's euid is 0) is believed: raw sockets and
 * binds to ports below 1024 need it. vfs's
 * status table is written only after vfs lent it (SOCK_MAILBOX), and only
 * entries of sockets vfs holds. An id that is out of range or names a
 * socket vfs does not hold is -EBADF; lengths are checked against the
 * protocol's bounds before anything is copied.
 */
#include "sock.h"
#include <samsara/root.h>
#include "lwip/ip4.h"
#include "lwip/ip6_addr.h"
#include "lwip/netif.h"
#include "sys.h"

#define SOL_SOCKET 1
#define SO_REUSEADDR 2
#define SO_TYPE 3
#define SO_ERROR 4
#define SO_SNDBUF 7
#define SO_RCVBUF 8
#define SO_KEEPALIVE 9
#define SO_ACCEPTCONN 30
#define SO_PROTOCOL 38
#define SO_DOMAIN 39
#define TCP_NODELAY 1
#define BUF_MIN 2048
#define BUF_MAX (4 * 1024 * 1024)

uint8_t sock_bounce[65536]; /* data on its way between a grant and lwIP */
static struct isock socks[SOCK_MAX];
static const char *const vfs_label[] = {"vfs", 0};
static struct client_set vfs_clients = {.labels = vfs_label};
static endpoint_t vfs_ep; /* who lent the table */
static int64_t table_grant = -1;
static int notify_due;

static const struct isock_ops *ops_of(const struct isock *s)
{
    return s->type == SOCK_STREAM        ? &tcp_sock_ops
           : s->protocol == IPPROTO_ICMP ? &icmp_sock_ops
                                         : &udp_sock_ops;
}

struct isock *isock_new(int type, int family)
{
    for (int i = 0; i < SOCK_MAX; i++)
        if (!socks[i].in_use) {
            struct isock *s = &socks[i];
            memset(s, 0, sizeof(*s));
            s->in_use = 1;
            s->type = type;
            s->family = family;
            s->protocol =
                type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP; /* do_socket may change */
            s->listener = -1;
            s->rcvbuf = s->sndbuf = 256 * 1024;
            s->shown.flags = ~0u; /* written at the first flush */
            return s;
        }
    return 0;
}

void isock_free(struct isock *s)
{
    rxq_clear(s);
    s->in_use = 0;
}

int isock_id(const struct isock *s)
{
    return (int)(s - socks);
}

struct isock *isock_by_id(int id)
{
    return id >= 0 && id < SOCK_MAX && socks[id].in_use ? &socks[id] : 0;
}

/* Copies through vfs's grant (EFAULT if it refuses: a bad user buffer). */
int sock_copy_from(int64_t grant, uint64_t off, void *buf, uint64_t len)
{
    if (!len)
        return 0;
    return sys_safecopy_from(vfs_ep, (grant_id_t)grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

int sock_copy_to(int64_t grant, uint64_t off, const void *buf, uint64_t len)
{
    if (!len)
        return 0;
    return sys_safecopy_to(vfs_ep, (grant_id_t)grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

/*
 * A socket address as the socket's family takes it (Linux's checks): a struct
 * sockaddr_in (EINVAL if shorter than 16 bytes, EAFNOSUPPORT if not AF_INET)
 * or a struct sockaddr_in6 (EINVAL if shorter than 24 bytes, EAFNOSUPPORT if
 * not AF_INET6; ENODEV for a scope id naming no interface). A v4-mapped
 * address (::ffff:a.b.c.d) becomes the IPv4 address lwIP routes, and is
 * ENETUNREACH on a v6-only socket (do_bind makes that EINVAL, as Linux).
 */
int sock_addr_parse(const struct isock *s, const uint8_t *b, uint32_t len, ip_addr_t *ip,
                    uint16_t *port)
{
    int v6 = s->family == AF_INET6;
    if (len < (v6 ? SIN6_LEN_MIN : SOCKADDR_IN_BYTES))
        return -LX_EINVAL;
    uint16_t family = (uint16_t)(b[0] | b[1] << 8);
    if (family != s->family)
        return -LX_EAFNOSUPPORT;
    *port = (uint16_t)(b[2] << 8 | b[3]);
    uint32_t a;
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (!v6 || !memcmp(b + 8, v4_mapped, sizeof(v4_mapped))) {
        if (v6 && s->v6only)
            return -LX_ENETUNREACH;
        memcpy(&a, b + (v6 ? 20 : 4), 4); /* network order, as lwIP keeps it */
        ip_addr_set_ip4_u32(ip, a);
        return 0;
    }
    uint32_t w[4];
    memcpy(w, b + 8, sizeof(w)); /* lwIP keeps the four words in network order too */
    IP_ADDR6(ip, w[0], w[1], w[2], w[3]);
    uint32_t scope = 0;
    if (len >= SOCKADDR_IN6_BYTES)
        memcpy(&scope, b + 24, 4);
    if (scope && ip6_addr_has_scope(ip_2_ip6(ip), IP6_UNKNOWN)) {
        if (scope > 255 || !netif_get_by_index((u8_t)scope))
            return -LX_ENODEV;
        ip6_addr_set_zone(ip_2_ip6(ip), (u8_t)scope);
    }
    return 0;
}

int sock_addr_in(const struct isock *s, const struct msg_sock_addr *a, ip_addr_t *ip,
                 uint16_t *port)
{
    return sock_addr_parse(s, a->addr, a->addr_len, ip, port);
}

/* An address as the socket's family shows it: an AF_INET6 socket's IPv4 peers are v4-mapped. */
void sock_addr_out(const struct isock *s, const ip_addr_t *ip, uint16_t port, uint8_t *out,
                   uint32_t *len)
{
    memset(out, 0, SOCK_ADDR_BYTES);
    out[0] = (uint8_t)s->family;
    out[2] = (uint8_t)(port >> 8);
    out[3] = (uint8_t)port;
    uint32_t a = ip && IP_IS_V4(ip) ? ip4_addr_get_u32(ip_2_ip4(ip)) : 0;
    if (s->family == AF_INET) {
        memcpy(out + 4, &a, 4);
        *len = SOCKADDR_IN_BYTES;
        return;
    }
    *len = SOCKADDR_IN6_BYTES;
    if (!ip || ip_addr_isany(ip))
        return; /* :: (also for an IPv4 socket's 0.0.0.0 and a dual-stack pcb's any) */
    if (IP_IS_V4(ip)) {
        out[18] = out[19] = 0xff;
        memcpy(out + 20, &a, 4);
        return;
    }
    memcpy(out + 8, ip_2_ip6(ip)->addr, 16);
    uint32_t scope = ip6_addr_zone(ip_2_ip6(ip));
    memcpy(out + 24, &scope, 4);
}

/* What an unbound socket binds to: 0.0.0.0, ::, or both (a dual-stack AF_INET6 socket). */
const ip_addr_t *sock_any(const struct isock *s)
{
    return s->family == AF_INET ? IP4_ADDR_ANY : s->v6only ? IP6_ADDR_ANY : IP_ANY_TYPE;
}

/* Linux connects and sends to "any" as to this host: 127.0.0.1 or ::1. */
void sock_any_to_loopback(ip_addr_t *ip)
{
    if (ip_addr_isany(ip))
        ip_addr_set_loopback(IP_IS_V6(ip), ip);
}

/* lwIP's err_t as a Linux errno (negative). */
int sock_errno(int8_t e)
{
    switch (e) {
    case ERR_OK:
        return 0;
    case ERR_MEM:
    case ERR_BUF:
        return -LX_ENOBUFS;
    case ERR_TIMEOUT:
        return -LX_ETIMEDOUT;
    case ERR_RTE:
        return -LX_ENETUNREACH;
    case ERR_INPROGRESS:
        return -LX_EINPROGRESS;
    case ERR_VAL:
    case ERR_ARG:
        return -LX_EINVAL;
    case ERR_WOULDBLOCK:
        return -LX_EAGAIN;
    case ERR_USE:
        return -LX_EADDRINUSE;
    case ERR_ALREADY:
        return -LX_EALREADY;
    case ERR_ISCONN:
        return -LX_EISCONN;
    case ERR_CONN:
        return -LX_ENOTCONN;
    case ERR_ABRT:
        return -LX_ECONNABORTED;
    case ERR_RST:
        return -LX_ECONNRESET;
    case ERR_CLSD:
        return -LX_ENOTCONN;
    default:
        return -LX_EIO;
    }
}

/* ---- the receive queue: pbufs in arrival order; a stream's run together up to 64 KiB */

void rxq_push(struct isock *s, struct pbuf *p, const ip_addr_t *from, uint16_t port)
{
    if (s->type == SOCK_STREAM && s->rx_count) {
        struct rx_item *last = &s->rxq[(s->rx_head + s->rx_count - 1) % RXQ_MAX];
        if ((uint32_t)last->p->tot_len + p->tot_len <= 0xffff) {
            s->rx_bytes += p->tot_len;
            pbuf_cat(last->p, p);
            return;
        }
    }
    struct rx_item *it = &s->rxq[(s->rx_head + s->rx_count) % RXQ_MAX];
    it->p = p;
    it->port = port;
    if (from)
        ip_addr_copy(it->from, *from);
    s->rx_count++;
    s->rx_bytes += p->tot_len;
}

void rxq_pop(struct isock *s)
{
    struct rx_item *it = &s->rxq[s->rx_head];
    s->rx_bytes -= it->p->tot_len - s->rx_off;
    pbuf_free(it->p);
    it->p = 0;
    s->rx_head = (s->rx_head + 1) % RXQ_MAX;
    s->rx_count--;
    s->rx_off = 0;
}

void rxq_clear(struct isock *s)
{
    while (s->rx_count)
        rxq_pop(s);
}

/* ---- the status table */

static void show(struct isock *s)
{
    struct sock_status st = {0, 0};
    st.flags = SOCK_ST_LIVE | ops_of(s)->status(s, &st.unread);
    if (s->error)
        st.flags |= SOCK_ST_ERR | SOCK_ST_RD | SOCK_ST_WR;
    if (st.flags == s->shown.flags && st.unread == s->shown.unread)
        return;
    uint64_t off = (uint64_t)isock_id(s) * sizeof(st);
    if (sys_safecopy_to(vfs_ep, (grant_id_t)table_grant, off, &st, sizeof(st)) == 0) {
        s->shown = st;
        notify_due = 1;
    }
}

void sock_flush(void)
{
    if (table_grant < 0)
        return;
    for (int i = 0; i < SOCK_MAX; i++)
        if (socks[i].in_use && socks[i].handed)
            show(&socks[i]);
    if (notify_due) {
        notify_due = 0;
        ipc_notify(vfs_ep);
    }
}

/* ---- options */

static int64_t int_value(const struct msg_sock_opt *o, int *v)
{
    if (o->len < sizeof(int32_t))
        return -LX_EINVAL;
    int32_t x;
    memcpy(&x, o->value, sizeof(x));
    *v = x;
    return 0;
}

/* SO_DEBUG, SO_BROADCAST, SO_OOBINLINE, SO_LINGER, SO_REUSEPORT, SO_PASSCRED, SO_RCVLOWAT,
 * SO_SNDLOWAT: taken (as AF_UNIX does), with no effect. */
static int accepted_only(int name)
{
    return name == 1 || name == 6 || name == 10 || name == 13 || name == 15 || name == 16 ||
           name == 18 || name == 19;
}

static int64_t setopt(struct isock *s, const struct msg_sock_opt *o)
{
    int v = 0;
    int64_t r;
    if (o->len > SOCK_OPT_BYTES)
        return -LX_EINVAL;
    if ((r = int_value(o, &v)) < 0)
        return r;
    uint32_t size = v < BUF_MIN ? BUF_MIN : v > BUF_MAX ? BUF_MAX : (uint32_t)v;
    if (o->level == SOL_SOCKET && o->name == SO_REUSEADDR)
        s->reuseaddr = v != 0;
    else if (o->level == SOL_SOCKET && o->name == SO_KEEPALIVE)
        s->keepalive = v != 0;
    else if (o->level == SOL_SOCKET && o->name == SO_RCVBUF)
        s->rcvbuf = size;
    else if (o->level == SOL_SOCKET && o->name == SO_SNDBUF)
        s->sndbuf = size;
    else if (o->level == IPPROTO_TCP && o->name == TCP_NODELAY && s->type == SOCK_STREAM)
        s->nodelay = v != 0;
    else if (o->level == IPPROTO_IPV6 && o->name == IPV6_V6ONLY && s->family == AF_INET6)
        return s->bound ? -LX_EINVAL : (s->v6only = v != 0, 0); /* fixed once bound (Linux) */
    else if (o->level == SOL_SOCKET && accepted_only(o->name))
        return 0;
    else
        return -LX_ENOPROTOOPT;
    ops_of(s)->option(s);
    return 0;
}

static int64_t getopt(struct isock *s, struct msg_sock_opt *o)
{
    int32_t v;
    o->len = sizeof(v);
    if (o->level == SOL_SOCKET) {
        switch (o->name) {
        case SO_REUSEADDR:
            v = s->reuseaddr;
            break;
        case SO_KEEPALIVE:
            v = s->keepalive;
            break;
        case SO_RCVBUF:
            v = (int32_t)s->rcvbuf;
            break;
        case SO_SNDBUF:
            v = (int32_t)s->sndbuf;
            break;
        case SO_TYPE:
            v = s->type;
            break;
        case SO_ERROR:
            v = s->error;
            s->error = 0; /* reported once */
            break;
        case SO_ACCEPTCONN:
            v = s->state == IS_LISTENING;
            break;
        case SO_PROTOCOL:
            v = s->protocol;
            break;
        case SO_DOMAIN:
            v = s->family;
            break;
        default:
            return -LX_ENOPROTOOPT;
        }
    } else if (o->level == IPPROTO_TCP && o->name == TCP_NODELAY && s->type == SOCK_STREAM) {
        v = s->nodelay;
    } else if (o->level == IPPROTO_IPV6 && o->name == IPV6_V6ONLY && s->family == AF_INET6) {
        v = s->v6only;
    } else {
        return -LX_ENOPROTOOPT;
    }
    memcpy(o->value, &v, sizeof(v));
    return 0;
}

/* ---- requests */

/* The protocol of a socket type (0 for the type's own): -errno if it has none such. */
static int socket_protocol(uint32_t type, uint32_t protocol)
{
    if (type == SOCK_RAW) /* raw sockets of ICMP only (ping); only root's (do_socket) */
        return protocol == IPPROTO_ICMP ? IPPROTO_ICMP : -LX_EPROTONOSUPPORT;
    if (type != SOCK_STREAM && type != SOCK_DGRAM)
        return -LX_ESOCKTNOSUPPORT;
    if (type == SOCK_DGRAM && protocol == IPPROTO_ICMP) /* a ping socket */
        return IPPROTO_ICMP;
    int want = type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP;
    return protocol == 0 || protocol == (uint32_t)want ? want : -LX_EPROTONOSUPPORT;
}

static int64_t do_socket(const struct msg_sock_socket *q)
{
    if (q->family != AF_INET && q->family != AF_INET6)
        return -LX_EAFNOSUPPORT;
    if (q->type == SOCK_RAW && !(q->flags & SOCK_CALLER_PRIV))
        return -LX_EPERM; /* Linux's CAP_NET_RAW, whatever the protocol */
    int protocol = socket_protocol(q->type, q->protocol);
    if (protocol < 0)
        return protocol;
    if (protocol == IPPROTO_ICMP && q->family != AF_INET)
        return -LX_EPROTONOSUPPORT; /* no ICMPv6 sockets */
    struct isock *s = isock_new((int)q->type, (int)q->family);
    if (!s)
        return -LX_ENFILE;
    s->protocol = protocol;
    int64_t r = ops_of(s)->create(s);
    if (r < 0) {
        isock_free(s);
        return r;
    }
    s->handed = 1;
    return isock_id(s);
}

/* An address some interface has (any IPv4 loopback address counts): 1 or 0. */
static int local_address(const ip_addr_t *ip)
{
    struct netif *n;
    if (IP_IS_V4(ip) && ip4_addr_isloopback(ip_2_ip4(ip)))
        return 1;
    NETIF_FOREACH(n)
    {
        if (IP_IS_V4(ip) ? ip4_addr_cmp(netif_ip4_addr(n), ip_2_ip4(ip))
                         : netif_get_ip6_addr_match(n, ip_2_ip6(ip)) >= 0)
            return 1;
    }
    return 0;
}

/*
 * bind, checked in Linux's order (__inet_bind): an address no interface has
 * is EADDRNOTAVAIL; a TCP or UDP port 1..1023 without SOCK_CALLER_PRIV
 * EACCES (a ping socket's "port" is its echo identifier: anyone's); bound
 * already EINVAL (a v4-mapped address on a v6-only socket: EINVAL too).
 * :: on a dual-stack socket binds both families (lwIP's IPADDR_TYPE_ANY).
 */
static int64_t do_bind(struct isock *s, const struct msg_sock_addr *a)
{
    ip_addr_t ip;
    uint16_t port;
    int64_t r = sock_addr_in(s, a, &ip, &port);
    if (r < 0)
        return r == -LX_ENETUNREACH ? -LX_EINVAL : r;
    if (ip_addr_isany(&ip) && s->family == AF_INET6)
        ip_addr_copy(ip, *sock_any(s));
    else if (!ip_addr_isany(&ip) && !local_address(&ip))
        return -LX_EADDRNOTAVAIL;
    if (port != 0 && port < SOCK_PORT_PRIV && s->protocol != IPPROTO_ICMP &&
        !(a->flags & SOCK_CALLER_PRIV))
        return -LX_EACCES;
    if (s->bound)
        return -LX_EINVAL;
    if (IP_IS_V6(&ip) && !ip_addr_isany(&ip))
        s->v6only = 1; /* Linux: bound to an IPv6 address, the socket is v6-only */
    r = ops_of(s)->bind(s, &ip, port);
    if (r == 0)
        s->bound = 1;
    return r;
}

static int64_t do_name(struct isock *s, int peer, message_t *reply)
{
    ip_addr_t ip = *IP_ADDR_ANY;
    uint16_t port = 0;
    int64_t r = ops_of(s)->name(s, peer, &ip, &port);
    if (r < 0)
        return r;
    struct msg_sock_name_reply *n = &reply->u.sock.name_reply;
    sock_addr_out(s, &ip, port, n->addr, &n->addr_len);
    return 0;
}

static int64_t do_close(struct isock *s)
{
    for (int i = 0; i < SOCK_MAX; i++) /* connections nobody accepted go with their listener */
        if (socks[i].in_use && socks[i].listener == isock_id(s) && !socks[i].handed) {
            ops_of(&socks[i])->close(&socks[i]);
            isock_free(&socks[i]);
        }
    ops_of(s)->close(s);
    isock_free(s);
    return 0;
}

static int64_t do_mailbox(endpoint_t from, const struct msg_sock_mailbox *b)
{
    if (b->size < sizeof(struct sock_status_table))
        return -LX_EINVAL;
    vfs_ep = from;
    table_grant = b->grant;
    for (int i = 0; i < SOCK_MAX; i++)
        socks[i].shown.flags = ~0u; /* write every entry again */
    return 0;
}

/* One request about socket s (checked to be vfs's). */
static int64_t serve(struct isock *s, const message_t *m, message_t *reply)
{
    const union msg_sock *q = &m->u.sock;
    const struct isock_ops *o = ops_of(s);
    switch (m->type) {
    case SOCK_BIND:
        return do_bind(s, &q->addr);
    case SOCK_CONNECT:
        return o->connect(s, &q->addr);
    case SOCK_LISTEN:
        return o->listen(s, (int)q->arg.arg);
    case SOCK_ACCEPT:
        return o->accept(s);
    case SOCK_SEND:
        return q->data.len > (1ull << 30) ? -LX_EINVAL : o->send(s, &q->data);
    case SOCK_RECV:
        return q->data.len > (1ull << 30) ? -LX_EINVAL : o->recv(s, &q->data, reply);
    case SOCK_SHUTDOWN:
        if (q->arg.arg < SHUT_RD || q->arg.arg > SHUT_RDWR)
            return -LX_EINVAL;
        return o->shutdown(s, (int)q->arg.arg);
    case SOCK_NAME:
        return do_name(s, q->arg.arg != 0, reply);
    case SOCK_GETOPT:
        reply->u.sock.opt = q->opt;
        return getopt(s, &reply->u.sock.opt);
    case SOCK_SETOPT:
        return setopt(s, &q->opt);
    case SOCK_CLOSE:
        return do_close(s);
    default:
        return -LX_ENOSYS;
    }
}

int sock_request(const message_t *m)
{
    if (!IS_SOCK_RQ(m->type))
        return 0;
    message_t reply = {.type = SOCK_REPLY};
    int64_t r;
    if (!client_set_has(&vfs_clients, m->source)) {
        service_refuse("inet", m, "SOCK requests come from vfs only");
        r = -LX_EPERM;
    } else if (m->type == SOCK_MAILBOX) {
        r = do_mailbox(m->source, &m->u.sock.mailbox);
    } else if (m->type == SOCK_SOCKET) {
        r = do_socket(&m->u.sock.socket);
    } else if (m->type == SOCK_IFREQ) { /* netinfo.c: interfaces and routes */
        reply.u.sock.ifreq = m->u.sock.ifreq;
        r = netinfo_ifreq(&reply.u.sock.ifreq);
    } else if (m->type == SOCK_TABLE) {
        r = netinfo_table(&m->u.sock.table);
    } else {
        /* the first word of every request about a socket (32 bits of SEND's and RECV's) */
        int data = m->type == SOCK_SEND || m->type == SOCK_RECV;
        uint64_t id = data ? m->u.sock.data.id : m->u.sock.arg.id;
        struct isock *s = id < SOCK_MAX ? isock_by_id((int)id) : 0;
        r = s && s->handed ? serve(s, m, &reply) : -LX_EBADF;
    }
    sock_flush(); /* the table is up to date before vfs reads the reply */
    reply.u.sock.reply.result = r;
    reply_hold(m->source, &reply);
    return 1;
}
