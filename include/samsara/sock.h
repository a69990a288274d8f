/*
 * The SOCK protocol: vfs -> the network stack (inet), the SOCK range of
 * samsara/msgtypes.h; bodies in samsara/msg/sock.h (m.u.sock.NAME).
 * docs/INET.md ("Sockets") explains the design; this is the reference.
 *
 * Only vfs sends requests. inet answers each at once with sendnb (type
 * SOCK_REPLY, result first: 0, a count or an id, or a negative Linux errno)
 * and never waits for anything: a call that cannot go on yet is answered
 * -EAGAIN, and vfs, not inet, makes the caller wait. What changes later (data
 * arrived, room to send, a connection made, refused or reset, a connection
 * to accept) inet writes into the status table vfs lent it (SOCK_MAILBOX),
 * one entry per socket id, then notifies vfs, which re-runs the waiting calls
 * and polls. inet writes an entry before it answers a request that changed
 * the socket, so what vfs reads after a reply is never older than the reply.
 *
 * Data moves through grants vfs makes to inet: of the Linux process's own
 * buffer (GRANT_USER_MEMORY) or of vfs's memory; inet copies with safecopy
 * while it serves the request and keeps no grant after its reply.
 *
 * Addresses are Linux's struct sockaddr_in or sockaddr_in6 as the caller
 * gave it: up to 28 bytes in `addr` and the caller's length in `addr_len`
 * (which may be longer: the rest is ignored, as Linux does). inet checks
 * them against the socket's family.
 *
 * SOCK_MAILBOX  grant (write) of a struct sock_status_table, its size. The
 *               table is zeroed by vfs; inet writes every socket's entry
 *               from then on. A new inet instance knows no socket of the old.
 * SOCK_SOCKET   type (SOCK_STREAM 1, SOCK_DGRAM 2, SOCK_RAW 3), protocol,
 *               family (AF_INET, AF_INET6), flags -> the id (0..SOCK_MAX-1);
 *               -EPROTONOSUPPORT, -ESOCKTNOSUPPORT, -EAFNOSUPPORT, -ENFILE;
 *               -EPERM for SOCK_RAW without SOCK_CALLER_PRIV (Linux's CAP_NET_RAW).
 * SOCK_BIND     id, addr, flags -> 0, -EADDRINUSE, -EADDRNOTAVAIL, -EINVAL;
 *               -EACCES for a TCP or UDP port 1..1023 without
 *               SOCK_CALLER_PRIV (Linux's CAP_NET_BIND_SERVICE).
 * SOCK_CONNECT  id, addr -> 0 (datagram; or the stream's connection made
 *               since the last connect), -EINPROGRESS (started: the entry
 *               has SOCK_ST_CONNECTING until it ends), -EALREADY, -EISCONN,
 *               -ECONNREFUSED (the error of the last attempt, once).
 * SOCK_LISTEN   id, backlog -> 0.
 * SOCK_ACCEPT   id -> the new connection's id, -EAGAIN, -EINVAL.
 * SOCK_SEND     id, grant (read), len, flags, addr -> bytes taken
 *               (a stream takes what fits its send buffer), -EAGAIN, -EPIPE
 *               (vfs raises SIGPIPE), -EMSGSIZE, -EDESTADDRREQ, -EFAULT.
 * SOCK_RECV     id, grant (write), len, flags (MSG_PEEK, MSG_TRUNC) ->
 *               recv_reply: bytes (0: end of stream), out flags, source.
 * SOCK_SHUTDOWN id, how (SHUT_RD, SHUT_WR, SHUT_RDWR) -> 0, -ENOTCONN.
 * SOCK_NAME     id, peer (0: its own) -> name_reply; -ENOTCONN.
 * SOCK_GETOPT   id, level, name -> opt_reply (SO_ERROR is cleared).
 * SOCK_SETOPT   id, level, name, len, value -> 0, -ENOPROTOOPT, -EINVAL.
 * SOCK_CLOSE    id -> 0: the socket is gone (a connection closed, or reset
 *               if data was left unread).
 *
 * SOCK_IFREQ    cmd (a Linux SIOCxIFxxx or SIOCADDRT/SIOCDELRT ioctl), ifr (a
 *               struct ifreq: name first) -> 0 and the reply's ifr, -ENODEV
 *               (no such interface), -EINVAL, -EADDRNOTAVAIL. vfs answers the
 *               ioctls with it (and checks that only root sets anything);
 *               SIOCGIFCONF is vfs's loop over SOCK_IFCONF_NTH (the index
 *               in ifr_ifindex: the n-th interface with an address, its name
 *               and address), and SIOCADDRT/SIOCDELRT carry the route packed
 *               as struct sock_route.
 * SOCK_TABLE    kind (SOCK_TABLE_*), grant (write), len -> bytes written: the
 *               text of /proc/net/dev, route, tcp, udp, raw, tcp6 or udp6 as Linux's.
 *
 * SOCK_CALLER_PRIV is vfs's word that the calling process may do what
 * Linux keeps for root: vfs sets it when the caller's effective uid is 0 at
 * the call; inet decides what needs it and believes it because only vfs may
 * send (connect, listen and send bind implicitly to ephemeral ports, 49152
 * and up, so they need no flag).
 *
 * An id that names no socket of vfs's is -EBADF. Anything from a sender other
 * than vfs is refused.
 */
#ifndef SAMSARA_SOCK_H
#define SAMSARA_SOCK_H

#include <stdint.h>
#include <samsara/msgtypes.h>

#define SOCK_MAILBOX (SOCK_RQ_BASE + 0x01)
#define SOCK_SOCKET (SOCK_RQ_BASE + 0x02)
#define SOCK_BIND (SOCK_RQ_BASE + 0x03)
#define SOCK_CONNECT (SOCK_RQ_BASE + 0x04)
#define SOCK_LISTEN (SOCK_RQ_BASE + 0x05)
#define SOCK_ACCEPT (SOCK_RQ_BASE + 0x06)
#define SOCK_SEND (SOCK_RQ_BASE + 0x07)
#define SOCK_RECV (SOCK_RQ_BASE + 0x08)
#define SOCK_SHUTDOWN (SOCK_RQ_BASE + 0x09)
#define SOCK_NAME (SOCK_RQ_BASE + 0x0a)
#define SOCK_GETOPT (SOCK_RQ_BASE + 0x0b)
#define SOCK_SETOPT (SOCK_RQ_BASE + 0x0c)
#define SOCK_CLOSE (SOCK_RQ_BASE + 0x0d)
#define SOCK_IFREQ (SOCK_RQ_BASE + 0x0e)
#define SOCK_TABLE (SOCK_RQ_BASE + 0x0f)
#define SOCK_RQ_LAST SOCK_TABLE
#define SOCK_REPLY (SOCK_RQ_BASE + 0xff)
_Static_assert(IS_SOCK_RQ(SOCK_REPLY) && SOCK_RQ_LAST < SOCK_REPLY,
               "sock types stay in the SOCK range");

#define SOCK_MAX 128        /* sockets inet serves at once: ids 0..SOCK_MAX-1 */
#define SOCK_ADDR_BYTES 28  /* struct sockaddr_in6 (a sockaddr_in is 16) */
#define SOCK_OPT_BYTES 16   /* the largest option value (struct timeval) */
#define SOCK_CALLER_PRIV 1  /* flags of SOCK_SOCKET and SOCK_BIND: the caller's euid is 0 */
#define SOCK_PORT_PRIV 1024 /* ports 1..SOCK_PORT_PRIV-1 need SOCK_CALLER_PRIV to bind */

/* A socket's entry in the status table: what a call on it would find now. */
#define SOCK_ST_RD 1          /* a receive or accept would not wait (data, end, error) */
#define SOCK_ST_WR 2          /* a send would not wait (room, or an error) */
#define SOCK_ST_ERR 4         /* an error is pending (SO_ERROR) */
#define SOCK_ST_HUP 8         /* both directions are closed */
#define SOCK_ST_CONNECTING 16 /* a connect is under way */
#define SOCK_ST_LIVE 32       /* the id names a socket of this inet instance */

/* SOCK_IFREQ's own commands, beside Linux's ioctl numbers */
#define SOCK_IFCONF_NTH 0x10000 /* ifr_ifindex n -> name and address of the n-th with one */
#define SOCK_IFREQ_BYTES 40     /* struct ifreq */

/* A route of SIOCADDRT/SIOCDELRT, in SOCK_IFREQ's ifr (addresses in network order) */
struct sock_route {
    uint32_t dst, gateway, mask;
    uint16_t flags; /* Linux's RTF_UP, RTF_GATEWAY, RTF_HOST */
};

/* SOCK_TABLE's kinds: the files of /proc/net inet writes (vfs's procfs.c has them in this order) */
enum {
    SOCK_TABLE_DEV,
    SOCK_TABLE_ROUTE,
    SOCK_TABLE_TCP,
    SOCK_TABLE_UDP,
    SOCK_TABLE_RAW,
    SOCK_TABLE_TCP6,
    SOCK_TABLE_UDP6
};

struct sock_status {
    uint32_t flags;  /* SOCK_ST_* */
    uint32_t unread; /* FIONREAD: bytes, or the first datagram's length */
};

struct sock_status_table {
    struct sock_status entry[SOCK_MAX];
};

#endif
