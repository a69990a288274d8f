/*
 * The network's state for ifconfig, route and netstat: Linux's interface
 * and route ioctls on any socket, and the files of /proc/net (procfs.c).
 * inet knows the interfaces, routes and its sockets (net/inet/netinfo.c);
 * each ioctl is one SOCK_IFREQ, each AF_INET file one SOCK_TABLE
 * (samsara/sock.h). vfs copies the caller's struct ifreq, ifconf or
 * rtentry in and out, and lets only root (euid 0) change anything
 * (EPERM, as Linux without CAP_NET_ADMIN).
 */
#include <samsara/sock.h>
#include "socket.h"

#define SIOCADDRT 0x890B
#define SIOCDELRT 0x890C
#define SIOCGIFNAME 0x8910
#define SIOCGIFCONF 0x8912
#define SIOCSIFFLAGS 0x8914
#define SIOCSIFADDR 0x8916
#define SIOCSIFNETMASK 0x891c
#define SIOCGIFMAP 0x8970

/* The ifreq ioctls inet answers (Linux's numbers between SIOCGIFNAME and SIOCGIFMAP). */
static int ifreq_ioctl(uint64_t req)
{
    static const uint16_t known[] = {0x8910, 0x8913, 0x8914, 0x8915, 0x8916,
                                     0x8917, 0x8919, 0x891b, 0x891c, 0x891d,
                                     0x8921, 0x8927, 0x8933, 0x8942, SIOCGIFMAP};
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (req == known[i])
            return 1;
    return 0;
}

static int64_t ifreq(uint64_t cmd, uint8_t *ifr)
{
    message_t m = {.type = SOCK_IFREQ, .u.sock.ifreq.cmd = cmd};
    memcpy(m.u.sock.ifreq.ifr, ifr, SOCK_IFREQ_BYTES);
    int64_t r = inet_request(&m, 0, 0, 0, 0);
    if (r >= 0)
        memcpy(ifr, m.u.sock.ifreq.ifr, SOCK_IFREQ_BYTES);
    return r < 0 ? r : 0;
}

/* SIOCGIFCONF: a struct ifreq (name, address) per interface with an address. */
static int64_t ifconf(struct vproc *p, uint64_t arg)
{
    struct {
        int32_t len, pad;
        uint64_t buf;
    } c;
    if (copy_in(p, arg, &c, sizeof(c)) < 0)
        return -LX_EFAULT;
    int32_t n = 0;
    uint8_t ifr[SOCK_IFREQ_BYTES];
    for (;; n++) {
        if (c.buf && (int64_t)(n + 1) * SOCK_IFREQ_BYTES > c.len)
            break; /* full: the caller sees len == its size and asks again with more */
        memset(ifr, 0, sizeof(ifr));
        memcpy(ifr + 16, &n, sizeof(n));
        if (ifreq(SOCK_IFCONF_NTH, ifr) < 0)
            break;
        if (c.buf && copy_out(p, c.buf + (uint64_t)n * SOCK_IFREQ_BYTES, ifr, sizeof(ifr)) < 0)
            return -LX_EFAULT;
    }
    c.len = n * SOCK_IFREQ_BYTES;
    return copy_out(p, arg, &c.len, sizeof(c.len)) < 0 ? -LX_EFAULT : 0;
}

/* SIOCADDRT, SIOCDELRT: a struct rtentry's destination, gateway, mask and flags. */
static int64_t rtentry(struct vproc *p, uint64_t req, uint64_t arg)
{
    uint8_t rt[58]; /* rt_pad1, rt_dst, rt_gateway, rt_genmask, rt_flags */
    if (copy_in(p, arg, rt, sizeof(rt)) < 0)
        return -LX_EFAULT;
    struct sock_route r;
    memcpy(&r.dst, rt + 8 + 4, 4);
    memcpy(&r.gateway, rt + 24 + 4, 4);
    memcpy(&r.mask, rt + 40 + 4, 4);
    memcpy(&r.flags, rt + 56, 2);
    uint8_t ifr[SOCK_IFREQ_BYTES] = {0};
    memcpy(ifr, &r, sizeof(r));
    return ifreq(req, ifr);
}

int64_t net_ioctl(struct vproc *p, uint64_t req, uint64_t arg)
{
    int sets = req == SIOCSIFFLAGS || req == SIOCSIFADDR || req == SIOCSIFNETMASK ||
               req == SIOCADDRT || req == SIOCDELRT;
    if (sets && p->cred.euid != 0)
        return -LX_EPERM;
    if (req == SIOCGIFCONF)
        return ifconf(p, arg);
    if (req == SIOCADDRT || req == SIOCDELRT)
        return rtentry(p, req, arg);
    if (!ifreq_ioctl(req))
        return -LX_ENOTTY;
    uint8_t ifr[SOCK_IFREQ_BYTES];
    if (copy_in(p, arg, ifr, sizeof(ifr)) < 0)
        return -LX_EFAULT;
    int64_t r = ifreq(req, ifr);
    if (r < 0 || sets)
        return r;
    return copy_out(p, arg, ifr, sizeof(ifr)) < 0 ? -LX_EFAULT : 0;
}

/* /proc/net's files (procfs.c's order): inet's tables, then the ones without entries here. */
static const char *const empty_text[] = {
    "  sl  local_address                         remote_address                        st "
    "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n", /* raw6 */
    "Num       RefCount Protocol Flags    Type St Inode Path\n",     /* unix */
};

int64_t net_text(int file, char *buf, uint64_t size)
{
    if (file > SOCK_TABLE_UDP6) {
        const char *t = empty_text[file == SOCK_TABLE_UDP6 + 2];
        return snprintf_s(buf, size, "%s", t);
    }
    message_t m = {.type = SOCK_TABLE, .u.sock.table = {.kind = (uint32_t)file, .len = size}};
    int64_t r = inet_request(&m, &m.u.sock.table.grant, buf, size, GRANT_WRITE);
    return r < 0 ? r : r > (int64_t)size ? -LX_EIO : r;
}
