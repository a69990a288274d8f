/*
 * inet's network interfaces over the NET protocol (docs/NET.md; docs/INET.md, "Interfaces"):
 * one lwIP netif per network driver the configuration names (netif_configure: manifest args
 * `nic=LABEL,... ip=A.B.C.D/P gw=A.B.C.D`). inet subscribes to each driver's announcement
 * (LABEL.net in ds) and initialises every instance it hears of: new grants (a grant names one
 * endpoint), NET_INIT lending the status mailbox and carrying the receive mode, the receive
 * buffers (PBUF_POOL pbufs, granted in place), then every frame the dead instance did not
 * confirm, in order. Frames lost on the receive side are left to TCP.
 *
 * Sending: linkoutput keeps a reference to the frame's pbuf (or a copy when the chain has more
 * than NET_PIECES_MAX pieces) in a FIFO of TX_SLOTS frames and hands it to the driver as grant
 * pieces; the pbuf is freed only when the driver's NET_ST_SENT item for its id arrives (lwIP's
 * TCP does not rewrite a segment whose pbuf is still referenced). Receiving: a NET_ST_RECEIVED
 * item hands the pbuf to lwIP and a fresh one is posted.
 *
 * Every request is a sendrec bounded by DRIVER_MS. A driver that does not answer in time, or
 * answers what the protocol does not allow (a reply of another type, a result that is neither 0
 * nor an error number, an impossible NET_INIT answer, a mailbox head out of range, an item for
 * an id it does not hold, a length outside a frame's), or sends inet anything but notifications,
 * is reported to rs (root_complain) and left until ds announces its successor (docs/INET.md,
 * "what counts as garbage"; tests/drivers/badnet breaks each rule).
 */
#include <samsara/ds.h>
#include <samsara/net.h>
#include <samsara/root.h>
#include "format/format.h"
#include "inet.h"
#include "netif.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include <stdlib.h>
#include "sys.h"

/* The grants of every driver's frames, buffers and mailbox: far more than lib/sys's 64. */
GRANT_TABLE(NETIF_GRANTS);

#define DRIVER_MS 500 /* a driver answers at once; a hung one is replaced within ~300 ms */
#define RX_ID 0x4000000000000000ull /* receive buffer ids: RX_ID + slot; frames count from 1 */
#define MODE NET_MODE_BROADCAST     /* our MAC and broadcast (ARP): all lwIP needs */
#define ERRNO_MAX 4095              /* a result below -ERRNO_MAX is no error number */

enum { TX_FREE, TX_WAITING, TX_POSTED };

static struct nic nics[NIC_MAX];
static int nr_nics;
static ip4_addr_t conf_ip, conf_mask, conf_gw;
static int refill_wanted; /* a receive buffer could not be allocated: poll until it can */

/* The interface whose driver is `label` (for the self-test), or 0. */
struct nic *nic_find(const char *label)
{
    for (int i = 0; i < nr_nics; i++)
        if (!strcmp(nics[i].label, label))
            return &nics[i];
    return 0;
}

static void free_grants(grant_id_t *g)
{
    for (int i = 0; i < NET_PIECES_MAX; i++) {
        grant_free(g[i]);
        g[i] = -1;
    }
}

/* Grant the pbufs of chain p to the driver as pieces of f: the count, or 0 (no grant left). */
static uint32_t grant_pieces(struct nic *n, struct pbuf *p, uint32_t access, grant_id_t *g,
                             struct msg_net_frame *f)
{
    uint32_t count = 0;
    for (struct pbuf *q = p; q && count < NET_PIECES_MAX; q = q->next) {
        if (!q->len)
            continue;
        g[count] = grant_alloc(n->drv, q->payload, q->len, access);
        if (g[count] < 0) {
            free_grants(g);
            return 0;
        }
        f->piece[count] = (struct net_piece){g[count], 0, q->len};
        count++;
    }
    f->count = count;
    return count;
}

/* The driver broke the protocol or stopped answering: rs hears of it; we wait for the next. */
static void complain(struct nic *n, const char *why)
{
    printf("inet: %s: %s; reported to rs\n", n->label, why);
    n->complaints++;
    n->drv = 0;
    root_complain(n->label, 1000);
}

/* One request to the driver: its result (0 or negative), or a negative IPC error. */
static int call(struct nic *n, message_t *m)
{
    int r = ipc_sendrec_bounded(n->drv, m, DRIVER_MS);
    if (r == -E_TIMEDOUT) {
        complain(n, "no answer in time");
        return r;
    }
    if (r == -E_DEADEP || r == -E_SRCH) { /* dead: its successor will be announced */
        n->drv = 0;
        return r;
    }
    if (r < 0) { /* E_DEADLK: it was sending to us, which the protocol never does */
        complain(n, "an IPC error other than death");
        return r;
    }
    int64_t result = m->u.net.reply.result;
    if (m->type != NET_REPLY || result > 0 || result < -ERRNO_MAX) {
        complain(n, "a reply outside the protocol");
        return -E_INVAL;
    }
    if (result == -E_SRCH) /* it does not know us as its client (a new instance): again */
        n->need_init = 1;
    return (int)result;
}

/* Give back the oldest slots that are done. */
static void tx_reclaim(struct nic *n)
{
    while (n->tx_head != n->tx_tail && n->tx[n->tx_head % TX_SLOTS].state == TX_FREE)
        n->tx_head++;
    if (n->tx_post < n->tx_head)
        n->tx_post = n->tx_head;
}

/* Hand waiting frames to the driver, oldest first, while it has room. */
static void post_frames(struct nic *n)
{
    for (; n->tx_post != n->tx_tail && n->drv && !n->need_init; n->tx_post++) {
        struct tx_slot *s = &n->tx[n->tx_post % TX_SLOTS];
        if (s->state != TX_WAITING)
            continue;
        if (n->in_flight >= n->send_max)
            return;
        message_t m = {.type = NET_SEND, .u.net.frame.id = s->id};
        if (!grant_pieces(n, s->p, GRANT_READ, s->g, &m.u.net.frame))
            return; /* no grant free: the next completion frees some */
        int r = call(n, &m);
        if (r == 0) {
            s->state = TX_POSTED;
            n->in_flight++;
            continue;
        }
        free_grants(s->g);
        if (r != -E_INVAL || !n->drv)
            return; /* full, or the driver is gone (or reported): the frame waits */
        printf("inet: %s refused frame %lu (%u bytes)\n", n->label, s->id, s->p->tot_len);
        pbuf_free(s->p);
        s->state = TX_FREE;
        tx_reclaim(n);
    }
}

_Static_assert(PBUF_POOL_BUFSIZE >= NET_FRAME_MAX, "a receive buffer is one PBUF_POOL pbuf");

/* Receive slot s has a buffer (a pbuf kept across posts), allocated now if it had none: 1, or 0
 * when lwIP's pool is empty (tried again next turn). */
static int slot_buffer(struct rx_slot *s)
{
    if (!s->p && !(s->p = pbuf_alloc(PBUF_RAW, NET_FRAME_MAX, PBUF_POOL)))
        refill_wanted = 1;
    return s->p != 0;
}

/*
 * Post up to NET_RECVV_MAX slots that have no buffer with the driver (one pbuf each, granted
 * whole) in one NET_RECVV: 1 if all went, 0 if not (the driver is full, gone, or refused).
 */
static int post_batch(struct nic *n)
{
    message_t m = {.type = NET_RECVV, .u.net.recvv = {.id = RX_ID, .len = NET_FRAME_MAX}};
    struct msg_net_recvv *q = &m.u.net.recvv;
    for (uint32_t i = 0;
         i < RX_SLOTS && q->count < NET_RECVV_MAX && n->posted_rx + q->count < n->recv_max; i++) {
        struct rx_slot *s = &n->rx[i];
        if (s->posted)
            continue;
        if (!slot_buffer(s))
            break;
        if ((s->g[0] = grant_alloc(n->drv, s->p->payload, NET_FRAME_MAX, GRANT_WRITE)) < 0)
            break;
        q->grant[q->count] = s->g[0];
        q->slot[q->count++] = (uint8_t)i;
    }
    uint32_t count = q->count;
    if (!count)
        return 0;
    uint8_t slot[NET_RECVV_MAX];
    memcpy(slot, q->slot, sizeof(slot));
    int r = call(n, &m); /* the reply overwrites m */
    for (uint32_t k = 0; k < count; k++) {
        struct rx_slot *s = &n->rx[slot[k]];
        if (r == 0) {
            s->posted = 1;
            n->posted_rx++;
        } else {
            free_grants(s->g);
        }
    }
    return r == 0 && count == NET_RECVV_MAX;
}

/* Post every receive slot that has no buffer with the driver. */
static void post_buffers(struct nic *n)
{
    if (n->flags & NET_F_RECVV) { /* a whole batch at a time, unless the driver runs low */
        while (n->drv && !n->need_init && n->posted_rx < n->recv_max &&
               (n->recv_max - n->posted_rx >= NET_RECVV_MAX || n->posted_rx < n->recv_max / 2) &&
               post_batch(n))
            ;
        return;
    }
    for (uint32_t i = 0; i < RX_SLOTS && n->posted_rx < n->recv_max && n->drv && !n->need_init;
         i++) {
        struct rx_slot *s = &n->rx[i];
        if (s->posted)
            continue;
        if (!slot_buffer(s))
            return;
        message_t m = {.type = NET_RECV, .u.net.frame.id = RX_ID + i};
        if (!grant_pieces(n, s->p, GRANT_WRITE, s->g, &m.u.net.frame))
            return;
        int r = call(n, &m);
        if (r != 0) {
            free_grants(s->g);
            return;
        }
        s->posted = 1;
        n->posted_rx++;
    }
}

/*
 * A pure TCP acknowledgement (IPv4, no IP or TCP options, no payload, only the ACK flag) in one
 * pbuf: its headers (Ethernet, IP, TCP), or 0.
 */
static const uint8_t *pure_ack(const struct pbuf *p)
{
    const uint8_t *f = p->payload;
    if (p->len != p->tot_len || p->len < 54 || f[12] != 0x08 || f[13] != 0x00 || f[14] != 0x45 ||
        f[23] != 6 || (f[16] << 8 | f[17]) != 40 || (f[20] & 0x3f) || f[21] || f[46] != 0x50 ||
        f[47] != 0x10)
        return 0;
    return f;
}

/*
 * While inet takes a batch of received frames (take_items), the frames lwIP sends wait and go
 * to the driver at the end of the batch, and an acknowledgement that a later one of the same
 * connection supersedes (a higher acknowledgement number) is dropped: one ACK per connection
 * per batch instead of one per two segments (each ACK costs the driver a copy, a kick of the
 * device and a completion). Duplicate ACKs (the same number) and ACKs with options (SACK) stay.
 */
static int batching;

static int supersedes(const struct pbuf *newer, const struct pbuf *older)
{
    const uint8_t *a = pure_ack(newer), *b = pure_ack(older);
    if (!a || !b || memcmp(a, b, 12) || memcmp(a + 26, b + 26, 12)) /* MACs; IPs and ports */
        return 0;
    uint32_t ack_a = (uint32_t)a[42] << 24 | a[43] << 16 | a[44] << 8 | a[45];
    uint32_t ack_b = (uint32_t)b[42] << 24 | b[43] << 16 | b[44] << 8 | b[45];
    return (int32_t)(ack_a - ack_b) > 0;
}

static err_t linkoutput(struct netif *netif, struct pbuf *p)
{
    struct nic *n = netif->state;
    if (batching && n->tx_tail != n->tx_post) {
        struct tx_slot *last = &n->tx[(n->tx_tail - 1) % TX_SLOTS];
        if (last->state == TX_WAITING && supersedes(p, last->p)) {
            pbuf_free(last->p); /* the same slot and id carry the newer ACK */
            pbuf_ref(p);
            last->p = p;
            n->acks_merged++;
            return ERR_OK;
        }
    }
    if (n->tx_tail - n->tx_head >= TX_SLOTS) {
        n->tx_dropped++; /* TCP sends it again */
        return ERR_MEM;
    }
    int pieces = 0;
    for (struct pbuf *q = p; q; q = q->next)
        pieces += q->len != 0;
    struct pbuf *f = p;
    if (pieces > NET_PIECES_MAX)
        f = pbuf_clone(PBUF_RAW, PBUF_RAM, p);
    else
        pbuf_ref(p);
    if (!f)
        return ERR_MEM;
    struct tx_slot *s = &n->tx[n->tx_tail++ % TX_SLOTS];
    *s = (struct tx_slot){.p = f, .id = n->tx_tail, .state = TX_WAITING, .g = {-1, -1, -1}};
    if (!batching)
        post_frames(n);
    return ERR_OK;
}

static err_t nic_netif_init(struct netif *netif)
{
    netif->name[0] = 'e';
    netif->name[1] = 'n';
    netif->mtu = NET_FRAME_MAX - 14;
    netif->hwaddr_len = NET_ADDR_LEN;
    netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    netif->output = etharp_output;
    netif->linkoutput = linkoutput;
    return ERR_OK;
}

static void set_link(struct nic *n, uint64_t link)
{
    if (link == NET_LINK_UP)
        netif_set_link_up(&n->netif);
    else
        netif_set_link_down(&n->netif);
}

/*
 * A new driver instance (n->drv): new grants for the mailbox, the receive buffers and the
 * frames it must send again; NET_INIT; the netif made on the first one; then buffers and
 * frames posted.
 */
static void nic_init(struct nic *n)
{
    n->need_init = 0;
    n->gen++;
    grant_free(n->box_grant);
    for (int i = 0; i < RX_SLOTS; i++) {
        free_grants(n->rx[i].g);
        n->rx[i].posted = 0;
    }
    n->posted_rx = n->in_flight = 0;
    for (uint64_t i = n->tx_head; i != n->tx_tail; i++) {
        struct tx_slot *s = &n->tx[i % TX_SLOTS];
        if (s->state == TX_POSTED) {
            free_grants(s->g);
            s->state = TX_WAITING;
            n->resent++;
        }
    }
    n->tx_post = n->tx_head;
    memset(&n->box, 0, sizeof(n->box));
    n->box_grant = grant_alloc(n->drv, &n->box, sizeof(n->box), GRANT_READ | GRANT_WRITE);
    if (n->box_grant < 0) {
        printf("inet: %s: no grant for the mailbox\n", n->label);
        n->drv = 0;
        return;
    }
    message_t m = {.type = NET_INIT, .u.net.init = {n->box_grant, sizeof(n->box), MODE}};
    int r = call(n, &m);
    if (r < 0) {
        if (n->drv)
            printf("inet: %s: NET_INIT: %s\n", n->label, strerror_s(-r));
        n->drv = 0;
        return;
    }
    struct msg_net_init_reply *a = &m.u.net.init_reply;
    if (!a->send_max || !a->recv_max || a->mtu < 576 || a->mtu > NET_FRAME_MAX - 14 ||
        a->link > NET_LINK_UP || (a->mac[0] & 1)) {
        complain(n, "an impossible NET_INIT answer");
        return;
    }
    n->send_max = a->send_max < TX_IN_FLIGHT ? a->send_max : TX_IN_FLIGHT;
    n->recv_max = a->recv_max < RX_SLOTS ? a->recv_max : RX_SLOTS;
    n->flags = a->flags;
    n->inits++;
    if (!n->added) {
        memcpy(n->netif.hwaddr, a->mac, NET_ADDR_LEN);
        if (!netif_add(&n->netif, &conf_ip, &conf_mask, &conf_gw, n, nic_netif_init,
                       ethernet_input)) {
            printf("inet: %s: netif_add failed\n", n->label);
            n->drv = 0;
            return;
        }
        n->added = 1;
        if (!netif_default || netif_default == netif_find("lo0")) /* the first one up */
            netif_set_default(&n->netif);
        netif_set_up(&n->netif);
        printf("inet: %s up as %c%c%u: %02x:%02x:%02x:%02x:%02x:%02x, %s\n", n->label,
               n->netif.name[0], n->netif.name[1], n->netif.num, a->mac[0], a->mac[1], a->mac[2],
               a->mac[3], a->mac[4], a->mac[5], ip4addr_ntoa(&conf_ip));
    } else {
        memcpy(n->netif.hwaddr, a->mac, NET_ADDR_LEN); /* the same card: the same MAC */
    }
    n->netif.mtu = (u16_t)a->mtu;
    set_link(n, a->link);
    post_buffers(n);
    post_frames(n);
}

/* A received frame: to lwIP, and the slot refilled. 0, or why the item is garbage. */
static const char *received(struct nic *n, uint64_t id, int64_t value)
{
    if (id < RX_ID || id - RX_ID >= RX_SLOTS || !n->rx[id - RX_ID].posted)
        return "a receive item for no buffer it holds";
    struct rx_slot *s = &n->rx[id - RX_ID];
    if (value > NET_FRAME_MAX || (value >= 0 && value < NET_FRAME_MIN))
        return "a received length no frame has";
    if (value < -ERRNO_MAX)
        return "a receive error that is no error number";
    free_grants(s->g);
    s->posted = 0;
    n->posted_rx--;
    if (value < 0) { /* nothing arrived in it: post it again */
        n->rx_errors++;
        return 0;
    }
    struct pbuf *p = s->p;
    s->p = 0;
    pbuf_realloc(p, (u16_t)value);
    n->received++;
    if (n->netif.input(p, &n->netif) != ERR_OK)
        pbuf_free(p);
    return 0;
}

/* A frame confirmed: its pbuf and grants go. 0, or why the item is garbage. */
static const char *sent(struct nic *n, uint64_t id, int64_t value)
{
    struct tx_slot *s = &n->tx[(id - 1) % TX_SLOTS];
    if (value > 0 || value < -ERRNO_MAX)
        return "a send result that is neither 0 nor an error number";
    if (id - 1 - n->tx_head < n->tx_tail - n->tx_head && s->state == TX_POSTED) {
        free_grants(s->g);
        pbuf_free(s->p);
        s->p = 0;
        s->state = TX_FREE;
        n->in_flight--;
        n->sent++;
        n->tx_errors += value < 0;
        tx_reclaim(n);
        return 0;
    }
    return "a sent item for no frame in flight";
}

/* Take the items the driver wrote; notify it if the box was full. */
static void take_items(struct nic *n)
{
    endpoint_t drv = n->drv;
    uint64_t gen = n->gen, tail = n->box.tail;
    uint64_t head = *(volatile uint64_t *)&n->box.head;
    __asm__ volatile("" ::: "memory"); /* the items after head */
    if (head - tail > NET_MAILBOX_ITEMS) {
        complain(n, "a mailbox head out of range");
        return;
    }
    int was_full = head - tail == NET_MAILBOX_ITEMS;
    batching = 1;
    while (tail != head && n->drv == drv && n->gen == gen) {
        struct net_status_item it = n->box.item[tail % NET_MAILBOX_ITEMS];
        n->box.tail = ++tail;
        const char *bad = 0;
        if (it.kind == NET_ST_SENT)
            bad = sent(n, it.id, it.value);
        else if (it.kind == NET_ST_RECEIVED)
            bad = received(n, it.id, it.value);
        else if (it.kind == NET_ST_LINK && it.id == 0 && (uint64_t)it.value <= NET_LINK_UP)
            set_link(n, (uint64_t)it.value);
        else
            bad = "an item of no kind";
        if (bad) {
            batching = 0;
            complain(n, bad);
            post_frames(n); /* nothing goes while n->drv is 0: they wait for its successor */
            return;
        }
    }
    batching = 0;
    if (n->drv != drv || n->gen != gen) {
        post_frames(n);
        return;
    }
    if (was_full)
        ipc_notify(drv);
    post_buffers(n);
    post_frames(n);
}

/*
 * An announcement naming another endpoint than the label's owner is a lie, or the last words of
 * an instance killed since: rs has started its successor, which has not announced itself yet (a
 * kill in a start-up, tools/drvkill.py, met this 4 times in 300). Blaming the label then kills the
 * innocent successor, so the announcement is looked at again FOREIGN_GRACE_MS later (an lwIP
 * timeout), and again while the owner changes (kills in a row, each in a start-up): an owner that
 * had the whole grace to announce itself and left a foreign endpoint there is reported.
 */
#define FOREIGN_GRACE_MS 1000
enum { FOREIGN_WAIT = 1, FOREIGN_AGAIN };
static void announcements(void);

static void foreign_again(void *arg)
{
    struct nic *n = arg;
    n->foreign = FOREIGN_AGAIN;
    n->announced = 0; /* the same key is looked at again */
    announcements();
    if (n->foreign == FOREIGN_AGAIN)
        n->foreign = 0; /* the key went away meanwhile: the next announcement has its own grace */
}

/* An announcement not of owner, the label's: 1 if it is to be reported now, 0 to look again. */
static int foreign_reported(struct nic *n, endpoint_t owner)
{
    if (n->foreign == FOREIGN_AGAIN && owner == n->foreign_owner) {
        n->foreign = 0;
        return 1; /* the same owner for the whole grace */
    }
    n->announced = n->drv = 0; /* looked at again: at the successor's or in a moment */
    if (n->foreign == FOREIGN_WAIT && owner != n->foreign_owner)
        sys_untimeout(foreign_again, n); /* a new owner: its whole grace from now */
    if (n->foreign != FOREIGN_WAIT || owner != n->foreign_owner)
        sys_timeout(FOREIGN_GRACE_MS, foreign_again, n);
    n->foreign = FOREIGN_WAIT;
    n->foreign_owner = owner;
    return 0;
}

/* ds said something changed: initialise every new driver instance announced. */
static void announcements(void)
{
    char key[DS_KEY_MAX];
    while (ds_check(key, sizeof(key)) > 0)
        ;
    for (int i = 0; i < nr_nics; i++) {
        struct nic *n = &nics[i];
        uint64_t ep;
        if (ds_retrieve_u64(n->key, &ep) < 0 || (endpoint_t)ep <= 0 ||
            (endpoint_t)ep == n->announced)
            continue;
        n->announced = n->drv = (endpoint_t)ep;
        /* ds lets only the label's owner write LABEL.net, but not only its own endpoint:
         * an announcement naming another process (another NIC's driver, a server) is the
         * driver's fault, and that process never hears NET_INIT from us. */
        endpoint_t owner = root_lookup(n->label);
        if (owner <= 0) { /* it died at once: its successor will be announced */
            n->drv = 0;
            continue;
        }
        if (owner != (endpoint_t)ep) {
            char why[64];
            snprintf_s(why, sizeof(why), "announced endpoint %d, not its own (%d)", (int)ep,
                       (int)owner);
            if (foreign_reported(n, owner))
                complain(n, why);
            continue;
        }
        if (n->foreign == FOREIGN_WAIT)
            sys_untimeout(foreign_again, n);
        n->foreign = 0;
        nic_init(n);
    }
}

int netif_message(const message_t *m)
{
    if (m->source == SYSTEM)
        return 0;
    if (m->type == MSG_NOTIFY && m->source == ds_endpoint()) {
        announcements();
        return 1;
    }
    for (int i = 0; i < nr_nics; i++) {
        struct nic *n = &nics[i];
        if (m->source != n->announced)
            continue;
        if (m->source != n->drv) /* an instance we reported, or one not initialised yet */
            return 1;
        if (m->type == MSG_NOTIFY)
            take_items(n);
        else /* a driver only answers and notifies: a reply nobody asked for, or a request */
            complain(n, "a message that is no answer");
        return 1;
    }
    if (m->type == MSG_NOTIFY && ds_notifier(m->source)) { /* from a restarted ds (asks rs) */
        announcements();
        return 1;
    }
    return 0;
}

int netif_pending(void)
{
    return refill_wanted;
}

void netif_work(void)
{
    refill_wanted = 0;
    for (int i = 0; i < nr_nics; i++) {
        struct nic *n = &nics[i];
        if (n->drv && n->need_init)
            nic_init(n);
        else if (n->drv)
            post_buffers(n);
    }
}

/* A configuration word (netif_configure's)? */
static int conf_word(const char *w, size_t len)
{
    return (len > 4 && !strncmp(w, "nic=", 4)) || (len > 3 && !strncmp(w, "ip=", 3)) ||
           (len > 3 && !strncmp(w, "gw=", 3));
}

const char *netif_other_words(const char *args, char *buf, size_t size)
{
    size_t out = 0;
    while (*args) {
        size_t len = 0;
        while (args[len] && args[len] != ' ')
            len++;
        if (len && !conf_word(args, len) && out + len + 1 < size) {
            if (out)
                buf[out++] = ' ';
            memcpy(buf + out, args, len);
            out += len;
        }
        args += len + (args[len] == ' ');
    }
    buf[out] = 0;
    return buf;
}

/* "A.B.C.D" (and "/P" when prefix is wanted) into *a (and *mask): 0, or -1. */
static int parse_ip(const char *s, size_t len, ip4_addr_t *a, ip4_addr_t *mask)
{
    char buf[20];
    if (len >= sizeof(buf))
        return -1;
    memcpy(buf, s, len);
    buf[len] = 0;
    char *slash = 0;
    for (char *c = buf; *c; c++)
        if (*c == '/')
            slash = c;
    if (!slash != !mask)
        return -1;
    if (slash) {
        *slash = 0;
        int bits = atoi(slash + 1);
        if (bits < 1 || bits > 32 || slash[1] < '0' || slash[1] > '9')
            return -1;
        ip4_addr_set_u32(mask, lwip_htonl(0xffffffffu << (32 - bits)));
    }
    return ip4addr_aton(buf, a) ? 0 : -1;
}

/* The labels of "a,b,c" (len bytes) as interfaces: 0, or -1. */
static int parse_nics(const char *s, size_t len)
{
    for (size_t i = 0; i < len;) {
        size_t j = i;
        while (j < len && s[j] != ',')
            j++;
        if (j == i || j - i >= sizeof(nics[0].label) || nr_nics == NIC_MAX)
            return -1;
        struct nic *n = &nics[nr_nics++];
        memcpy(n->label, s + i, j - i);
        memcpy(n->key, s + i, j - i);
        memcpy(n->key + (j - i), ".net", 5);
        n->box_grant = -1;
        for (int k = 0; k < RX_SLOTS; k++)
            n->rx[k].g[0] = n->rx[k].g[1] = n->rx[k].g[2] = -1;
        i = j + 1;
    }
    return 0;
}

int netif_configure(const char *args)
{
    int have_ip = 0, have_gw = 0;
    while (*args) {
        while (*args == ' ')
            args++;
        size_t len = 0;
        while (args[len] && args[len] != ' ')
            len++;
        const char *word = args;
        args += len;
        int bad = 0;
        if (len > 4 && !strncmp(word, "nic=", 4))
            bad = parse_nics(word + 4, len - 4);
        else if (len > 3 && !strncmp(word, "ip=", 3))
            bad = parse_ip(word + 3, len - 3, &conf_ip, &conf_mask), have_ip = !bad;
        else if (len > 3 && !strncmp(word, "gw=", 3))
            bad = parse_ip(word + 3, len - 3, &conf_gw, 0), have_gw = !bad;
        if (bad) {
            printf("inet: bad configuration word '%.*s'\n", (int)len, word);
            return -E_INVAL;
        }
    }
    if (nr_nics && (!have_ip || !have_gw)) {
        printf("inet: interfaces need ip=A.B.C.D/P and gw=A.B.C.D\n");
        nr_nics = 0;
        return -E_INVAL;
    }
    return nr_nics;
}

int netif_start(void)
{
    for (int i = 0; i < nr_nics; i++) {
        int r = ds_subscribe(nics[i].key, DS_INITIAL);
        if (r < 0) {
            printf("inet: cannot subscribe to %s: %s\n", nics[i].key, strerror_s(-r));
            return r;
        }
    }
    if (nr_nics)
        announcements();
    return 0;
}
