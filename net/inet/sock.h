/*
 * inet's sockets (docs/INET.md, "Sockets"): the SOCK protocol from vfs
 * (samsara/sock.h) served on lwIP's raw API. sock.c owns the table, the
 * requests that every type shares, the status table in vfs and the options;
 * sock_tcp.c and sock_udp.c put a TCP or UDP pcb behind a socket.
 *
 * No request waits: each is answered at once, -EAGAIN where Linux would
 * block, and the socket's entry in vfs's status table says when trying
 * again makes sense. Received data waits in the socket's queue of pbufs
 * until vfs asks for it; TCP's window opens only as it is read (tcp_recved),
 * so a slow reader holds back its sender, never inet's memory.
 */
#ifndef INET_SOCK_H
#define INET_SOCK_H

#include <stdint.h>
#include <samsara/ipc.h>
#include <samsara/linux.h>
#include <samsara/sock.h>
#include "lwip/ip_addr.h"
#include "lwip/pbuf.h"

/* Linux values */
#define AF_UNSPEC 0
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_IPV6 41
#define IPV6_V6ONLY 26
#define SOCKADDR_IN_BYTES 16  /* struct sockaddr_in */
#define SOCKADDR_IN6_BYTES 28 /* struct sockaddr_in6: family, port, flowinfo, addr, scope_id */
#define SIN6_LEN_MIN 24       /* Linux takes one without sin6_scope_id (RFC 2133's) */
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define SOCK_RAW 3
#define IPPROTO_IP 0
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define MSG_PEEK 0x2
#define MSG_TRUNC 0x20
#define SHUT_RD 0
#define SHUT_WR 1
#define SHUT_RDWR 2

#define SHUT_READ 1
#define SHUT_WRITE 2
#define RXQ_MAX 32 /* queued receive items per socket (a TCP item holds up to 64 KiB) */

enum isock_state { IS_NEW, IS_LISTENING, IS_CONNECTING, IS_CONNECTED, IS_CLOSED };

struct rx_item {
    struct pbuf *p;
    ip_addr_t from; /* datagrams: the source */
    uint16_t port;
};

struct isock {
    int in_use;
    int handed; /* vfs knows its id (a connection waiting for accept is not yet vfs's) */
    int type;   /* SOCK_STREAM or SOCK_DGRAM */
    int family; /* AF_INET or AF_INET6 */
    int v6only; /* IPV6_V6ONLY: an AF_INET6 socket that takes no IPv4 (v4-mapped) peers */
    enum isock_state state;
    struct tcp_pcb *tcp; /* 0 once lwIP freed it (reset, error) or we let it go */
    struct udp_pcb *udp;
    struct raw_pcb *raw; /* ICMP sockets (sock_icmp.c) */
    int protocol;        /* IPPROTO_TCP, IPPROTO_UDP or IPPROTO_ICMP */
    uint16_t ping_id;    /* a ping socket's echo identifier (its "port") */
    int bound;
    int error;        /* SO_ERROR (a Linux errno), reported once */
    int connect_done; /* a connection made that no connect() has reported yet */
    int shut;         /* SHUT_READ, SHUT_WRITE */
    int eof;          /* the peer sent its FIN (or the connection is gone) */
    struct rx_item rxq[RXQ_MAX];
    int rx_head, rx_count;
    uint32_t rx_off;   /* bytes of the first item already read */
    uint64_t rx_bytes; /* unread bytes in all items */
    int listener;      /* a connection not yet accepted: its listener's id; -1 */
    int backlog, pending;
    uint64_t order; /* a connection not yet accepted: when it came */
    /* options */
    int reuseaddr, keepalive, nodelay;
    uint32_t rcvbuf, sndbuf;
    struct sock_status shown; /* what vfs's table says */
};

/* sock.c */
extern uint8_t sock_bounce[65536];
struct isock *isock_new(int type, int family);
void isock_free(struct isock *s);
int isock_id(const struct isock *s);
struct isock *isock_by_id(int id);
int sock_copy_from(int64_t grant, uint64_t off, void *buf, uint64_t len);
int sock_copy_to(int64_t grant, uint64_t off, const void *buf, uint64_t len);
int sock_addr_in(const struct isock *s, const struct msg_sock_addr *a, ip_addr_t *ip,
                 uint16_t *port);
int sock_addr_parse(const struct isock *s, const uint8_t *bytes, uint32_t len, ip_addr_t *ip,
                    uint16_t *port);
void sock_addr_out(const struct isock *s, const ip_addr_t *ip, uint16_t port, uint8_t *out,
                   uint32_t *len);
const ip_addr_t *sock_any(const struct isock *s);
void sock_any_to_loopback(ip_addr_t *ip);
int sock_errno(int8_t lwip_err);
void rxq_push(struct isock *s, struct pbuf *p, const ip_addr_t *from, uint16_t port);
void rxq_pop(struct isock *s);
void rxq_clear(struct isock *s);

/* What each type does with a request; m is the request, answered with the result. */
struct isock_ops {
    int64_t (*create)(struct isock *s);
    int64_t (*bind)(struct isock *s, const ip_addr_t *ip, uint16_t port);
    int64_t (*connect)(struct isock *s, const struct msg_sock_addr *a);
    int64_t (*listen)(struct isock *s, int backlog);
    int64_t (*accept)(struct isock *s);
    int64_t (*send)(struct isock *s, const struct msg_sock_data *d);
    int64_t (*recv)(struct isock *s, const struct msg_sock_data *d, message_t *reply);
    int64_t (*shutdown)(struct isock *s, int how);
    int64_t (*name)(struct isock *s, int peer, ip_addr_t *ip, uint16_t *port);
    void (*option)(struct isock *s); /* apply reuseaddr, keepalive, nodelay to the pcb */
    uint32_t (*status)(struct isock *s, uint32_t *unread);
    void (*close)(struct isock *s);
};
extern const struct isock_ops tcp_sock_ops, udp_sock_ops, icmp_sock_ops;
/* sock_udp.c: what datagram sockets share (UDP and ICMP) */
int64_t dgram_listen(struct isock *s, int backlog);
int64_t dgram_accept(struct isock *s);
int64_t dgram_recv(struct isock *s, const struct msg_sock_data *d, message_t *reply);
int64_t dgram_shutdown(struct isock *s, int how);
uint32_t dgram_status(struct isock *s, uint32_t *unread);

/* netinfo.c: SOCK_IFREQ (q is answered in place) and SOCK_TABLE */
int64_t netinfo_ifreq(struct msg_sock_ifreq *q);
int64_t netinfo_table(const struct msg_sock_table *q);

/* The socket requests (m is answered here); 1 if m was one. */
int sock_request(const message_t *m);
/* Write the entries that changed into vfs's status table and notify vfs. */
void sock_flush(void);

#endif
