/*
 * Message bodies of the NET protocol: inet and network drivers
 * (samsara/net.h has the types and what each request does). One struct per
 * request and per reply that carries more than a result; each is a member
 * of union msg_net, reached as m.u.net.NAME. Every reply has type NET_REPLY
 * and starts with `int64_t result` (0 or a negative samsara/errno.h code).
 */
#ifndef SAMSARA_MSG_NET_H
#define SAMSARA_MSG_NET_H

#include <stdint.h>
#include <samsara/msg/reply.h>
#include <samsara/net.h>

struct msg_net_init { /* NET_INIT */
    int64_t grant;    /* read and write access to a struct net_mailbox */
    uint64_t size;    /* of the grant: at least sizeof(struct net_mailbox) */
    uint64_t mode;    /* NET_MODE_* */
};

struct msg_net_init_reply {
    int64_t result;
    uint8_t mac[NET_ADDR_LEN];
    uint16_t link;     /* NET_LINK_* */
    uint32_t send_max; /* NET_SEND frames the driver keeps in flight at most */
    uint32_t recv_max; /* NET_RECV buffers it keeps at most */
    uint32_t mtu;      /* payload bytes of a frame: 1500 */
    uint32_t flags;    /* NET_F_*: 0 from a driver that knows only the basic requests */
};

/* One piece of a frame: [offset, offset+len) of grant `grant`. */
struct net_piece {
    int32_t grant;
    uint32_t offset;
    uint32_t len;
};

struct msg_net_frame { /* NET_SEND (read access), NET_RECV (write access) */
    uint64_t id;       /* inet's: the status item names it */
    uint32_t count;    /* pieces used, 1..NET_PIECES_MAX */
    uint32_t unused;
    struct net_piece piece[NET_PIECES_MAX];
};

struct msg_net_recvv {            /* NET_RECVV: several receive buffers at once */
    uint64_t id;                  /* buffer i's id: id + slot[i] */
    uint32_t count;               /* buffers, 1..NET_RECVV_MAX */
    uint32_t len;                 /* each buffer's length: at least NET_FRAME_MAX */
    int32_t grant[NET_RECVV_MAX]; /* buffer i: [0, len) of grant[i], write access */
    uint8_t slot[NET_RECVV_MAX];
};

struct msg_net_mode { /* NET_MODE */
    uint64_t mode;    /* NET_MODE_* */
};

struct msg_net_stat_reply { /* NET_STAT's reply */
    int64_t result;
    uint64_t sent, received, send_errors, dropped, refused; /* struct net_stats */
};

union msg_net {
    struct msg_reply reply;
    struct msg_net_init init;
    struct msg_net_init_reply init_reply;
    struct msg_net_frame frame;
    struct msg_net_recvv recvv;
    struct msg_net_mode mode;
    struct msg_net_stat_reply stat_reply;
};
MSG_BODY_FITS(union msg_net);

#endif
