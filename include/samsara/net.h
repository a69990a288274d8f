/*
 * Protocol between the network server (inet) and network drivers: the NET
 * range of samsara/msgtypes.h, bodies in samsara/msg/net.h (m.u.net.NAME).
 * docs/NET.md explains the design; this is the reference.
 *
 * inet sends every request with a bounded sendrec; the driver answers at
 * once with sendnb (type NET_REPLY, result first: 0 or a negative
 * samsara/errno.h code), and never blocks on inet. What finishes later (a
 * frame transmitted, a receive buffer filled, the link going up or down)
 * the driver writes into the status mailbox inet lent it with NET_INIT
 * (struct net_mailbox, below), then notifies inet. Frames travel through
 * grants inet makes to the driver's endpoint; the driver copies them with
 * KC_SAFECOPY_VEC to and from DMA buffers of its own.
 *
 * NET_INIT  init: the mailbox grant (read and write) and its size, the
 *           receive mode (NET_MODE_*). The driver forgets every send and
 *           receive buffer of an earlier client or NET_INIT (no status for
 *           them), takes the sender as its client, and replies init_reply:
 *           MAC address, link state, how many sends and receive buffers it
 *           keeps at most. Every other request is refused with E_SRCH
 *           unless its sender made the last successful NET_INIT (before
 *           that the driver ignores requests: nothing is done).
 * NET_SEND  frame: inet's id and up to NET_PIECES_MAX pieces (grant with
 *           read access, offset, length) that together make one Ethernet
 *           frame (destination MAC first, no CRC), NET_FRAME_MIN..NET_FRAME_MAX
 *           bytes. Reply: 0 (taken: a NET_ST_SENT item follows once the
 *           device has sent it or failed), E_AGAIN (send_max frames are in
 *           flight already), E_INVAL (bad length or pieces).
 * NET_RECV  frame: inet's id and up to NET_PIECES_MAX pieces (grants with
 *           write access) at least NET_FRAME_MAX bytes in all: a buffer for
 *           one received frame. Reply: 0 (kept: a NET_ST_RECEIVED item
 *           follows when a frame was copied in), E_AGAIN (recv_max buffers
 *           are kept already), E_INVAL.
 * NET_RECVV recvv: up to NET_RECVV_MAX receive buffers in one request, each
 *           one whole grant [0, len) with write access, len at least
 *           NET_FRAME_MAX; buffer i's id is id + slot[i]. Only for a driver
 *           whose init_reply has NET_F_RECVV. Reply: 0 (all kept: one
 *           NET_ST_RECEIVED item per buffer follows, as for NET_RECV),
 *           E_AGAIN (not room for all: none kept), E_INVAL (none kept).
 * NET_MODE  mode: NET_MODE_* bits. Reply: result 0 or E_INVAL.
 * NET_STAT  (no body). Reply stat_reply: the driver's counters.
 *
 * The driver's id for a request is inet's: inet keeps every frame it sent
 * until the NET_ST_SENT item for its id comes, and sends it again to a
 * restarted driver (docs/NET.md, "Recovery").
 */
#ifndef SAMSARA_NET_H
#define SAMSARA_NET_H

#include <stdint.h>
#include <samsara/msgtypes.h>

#define NET_INIT (NET_RQ_BASE + 0x01)
#define NET_SEND (NET_RQ_BASE + 0x02)
#define NET_RECV (NET_RQ_BASE + 0x03)
#define NET_MODE (NET_RQ_BASE + 0x04)
#define NET_STAT (NET_RQ_BASE + 0x05)
#define NET_RECVV (NET_RQ_BASE + 0x06)
#define NET_REPLY (NET_RQ_BASE + 0xff)
_Static_assert(IS_NET_RQ(NET_REPLY), "net types stay in the NET range");

#define NET_FRAME_MIN 14   /* an Ethernet header */
#define NET_FRAME_MAX 1514 /* header and 1500 bytes of payload, no CRC */
#define NET_PIECES_MAX 3   /* pieces of one frame in a NET_SEND or NET_RECV */
#define NET_ADDR_LEN 6     /* a MAC address */
#define NET_RECVV_MAX 8    /* receive buffers in one NET_RECVV */

/* init_reply.flags: what the driver understands besides the basic requests. */
#define NET_F_RECVV 0x1 /* NET_RECVV */

/* Receive modes (NET_INIT, NET_MODE): which frames besides those to our MAC. */
#define NET_MODE_BROADCAST 0x1 /* ff:ff:ff:ff:ff:ff */
#define NET_MODE_MULTICAST 0x2 /* every multicast address */
#define NET_MODE_PROMISC 0x4   /* everything on the wire */
#define NET_MODE_ALL (NET_MODE_BROADCAST | NET_MODE_MULTICAST | NET_MODE_PROMISC)

/* Link states (init_reply.link, NET_ST_LINK items). */
#define NET_LINK_DOWN 0
#define NET_LINK_UP 1

/*
 * The status mailbox: lives in inet's memory; inet lends it with NET_INIT
 * (a grant with read and write access to the whole struct). The driver
 * writes an item at head % NET_MAILBOX_ITEMS, then moves head (one vector
 * copy: items first, head last); inet takes items from tail and moves tail,
 * and notifies the driver when it took items out of a full box (the driver
 * keeps what does not fit, and writes it then). Each side trusts only its
 * own counter: the other's is read, checked and bounded. No item is ever
 * dropped: the driver accepts a request only while it can keep its item.
 */
#define NET_MAILBOX_ITEMS 64

enum net_status_kind {
    NET_ST_NONE = 0,
    NET_ST_SENT,     /* id: the NET_SEND's; value: 0, or a negative error (not sent) */
    NET_ST_RECEIVED, /* id: the NET_RECV's; value: the frame's length, or a negative error */
    NET_ST_LINK,     /* id: 0; value: NET_LINK_UP or NET_LINK_DOWN */
};

struct net_status_item {
    uint64_t kind; /* NET_ST_* */
    uint64_t id;
    int64_t value;
};

struct net_mailbox {
    uint64_t head; /* items ever written: the driver's */
    uint64_t tail; /* items ever taken: inet's */
    struct net_status_item item[NET_MAILBOX_ITEMS];
};

/* The driver's counters (NET_STAT): since it started; a restarted driver starts at 0. */
struct net_stats {
    uint64_t sent, received; /* frames */
    uint64_t send_errors;    /* NET_ST_SENT items with an error */
    uint64_t dropped;        /* frames the device got while inet had no buffer */
    uint64_t refused;        /* requests refused: a sender that is no client */
};

#endif
