/*
 * libnetdriver: the message loop of a network driver (MINIX libnetdriver
 * style). A driver fills a struct netdriver with callbacks and calls
 * netdriver_task(), which never returns. The library speaks the NET
 * protocol of samsara/net.h with its client (inet; docs/NET.md):
 *
 *  - start-up: service_startup runs the driver's init callback, which
 *    resets the device in the safe order and starts it (fresh or after a
 *    crash: the same path); then the driver announces itself in ds
 *    (LABEL.net = its endpoint), which tells inet that a new instance is
 *    there to be initialised;
 *  - until a client's NET_INIT the library ignores requests (E_SRCH, nothing
 *    done); NET_INIT lends the status mailbox and gets the MAC and link;
 *  - NET_SEND and NET_RECV are answered at once (taken, or E_AGAIN when
 *    full) and kept in FIFO queues; the library hands them to the driver's
 *    send and receive callbacks when the driver has room or a frame
 *    (after every message: a request, an interrupt, an alarm), and writes
 *    their completions (NET_ST_SENT, NET_ST_RECEIVED, NET_ST_LINK) into the
 *    client's mailbox with one vector copy, then notifies the client once;
 *  - rs's heartbeat pings (the manifest's `heartbeat`) are answered by
 *    service_receive; HARDWARE notifications become interrupt(irqs) calls,
 *    SYSTEM alarms alarm(now) calls;
 *  - only the labels in `clients` may send requests (E_PERM otherwise,
 *    counted and logged); their notifications mean "the mailbox has room".
 *
 * The library never blocks on its client: replies go with sendnb, status
 * through the mailbox and a notification.
 */
#ifndef NETDRIVER_H
#define NETDRIVER_H

#include <samsara/net.h>
#include "sys.h"

#define NETDRIVER_SEND_MAX 16 /* NET_SEND frames accepted and not yet confirmed */
#define NETDRIVER_RECV_MAX 32 /* NET_RECV buffers kept */
#define NETDRIVER_BUSY 1      /* send: no room now; receive: no frame waiting */

/* One NET_SEND or NET_RECV as the callbacks see it. */
struct netdriver_frame {
    endpoint_t client; /* the granter of the pieces */
    uint64_t id;       /* the client's */
    uint32_t count;    /* pieces */
    struct net_piece piece[NET_PIECES_MAX];
    uint64_t len; /* the pieces' total: a send's frame length, a receive buffer's size */
};

/* What init tells the library. */
struct netdriver_info {
    uint8_t mac[NET_ADDR_LEN];
    int link; /* NET_LINK_* */
};

struct netdriver {
    const char *name; /* its label: log lines, and the announcement LABEL.net */
    /* The labels that may send requests, 0-terminated (at most CLIENT_SET_MAX); 0 means
     * {"inet", "nettest", 0}: the network server and the drivers' test client (a boot has
     * nettest only when a test runs it; the driver's manifest must name a client under ipc). */
    const char *const *clients;
    /* Reset the device in the safe order and start it (interrupts masked, receive and
     * transmit off, reset, wait, program the rings, bus mastering on): 0, or an error and
     * the driver exits (rs restarts it). Called once, at start. */
    int (*init)(struct netdriver_info *info);
    /* Copy the frame (netdriver_copy_from) into the device: 0 (netdriver_sent(id) follows),
     * NETDRIVER_BUSY (no room: asked again later), or a negative error for this frame. */
    int (*send)(const struct netdriver_frame *f);
    /* Copy one received frame into the buffer (netdriver_copy_to): its length,
     * NETDRIVER_BUSY (no frame waiting), or a negative error for this buffer. */
    int64_t (*receive)(const struct netdriver_frame *f);
    void (*interrupt)(uint32_t irqs); /* HARDWARE notification: acknowledge, note completions */
    void (*alarm)(uint64_t now);      /* SYSTEM alarm (0: none wanted) */
    int (*mode)(uint32_t mode);       /* NET_MODE_*: 0 or an error (0: every mode is accepted) */
};

_Noreturn void netdriver_task(const struct netdriver *driver);

#define NETDRIVER_MAIN(table) DRIVER_MAIN(netdriver_task, table) /* the driver's main() */

/* init's last line in the log: "NAME: MAC at WHERE, IRQ n, link up|down" (where: its registers). */
void netdriver_started(const struct netdriver_info *info, const char *where, int irq);

/* The device sent frame `id` (result 0) or failed to (a negative error). */
void netdriver_sent(uint64_t id, int64_t result);
/* The link went up or down (NET_LINK_*): the client hears of it. */
void netdriver_link(int state);
/* A frame arrived and was dropped (the device's ring was full, or it was malformed). */
void netdriver_dropped(uint64_t frames);

/* Copy a whole frame between the driver's buffer and the client's pieces, one vector copy:
 * the bytes copied, or a negative error. copy_from takes f->len bytes (buf holds them);
 * copy_to writes len <= f->len bytes. */
int64_t netdriver_copy_from(const struct netdriver_frame *f, void *buf);
int64_t netdriver_copy_to(const struct netdriver_frame *f, const void *buf, uint64_t len);
/* copy_to of a frame in two runs of the driver's memory (the end and the start of a receive ring
 * it wrapped around): alen bytes at a, then blen at b, alen + blen <= f->len; one vector copy. */
int64_t netdriver_copy_to2(const struct netdriver_frame *f, const void *a, uint64_t alen,
                           const void *b, uint64_t blen);

#endif
