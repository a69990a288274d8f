/*
 * libnetdriver's message loop: receive (service_receive answers rs's
 * heartbeats), check the sender, decode NET_* requests (samsara/net.h),
 * answer each at once with sendnb, keep sends and receive buffers in FIFO
 * queues, and after every message hand the driver what it can take and
 * write the completions into the client's mailbox (status.c).
 *
 * Who may send what (docs/NET.md): rs its framework messages; the kernel
 * its HARDWARE and SYSTEM notifications; the driver's clients (by label:
 * inet, and the driver's test program) NET_INIT, and notifications that
 * their mailbox has room; NET_SEND, NET_RECV, NET_MODE and NET_STAT only
 * the client whose NET_INIT succeeded last (E_SRCH for the others: until
 * then requests are ignored). Anyone else gets E_PERM, counted and logged.
 */
#include <samsara/ds.h>
#include "format/format.h"
#include "internal.h"

static const struct netdriver *drv;
static struct netdriver_info info;
static struct net_stats stats;
static uint32_t rx_mode;

static const char *const default_clients[] = {"inet", "nettest", 0};
static struct client_set clients;

/* Sends taken and not yet handed to the driver, and receive buffers: FIFO rings. */
static struct netdriver_frame sendq[NETDRIVER_SEND_MAX], recvq[NETDRIVER_RECV_MAX];
static int send_first, send_count, recv_first, recv_count;
static uint64_t inflight[NETDRIVER_SEND_MAX]; /* ids handed to the driver, not yet confirmed */
static int ninflight;

static void reply(endpoint_t to, message_t *r)
{
    service_reply(to, NET_REPLY, r);
}

static void reply_result(endpoint_t to, int64_t result)
{
    service_reply_result(to, NET_REPLY, result);
}

static void forget_requests(void)
{
    send_count = recv_count = ninflight = 0;
}

static int inflight_take(uint64_t id)
{
    for (int i = 0; i < ninflight; i++)
        if (inflight[i] == id) {
            inflight[i] = inflight[--ninflight];
            return 1;
        }
    return 0;
}

void netdriver_sent(uint64_t id, int64_t result)
{
    if (!inflight_take(id))
        return; /* a frame of an earlier client or NET_INIT: no one waits for it */
    if (result < 0)
        stats.send_errors++;
    else
        stats.sent++;
    netdriver_status_push(NET_ST_SENT, id, result < 0 ? result : 0);
}

void netdriver_link(int state)
{
    info.link = state;
    if (netdriver_status_client())
        netdriver_status_push(NET_ST_LINK, 0, state);
}

void netdriver_dropped(uint64_t frames)
{
    stats.dropped += frames;
}

/* A run of the driver's own memory. */
struct run {
    uint64_t addr, len;
};

/*
 * One vector copy between the driver's runs (in order: one buffer, or the two ends of a ring a
 * frame wrapped around) and the frame's pieces, as many bytes as both hold. Each kernel piece is
 * where one client piece meets one run: at most NET_PIECES_MAX + nruns - 1 of them.
 */
static int64_t copy(uint32_t dir, const struct netdriver_frame *f, const struct run *runs,
                    int nruns)
{
    struct safecopy_piece v[NET_PIECES_MAX + 1];
    uint64_t done = 0, in_piece = 0, in_run = 0;
    uint32_t p = 0, n = 0;
    for (int r = 0; p < f->count && r < nruns;) {
        uint64_t piece_left = f->piece[p].len - in_piece, run_left = runs[r].len - in_run;
        uint64_t part = piece_left < run_left ? piece_left : run_left;
        if (part)
            v[n++] =
                (struct safecopy_piece){f->client, f->piece[p].grant, f->piece[p].offset + in_piece,
                                        runs[r].addr + in_run, part};
        done += part;
        in_piece += part;
        in_run += part;
        if (in_piece == f->piece[p].len)
            p++, in_piece = 0;
        if (in_run == runs[r].len)
            r++, in_run = 0;
    }
    int64_t r = n ? sys_safecopy_vec(dir, v, n) : 0;
    return r < 0 ? r : (int64_t)done;
}

int64_t netdriver_copy_from(const struct netdriver_frame *f, void *buf)
{
    struct run one = {(uint64_t)buf, f->len};
    return copy(GRANT_READ, f, &one, 1);
}

int64_t netdriver_copy_to(const struct netdriver_frame *f, const void *buf, uint64_t len)
{
    return netdriver_copy_to2(f, buf, len, 0, 0);
}

int64_t netdriver_copy_to2(const struct netdriver_frame *f, const void *a, uint64_t alen,
                           const void *b, uint64_t blen)
{
    struct run two[2] = {{(uint64_t)a, alen}, {(uint64_t)b, blen}};
    if (alen > f->len || blen > f->len - alen)
        return -E_RANGE;
    return copy(GRANT_WRITE, f, two, blen ? 2 : 1);
}

/* Hand the driver what it can take, then write the completions. */
static void poll(void)
{
    if (!netdriver_status_client()) {
        forget_requests(); /* the client is gone: no one waits for these */
        return;
    }
    while (send_count) {
        const struct netdriver_frame *f = &sendq[send_first];
        inflight[ninflight++] = f->id; /* before the call: it may confirm at once */
        int r = drv->send(f);
        if (r == NETDRIVER_BUSY) {
            ninflight--;
            break;
        }
        send_first = (send_first + 1) % NETDRIVER_SEND_MAX;
        send_count--;
        if (r < 0 && inflight_take(f->id)) {
            stats.send_errors++;
            netdriver_status_push(NET_ST_SENT, f->id, r);
        }
    }
    while (recv_count) {
        const struct netdriver_frame *f = &recvq[recv_first];
        int64_t r = drv->receive(f);
        if (r == NETDRIVER_BUSY)
            break;
        recv_first = (recv_first + 1) % NETDRIVER_RECV_MAX;
        recv_count--;
        if (r >= 0)
            stats.received++;
        netdriver_status_push(NET_ST_RECEIVED, f->id, r);
    }
    netdriver_status_flush();
}

/* A NET_SEND or NET_RECV's frame, checked: 0 or E_INVAL. */
static int decode_frame(const message_t *m, struct netdriver_frame *f)
{
    const struct msg_net_frame *q = &m->u.net.frame;
    if (q->count < 1 || q->count > NET_PIECES_MAX)
        return -E_INVAL;
    *f = (struct netdriver_frame){.client = m->source, .id = q->id, .count = q->count};
    for (uint32_t i = 0; i < q->count; i++) {
        if (q->piece[i].grant < 0)
            return -E_INVAL;
        f->piece[i] = q->piece[i];
        f->len += q->piece[i].len; /* three 32-bit lengths: no overflow */
    }
    if (m->type == NET_SEND)
        return f->len >= NET_FRAME_MIN && f->len <= NET_FRAME_MAX ? 0 : -E_INVAL;
    return f->len >= NET_FRAME_MAX ? 0 : -E_INVAL;
}

static int64_t take_frame(const message_t *m)
{
    struct netdriver_frame f;
    int r = decode_frame(m, &f);
    if (r < 0)
        return r;
    if (m->type == NET_SEND) {
        if (send_count + ninflight + netdriver_status_queued(NET_ST_SENT) >= NETDRIVER_SEND_MAX)
            return -E_AGAIN;
        sendq[(send_first + send_count++) % NETDRIVER_SEND_MAX] = f;
    } else {
        if (recv_count + netdriver_status_queued(NET_ST_RECEIVED) >= NETDRIVER_RECV_MAX)
            return -E_AGAIN;
        recvq[(recv_first + recv_count++) % NETDRIVER_RECV_MAX] = f;
    }
    return 0;
}

/* A NET_RECVV's buffers, all or none: 0, E_INVAL or E_AGAIN. */
static int64_t take_buffers(const message_t *m)
{
    const struct msg_net_recvv *q = &m->u.net.recvv;
    if (q->count < 1 || q->count > NET_RECVV_MAX || q->len < NET_FRAME_MAX)
        return -E_INVAL;
    for (uint32_t i = 0; i < q->count; i++)
        if (q->grant[i] < 0)
            return -E_INVAL;
    if (recv_count + netdriver_status_queued(NET_ST_RECEIVED) + (int)q->count > NETDRIVER_RECV_MAX)
        return -E_AGAIN;
    for (uint32_t i = 0; i < q->count; i++)
        recvq[(recv_first + recv_count++) % NETDRIVER_RECV_MAX] =
            (struct netdriver_frame){.client = m->source,
                                     .id = q->id + q->slot[i],
                                     .count = 1,
                                     .piece = {{q->grant[i], 0, q->len}},
                                     .len = q->len};
    return 0;
}

static int set_mode(uint64_t mode)
{
    if (mode & ~(uint64_t)NET_MODE_ALL)
        return -E_INVAL;
    int r = drv->mode ? drv->mode((uint32_t)mode) : 0;
    if (r == 0)
        rx_mode = (uint32_t)mode;
    return r;
}

static void init(const message_t *m)
{
    const struct msg_net_init *q = &m->u.net.init;
    forget_requests(); /* an earlier client's, or this one's before it re-initialised */
    int r = q->grant < 0 || q->grant > 0x7fffffff
                ? -E_INVAL
                : netdriver_status_open(m->source, (grant_id_t)q->grant, q->size);
    if (r == 0 && (r = set_mode(q->mode)) < 0)
        netdriver_status_open(0, -1, 0); /* closes the box: not initialised */
    message_t a = {.u.net.init_reply = {.result = r,
                                        .link = (uint16_t)info.link,
                                        .send_max = NETDRIVER_SEND_MAX,
                                        .recv_max = NETDRIVER_RECV_MAX,
                                        .mtu = NET_FRAME_MAX - NET_FRAME_MIN,
                                        .flags = NET_F_RECVV}};
    memcpy(a.u.net.init_reply.mac, info.mac, NET_ADDR_LEN);
    reply(m->source, &a);
}

static void request(const message_t *m)
{
    if (m->type == NET_INIT) {
        init(m);
        return;
    }
    if (m->source != netdriver_status_client()) {
        reply_result(m->source, -E_SRCH); /* not initialised: nothing done */
        return;
    }
    message_t a = {0};
    switch (m->type) {
    case NET_SEND:
    case NET_RECV:
        a.u.net.reply.result = take_frame(m);
        break;
    case NET_RECVV:
        a.u.net.reply.result = take_buffers(m);
        break;
    case NET_MODE:
        a.u.net.reply.result = set_mode(m->u.net.mode.mode);
        break;
    case NET_STAT:
        a.u.net.stat_reply = (struct msg_net_stat_reply){
            0, stats.sent, stats.received, stats.send_errors, stats.dropped, stats.refused};
        break;
    default:
        a.u.net.reply.result = -E_NOSYS;
    }
    reply(m->source, &a);
}

void netdriver_started(const struct netdriver_info *i, const char *where, int irq)
{
    printf("%s: %02x:%02x:%02x:%02x:%02x:%02x at %s, IRQ %d, link %s\n", drv->name, i->mac[0],
           i->mac[1], i->mac[2], i->mac[3], i->mac[4], i->mac[5], where, irq,
           i->link == NET_LINK_UP ? "up" : "down");
}

static int start(void)
{
    return drv->init(&info);
}

static int restart(uint64_t restarts)
{
    (void)restarts; /* the device is reset the same way: nothing is kept */
    return drv->init(&info);
}

static const struct service_callbacks callbacks = {.init_fresh = start, .init_restart = restart};

/* Tell the network server we are there: LABEL.net = our endpoint in ds. inet subscribes to the
 * key and initialises each new instance. */
static int announce_tries;

static void announce(void)
{
    driver_announce(drv->name, ".net", &announce_tries);
}

static void on_alarm(uint64_t now)
{
    announce(); /* until done or given up */
    if (drv->alarm)
        drv->alarm(now);
}

static void from_process(message_t *m)
{
    if (!client_set_has(&clients, m->source)) {
        stats.refused++;
        service_refuse(drv->name, m, "not a client");
        if (m->type != MSG_NOTIFY)
            reply_result(m->source, -E_PERM);
    } else if (m->type != MSG_NOTIFY) {
        request(m); /* a client's notification: its mailbox has room (flushed below) */
    }
}

_Noreturn void netdriver_task(const struct netdriver *driver)
{
    drv = driver;
    clients.labels = drv->clients ? drv->clients : default_clients;
    service_startup(drv->name, &callbacks); /* init: the device is reset and running */
    announce();
    for (;;) {
        message_t m;
        if (driver_receive(drv->name, &m, drv->interrupt, on_alarm))
            from_process(&m);
        poll(); /* after every message: the driver's room, the client's mailbox */
    }
}
