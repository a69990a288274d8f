/*
 * inet's network interfaces over the NET protocol (netif.c; docs/INET.md, "Interfaces"): one
 * lwIP netif per network driver named by the configuration, its driver found through ds and
 * re-initialised at every restart. main.c calls the hooks; the self-test reads struct nic.
 */
#ifndef INET_NETIF_H
#define INET_NETIF_H

#include <samsara/ds.h>
#include <samsara/net.h>
#include "lwip/netif.h"
#include "sys.h"

#define NIC_MAX 4       /* drivers in the configuration */
#define TX_SLOTS 512    /* frames held per interface: in flight, or waiting for the driver */
#define TX_IN_FLIGHT 32 /* at most this many of them with the driver (its send_max may be less) */
#define RX_SLOTS 32     /* receive buffers per interface (the driver's recv_max may be less) */
/* inet's grant table: per interface the mailbox and up to NET_PIECES_MAX grants per frame in
 * flight and per receive buffer; the rest for ds and sockets. */
#define NETIF_GRANTS 1024
_Static_assert(NIC_MAX *(1 + NET_PIECES_MAX * (TX_IN_FLIGHT + RX_SLOTS)) <= NETIF_GRANTS - 128,
               "room in the grant table for every interface and 128 more");

struct tx_slot {
    struct pbuf *p; /* the frame, referenced until its NET_ST_SENT */
    uint64_t id;
    grant_id_t g[NET_PIECES_MAX];
    uint8_t state; /* TX_FREE, TX_WAITING, TX_POSTED (netif.c) */
};

struct rx_slot {
    struct pbuf *p; /* a PBUF_POOL buffer of NET_FRAME_MAX bytes, or 0 */
    grant_id_t g[NET_PIECES_MAX];
    int posted;
};

struct nic {
    char label[16];           /* the driver's */
    char key[DS_KEY_MAX];     /* its announcement: LABEL.net */
    endpoint_t announced;     /* the last instance ds announced */
    int foreign;              /* an announcement not of the owner: FOREIGN_WAIT, FOREIGN_AGAIN, 0 */
    endpoint_t foreign_owner; /* the label's owner when it was last seen */
    endpoint_t drv;           /* the instance we talk to; 0: none (dead, or reported) */
    int need_init, added;     /* NET_INIT again; the netif exists */
    uint64_t gen;             /* NET_INITs made (a mailbox loop stops when it changes) */
    struct netif netif;
    struct net_mailbox box; /* lent to the driver */
    grant_id_t box_grant;
    uint32_t send_max, recv_max, in_flight, posted_rx;
    uint32_t flags; /* the driver's NET_F_* (init_reply) */
    /* The FIFO of held frames: indices count up forever, slot tx[i % TX_SLOTS], frame id i + 1;
     * [tx_head, tx_tail) are held, and none before tx_post waits to be handed to the driver. */
    uint64_t tx_head, tx_post, tx_tail;
    struct tx_slot tx[TX_SLOTS];
    struct rx_slot rx[RX_SLOTS];
    uint64_t inits, resent, complaints; /* instances initialised, frames sent again */
    uint64_t sent, received, tx_errors, rx_errors, tx_dropped;
    uint64_t acks_merged; /* ACKs a later one of the same batch superseded (netif.c) */
};

/* The configuration words nic=LABEL[,LABEL...] ip=A.B.C.D/P gw=A.B.C.D (others are ignored):
 * the number of interfaces, or E_INVAL (logged). */
int netif_configure(const char *args);
const char *netif_other_words(const char *args, char *buf, size_t size); /* the rest, in buf */
int netif_start(void);                 /* subscribe to the drivers' announcements */
int netif_message(const message_t *m); /* 1 if m was a notification for the interfaces */
int netif_pending(void);               /* 1 if netif_work has something to retry at once */
void netif_work(void);                 /* once a turn: NET_INIT again, refill receive buffers */
struct nic *nic_find(const char *label);

/* The self-test over a network driver (argument "selftest net ..."): the failures. */
int netif_selftest(const char *args);
/* The self-test over the hostile driver (argument "selftest badnet ...", netif_badtest.c). */
int netif_badtest(const char *args);

#endif
