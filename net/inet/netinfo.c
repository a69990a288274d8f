/*
 * What inet shows of its interfaces, routes and sockets, for ifconfig,
 * route and netstat (docs/INET.md, "Interfaces and tables you can see"):
 *
 * - SOCK_IFREQ: Linux's interface ioctls on a struct ifreq (vfs turns a
 *   program's ioctl into one request and checks that only root sets).
 *   Interfaces have Linux's names: lwIP's loopback is "lo", the driver
 *   interfaces are "eth0", "eth1"... in the order they were added; the
 *   index (SIOCGIFINDEX) is lwIP's netif_get_index().
 * - SOCK_TABLE: the text of /proc/net/dev, route, tcp, udp and raw in
 *   Linux's layout (what BusyBox's parsers read), written into vfs's grant.
 *
 * Routing is lwIP's: one subnet route per interface with an address and
 * the default route through the default netif's gateway. A route added by
 * SIOCADDRT can only be a default route (dst 0, mask 0) through a gateway
 * on an interface's subnet: it becomes that interface's gateway and lwIP's
 * default netif. /proc/net/dev counts a driver interface's frames (netif.c's
 * received, sent, errors and drops); bytes, and the loopback's counts, are 0.
 */
#include "sock.h"
#include "format/format.h"
#include "lwip/ip4.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/raw.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "netif.h"
#include "sys.h"

/* Linux's ioctl numbers (linux/sockios.h), interface flags (linux/if.h), route flags */
#define SIOCADDRT 0x890B
#define SIOCDELRT 0x890C
#define SIOCGIFNAME 0x8910
#define SIOCGIFFLAGS 0x8913
#define SIOCSIFFLAGS 0x8914
#define SIOCGIFADDR 0x8915
#define SIOCSIFADDR 0x8916
#define SIOCGIFDSTADDR 0x8917
#define SIOCGIFBRDADDR 0x8919
#define SIOCGIFNETMASK 0x891b
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFMETRIC 0x891d
#define SIOCGIFMTU 0x8921
#define SIOCGIFHWADDR 0x8927
#define SIOCGIFINDEX 0x8933
#define SIOCGIFTXQLEN 0x8942
#define SIOCGIFMAP 0x8970
#define IFF_UP 0x1
#define IFF_BROADCAST 0x2
#define IFF_LOOPBACK 0x8
#define IFF_RUNNING 0x40
#define IFF_MULTICAST 0x1000
#define ARPHRD_ETHER 1
#define ARPHRD_LOOPBACK 772
#define RTF_UP 0x1
#define RTF_GATEWAY 0x2
#define IFNAMSIZ 16
#define LOOPBACK_MTU 65536 /* what Linux shows for lo (lwIP's loop interface has no MTU) */

static int is_loop(const struct netif *n)
{
    return n->name[0] == 'l' && n->name[1] == 'o';
}

/* The interface's Linux name: "lo", or "ethK" (K: driver interfaces added before it). */
static void linux_name(const struct netif *n, char out[IFNAMSIZ])
{
    if (is_loop(n)) {
        strncpy_s(out, "lo", IFNAMSIZ);
        return;
    }
    int k = 0;
    struct netif *o;
    NETIF_FOREACH(o)
    {
        if (!is_loop(o) && o->num < n->num)
            k++;
    }
    snprintf_s(out, IFNAMSIZ, "eth%d", k);
}

static struct netif *by_name(const uint8_t *ifr)
{
    char want[IFNAMSIZ], name[IFNAMSIZ];
    memcpy(want, ifr, IFNAMSIZ);
    want[IFNAMSIZ - 1] = '\0';
    struct netif *n;
    NETIF_FOREACH(n)
    {
        linux_name(n, name);
        if (!strcmp(name, want))
            return n;
    }
    return 0;
}

static int has_address(const struct netif *n)
{
    return !ip4_addr_isany_val(*netif_ip4_addr(n));
}

static uint32_t ifflags(const struct netif *n)
{
    uint32_t f = 0;
    if (netif_is_up(n))
        f |= IFF_UP;
    if (netif_is_up(n) && netif_is_link_up(n))
        f |= IFF_RUNNING;
    if (n->flags & NETIF_FLAG_BROADCAST)
        f |= IFF_BROADCAST | IFF_MULTICAST;
    if (is_loop(n))
        f |= IFF_LOOPBACK | IFF_RUNNING;
    return f;
}

/* A struct sockaddr_in of a (network order) at out. */
static void sockaddr_put(uint8_t *out, uint32_t a)
{
    memset(out, 0, SOCK_ADDR_BYTES);
    out[0] = AF_INET;
    memcpy(out + 4, &a, 4);
}

/* The address of a struct sockaddr_in at in: -EINVAL if it is not one. */
static int sockaddr_get(const uint8_t *in, uint32_t *a)
{
    if (in[0] != AF_INET || in[1] != 0)
        return -LX_EINVAL;
    memcpy(a, in + 4, 4);
    return 0;
}

static void int_put(uint8_t *out, int32_t v)
{
    memcpy(out, &v, sizeof(v));
}

/* The n-th interface with an address (SIOCGIFCONF's entries, in vfs's loop). */
static int64_t nth(uint8_t *ifr)
{
    int32_t want;
    memcpy(&want, ifr + IFNAMSIZ, sizeof(want));
    struct netif *n;
    NETIF_FOREACH(n)
    {
        if (has_address(n) && want-- == 0) {
            memset(ifr, 0, SOCK_IFREQ_BYTES);
            linux_name(n, (char *)ifr);
            sockaddr_put(ifr + IFNAMSIZ, ip4_addr_get_u32(netif_ip4_addr(n)));
            return 0;
        }
    }
    return -LX_ENODEV;
}

/* SIOCADDRT/SIOCDELRT: only the default route, through a gateway on an interface's subnet. */
static int64_t route(uint64_t cmd, const uint8_t *ifr)
{
    struct sock_route r;
    memcpy(&r, ifr, sizeof(r));
    if (r.dst || r.mask || (cmd == SIOCADDRT && !(r.flags & RTF_GATEWAY)))
        return -LX_EINVAL; /* lwIP routes by subnet; only the default route is ours to set */
    struct netif *n;
    NETIF_FOREACH(n)
    {
        if (is_loop(n) || !has_address(n))
            continue;
        uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
        uint32_t net = ip4_addr_get_u32(netif_ip4_addr(n)) & mask;
        if (cmd == SIOCADDRT && (r.gateway & mask) == net) {
            ip4_addr_t gw;
            ip4_addr_set_u32(&gw, r.gateway);
            netif_set_gw(n, &gw);
            netif_set_default(n);
            return 0;
        }
        if (cmd == SIOCDELRT && n == netif_default) {
            netif_set_gw(n, IP4_ADDR_ANY4);
            netif_set_default(0);
            return 0;
        }
    }
    return cmd == SIOCADDRT ? -LX_ENETUNREACH : -LX_ESRCH;
}

/* A set request on n (vfs let only root send it). */
static int64_t set(struct netif *n, uint64_t cmd, const uint8_t *ifr)
{
    uint32_t a;
    int32_t flags;
    ip4_addr_t ip;
    switch (cmd) {
    case SIOCSIFFLAGS:
        memcpy(&flags, ifr + IFNAMSIZ, sizeof(flags));
        if ((flags & IFF_UP) && !netif_is_up(n))
            netif_set_up(n);
        else if (!(flags & IFF_UP) && netif_is_up(n) && !is_loop(n))
            netif_set_down(n);
        return 0;
    case SIOCSIFADDR:
    case SIOCSIFNETMASK:
        if (is_loop(n) || sockaddr_get(ifr + IFNAMSIZ, &a) < 0)
            return -LX_EINVAL;
        ip4_addr_set_u32(&ip, a);
        if (cmd == SIOCSIFADDR)
            netif_set_ipaddr(n, &ip);
        else
            netif_set_netmask(n, &ip);
        return 0;
    default:
        return -LX_EINVAL;
    }
}

int64_t netinfo_ifreq(struct msg_sock_ifreq *q)
{
    uint8_t *ifr = q->ifr, *u = q->ifr + IFNAMSIZ; /* the union after the name */
    if (q->cmd == SOCK_IFCONF_NTH)
        return nth(ifr);
    if (q->cmd == SIOCADDRT || q->cmd == SIOCDELRT)
        return route(q->cmd, ifr);
    if (q->cmd == SIOCGIFNAME) {
        int32_t index;
        memcpy(&index, u, sizeof(index));
        struct netif *n = index > 0 && index < 256 ? netif_get_by_index((uint8_t)index) : 0;
        if (!n)
            return -LX_ENODEV;
        linux_name(n, (char *)ifr);
        return 0;
    }
    struct netif *n = by_name(ifr);
    if (!n)
        return -LX_ENODEV;
    if (q->cmd == SIOCSIFFLAGS || q->cmd == SIOCSIFADDR || q->cmd == SIOCSIFNETMASK)
        return set(n, q->cmd, ifr);
    uint32_t addr = ip4_addr_get_u32(netif_ip4_addr(n));
    uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
    memset(u, 0, SOCK_IFREQ_BYTES - IFNAMSIZ);
    switch (q->cmd) {
    case SIOCGIFFLAGS:
        int_put(u, (int32_t)ifflags(n)); /* ifr_flags is a short; the rest stays 0 */
        return 0;
    case SIOCGIFADDR:
    case SIOCGIFNETMASK:
    case SIOCGIFBRDADDR:
    case SIOCGIFDSTADDR:
        if (!has_address(n))
            return -LX_EADDRNOTAVAIL;
        sockaddr_put(u, q->cmd == SIOCGIFADDR      ? addr
                        : q->cmd == SIOCGIFNETMASK ? mask
                        : q->cmd == SIOCGIFBRDADDR ? (addr | ~mask)
                                                   : 0);
        return 0;
    case SIOCGIFHWADDR:
        u[0] = (uint8_t)(is_loop(n) ? ARPHRD_LOOPBACK : ARPHRD_ETHER);
        u[1] = (uint8_t)((is_loop(n) ? ARPHRD_LOOPBACK : ARPHRD_ETHER) >> 8);
        memcpy(u + 2, n->hwaddr, n->hwaddr_len <= 6 ? n->hwaddr_len : 6);
        return 0;
    case SIOCGIFMTU:
        int_put(u, is_loop(n) ? LOOPBACK_MTU : n->mtu);
        return 0;
    case SIOCGIFINDEX:
        int_put(u, netif_get_index(n));
        return 0;
    case SIOCGIFMETRIC:
    case SIOCGIFMAP:
        return 0;
    case SIOCGIFTXQLEN:
        int_put(u, is_loop(n) ? 1000 : 512); /* netif.c's FIFO of held frames */
        return 0;
    default:
        return -LX_EINVAL;
    }
}

/* ---- /proc/net's text */

struct text {
    char *buf;
    uint64_t size, len;
};

#define ADD(t, ...)                                                                                \
    ((t)->len += (uint64_t)snprintf_s((t)->buf + (t)->len, (t)->size - (t)->len, __VA_ARGS__),     \
     (t)->len = (t)->len < (t)->size ? (t)->len : (t)->size - 1)

static void dev_table(struct text *t)
{
    ADD(t, "Inter-|   Receive                                                |  Transmit\n"
           " face |bytes    packets errs drop fifo frame compressed multicast|"
           "bytes    packets errs drop fifo colls carrier compressed\n");
    struct netif *n;
    char name[IFNAMSIZ];
    NETIF_FOREACH(n)
    {
        linux_name(n, name);
        const struct nic *c = is_loop(n) ? 0 : n->state; /* netif.c's counters: frames, no bytes */
        ADD(t, "%6s: 0 %lu %lu 0 0 0 0 0 0 %lu %lu %lu 0 0 0 0\n", name, c ? c->received : 0,
            c ? c->rx_errors : 0, c ? c->sent : 0, c ? c->tx_errors : 0, c ? c->tx_dropped : 0);
    }
}

static void route_line(struct text *t, const char *name, uint32_t dst, uint32_t gw, int flags,
                       uint32_t mask, int mtu)
{
    ADD(t, "%s\t%08X\t%08X\t%04X\t0\t0\t0\t%08X\t%d\t0\t0\n", name, dst, gw, flags, mask, mtu);
}

static void route_table(struct text *t)
{
    ADD(t, "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n");
    struct netif *n;
    char name[IFNAMSIZ];
    NETIF_FOREACH(n)
    {
        if (is_loop(n) || !netif_is_up(n) || !has_address(n))
            continue;
        linux_name(n, name);
        uint32_t mask = ip4_addr_get_u32(netif_ip4_netmask(n));
        uint32_t gw = ip4_addr_get_u32(netif_ip4_gw(n));
        if (n == netif_default && gw)
            route_line(t, name, 0, gw, RTF_UP | RTF_GATEWAY, 0, 0);
        route_line(t, name, ip4_addr_get_u32(netif_ip4_addr(n)) & mask, 0, RTF_UP, mask, 0);
    }
}

/* Linux's TCP states (include/net/tcp_states.h) by lwIP's enum tcp_state. */
static const uint8_t linux_tcp_state[] = {
    [CLOSED] = 7,      [LISTEN] = 10,    [SYN_SENT] = 2,   [SYN_RCVD] = 3,
    [ESTABLISHED] = 1, [FIN_WAIT_1] = 4, [FIN_WAIT_2] = 5, [CLOSE_WAIT] = 8,
    [CLOSING] = 11,    [LAST_ACK] = 9,   [TIME_WAIT] = 6,
};

/* An address as /proc/net prints it: each 32-bit word of network order as read on x86 (Linux). */
static void address_words(char *out, size_t size, int v6, const ip_addr_t *a)
{
    uint32_t w[4] = {0, 0, 0, 0};
    if (IP_IS_V6(a))
        memcpy(w, ip_2_ip6(a)->addr, sizeof(w));
    else if (!v6)
        w[3] = ip4_addr_get_u32(ip_2_ip4(a));
    else if (IP_IS_V4(a) && !ip4_addr_isany(ip_2_ip4(a))) /* a v4-mapped address */
        w[2] = 0xffff0000u, w[3] = ip4_addr_get_u32(ip_2_ip4(a));
    if (v6)
        snprintf_s(out, size, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
    else
        snprintf_s(out, size, "%08X", w[3]);
}

static void socket_line(struct text *t, int *sl, int v6, const ip_addr_t *local, uint16_t lport,
                        const ip_addr_t *remote, uint16_t rport, int state, uint32_t txq,
                        uint32_t rxq)
{
    char l[33], r[33];
    address_words(l, sizeof(l), v6, local);
    address_words(r, sizeof(r), v6, remote);
    ADD(t, "%4d: %s:%04X %s:%04X %02X %08X:%08X 00:00000000 00000000     0        0 0\n", (*sl)++,
        l, lport, r, rport, state, txq, rxq);
}

static const char socket_header[] = "  sl  local_address rem_address   st tx_queue rx_queue tr "
                                    "tm->when retrnsmt   uid  timeout inode\n";
static const char socket6_header[] =
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n";

/* A pcb's table: tcp6/udp6 take IPv6 pcbs and dual-stack ones (IPADDR_TYPE_ANY), as Linux
 * shows an AF_INET6 socket there; tcp/udp the IPv4 ones. */
static int in_table(int v6, const ip_addr_t *local)
{
    return v6 ? !IP_IS_V4_VAL(*local) : IP_IS_V4_VAL(*local);
}

static void tcp_list(struct text *t, struct tcp_pcb *pcb, int *sl, int v6)
{
    for (; pcb; pcb = pcb->next) {
        if (!in_table(v6, &pcb->local_ip))
            continue;
        uint32_t txq = pcb->state == LISTEN ? 0 : (uint32_t)(TCP_SND_BUF - pcb->snd_buf);
        socket_line(t, sl, v6, &pcb->local_ip, pcb->local_port, &pcb->remote_ip,
                    pcb->state == LISTEN ? 0 : pcb->remote_port, linux_tcp_state[pcb->state], txq,
                    0);
    }
}

static void tcp_table(struct text *t, int v6)
{
    int sl = 0;
    ADD(t, "%s", v6 ? socket6_header : socket_header);
    tcp_list(t, tcp_listen_pcbs.pcbs, &sl, v6);
    tcp_list(t, tcp_bound_pcbs, &sl, v6);
    tcp_list(t, tcp_active_pcbs, &sl, v6);
    tcp_list(t, tcp_tw_pcbs, &sl, v6);
}

static void udp_table(struct text *t, int v6)
{
    int sl = 0;
    ADD(t, "%s", v6 ? socket6_header : socket_header);
    for (struct udp_pcb *pcb = udp_pcbs; pcb; pcb = pcb->next) {
        if (!in_table(v6, &pcb->local_ip))
            continue;
        int connected = (pcb->flags & UDP_FLAGS_CONNECTED) != 0;
        socket_line(t, &sl, v6, &pcb->local_ip, pcb->local_port, &pcb->remote_ip,
                    connected ? pcb->remote_port : 0, connected ? 1 : 7, 0, 0);
    }
}

/* Raw sockets are inet's (lwIP keeps its list of raw pcbs to itself); "port" is the protocol. */
static void raw_table(struct text *t)
{
    int sl = 0;
    ADD(t, "%s", socket_header);
    for (int i = 0; i < SOCK_MAX; i++) {
        struct isock *s = isock_by_id(i);
        if (s && s->raw && s->type == SOCK_RAW)
            socket_line(t, &sl, 0, &s->raw->local_ip, IPPROTO_ICMP, &s->raw->remote_ip, 0, 7, 0,
                        s->rx_bytes > 0xffffffffu ? 0xffffffffu : (uint32_t)s->rx_bytes);
    }
}

int64_t netinfo_table(const struct msg_sock_table *q)
{
    struct text t = {(char *)sock_bounce, sizeof(sock_bounce), 0};
    switch (q->kind) {
    case SOCK_TABLE_DEV:
        dev_table(&t);
        break;
    case SOCK_TABLE_ROUTE:
        route_table(&t);
        break;
    case SOCK_TABLE_TCP:
    case SOCK_TABLE_TCP6:
        tcp_table(&t, q->kind == SOCK_TABLE_TCP6);
        break;
    case SOCK_TABLE_UDP:
    case SOCK_TABLE_UDP6:
        udp_table(&t, q->kind == SOCK_TABLE_UDP6);
        break;
    case SOCK_TABLE_RAW:
        raw_table(&t);
        break;
    default:
        return -LX_EINVAL;
    }
    uint64_t n = t.len < q->len ? t.len : q->len;
    return sock_copy_to(q->grant, 0, sock_bounce, n) < 0 ? -LX_EFAULT : (int64_t)n;
}
