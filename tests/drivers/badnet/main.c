/*
 * badnet: a hostile network driver with no hardware, for inet's tests (tools/suite_inet.py, the
 * "badnet" boot; docs/INET.md, "A hostile driver"). It speaks the NET protocol (docs/NET.md) by
 * hand, not through lib/netdriver, so that it can break every rule. Its wire is a pretend host
 * at 10.0.2.2 (peer.c) that answers ARP, pings and UDP echo. inet's self-test ("selftest badnet")
 * talks to it with UDP datagrams to the peer's port 9:
 *
 *  - "frames": the hostile stream (frames.c): malformed frames delivered inside the protocol's
 *    rules, ended by "done N" to inet's port 9. inet must neither crash nor complain.
 *  - "garbage": from now on each instance breaks the protocol in one way (cases[], the instance
 *    with restart count r the case r; the first instance, case 0, when told). inet must report
 *    it to rs (root_complain), and rs restarts badnet with the next case. The instance after the
 *    last case is well behaved and answers "clean N" (N cases) instead.
 *  - "report": rs's view, printed for the host: "badnet: rs: restarts R, complaints C, inet
 *    restarts I" from SVC_STATS and rs's event log (SVC_LOG).
 *
 * Two cases try what the kernel must refuse: writing past the status mailbox's grant and
 * copying more bytes into a receive buffer than granted ("badnet: the kernel refused ...").
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "badnet.h"
#include "format/format.h"

#define SEND_MAX 8
#define RECV_MAX 32
#define ITEMS_MAX 96

/* The ways to break the protocol, one per instance (docs/INET.md lists what inet checks). */
enum garbage {
    G_SENT_UNKNOWN,       /* NET_ST_SENT for a frame never sent */
    G_INIT_WRONG_TYPE,    /* NET_INIT answered with a request's type */
    G_INIT_POSITIVE,      /* ... with result 7 */
    G_INIT_HUGE_ERROR,    /* ... with result -100000 (no error number) */
    G_INIT_NO_SENDS,      /* ... send_max 0 */
    G_INIT_MTU,           /* ... an MTU of 9000 */
    G_INIT_MULTICAST_MAC, /* ... a multicast MAC */
    G_INIT_SILENT,        /* NET_INIT never answered */
    G_RECV_WRONG_TYPE,    /* NET_RECV answered with type NET_SEND */
    G_SEND_SILENT,        /* NET_SEND never answered */
    G_SEND_POSITIVE,      /* NET_SEND answered with result 1 */
    G_SENT_TWICE,         /* a frame confirmed twice */
    G_RECEIVED_TOO_LONG,  /* 1515 bytes into a buffer of 1514 (refused), then reported */
    G_RECEIVED_HUGE,      /* a frame of 65535 bytes reported */
    G_RECEIVED_SHORT,     /* a frame of 13 bytes */
    G_RECEIVED_ZERO,      /* a frame of 0 bytes */
    G_RECEIVED_BAD_ERROR, /* a receive error of -100000 */
    G_RECEIVED_UNKNOWN,   /* a receive item for a buffer never given */
    G_RECEIVED_TWICE,     /* a buffer filled twice */
    G_HEAD_FAR,           /* head 65 items past tail (and a write past the box, refused) */
    G_HEAD_BACK,          /* head behind tail */
    G_NO_KIND,            /* an item of kind 99 */
    G_LINK_BAD,           /* a link item with state 7 */
    G_UNASKED_REPLY,      /* a NET_REPLY nobody asked for */
    G_CASES
};

static int garbage = -1; /* the case this instance acts out; -1: none (yet) */
static int acted;        /* it did */
static uint64_t restarts;

static struct {
    endpoint_t who; /* 0: no client */
    grant_id_t grant;
    uint64_t head;
} client;

struct buffer {
    uint64_t id;
    uint32_t count;
    struct net_piece piece[NET_PIECES_MAX];
};
static struct buffer bufs[RECV_MAX]; /* FIFO */
static unsigned buf_first, nbufs;
static struct net_status_item items[ITEMS_MAX];
static unsigned nitems;
static uint8_t frame[NET_FRAME_MAX + 64];

static void push(uint64_t kind, uint64_t id, int64_t value)
{
    if (nitems < ITEMS_MAX)
        items[nitems++] = (struct net_status_item){kind, id, value};
}

/* Write the items that fit into the client's box, then head, then notify. */
static void flush(void)
{
    uint64_t tail;
    if (!client.who || !nitems ||
        sys_safecopy_from(client.who, client.grant, offsetof(struct net_mailbox, tail), &tail, 8))
        return;
    if (tail > client.head || client.head - tail > NET_MAILBOX_ITEMS)
        return;
    unsigned n = 0;
    for (; n < nitems && client.head + n - tail < NET_MAILBOX_ITEMS; n++) {
        uint64_t at = offsetof(struct net_mailbox, item) +
                      (client.head + n) % NET_MAILBOX_ITEMS * sizeof(struct net_status_item);
        sys_safecopy_to(client.who, client.grant, at, &items[n], sizeof(items[n]));
    }
    if (!n)
        return;
    client.head += n;
    sys_safecopy_to(client.who, client.grant, offsetof(struct net_mailbox, head), &client.head, 8);
    for (unsigned i = n; i < nitems; i++)
        items[i - n] = items[i];
    nitems -= n;
    ipc_notify(client.who);
}

/* Copy len bytes of frame into buffer b, piece by piece: 0 or the kernel's error. */
static int fill(const struct buffer *b, uint32_t len)
{
    uint32_t done = 0;
    for (uint32_t i = 0; i < b->count && done < len; i++) {
        uint32_t part = len - done < b->piece[i].len ? len - done : b->piece[i].len;
        if (i == b->count - 1)
            part = len - done; /* the last piece takes the rest: more than granted fails */
        int r =
            sys_safecopy_to(client.who, b->piece[i].grant, b->piece[i].offset, frame + done, part);
        if (r < 0)
            return r;
        done += part;
    }
    return 0;
}

static struct buffer *take_buffer(void)
{
    if (!nbufs)
        return 0;
    struct buffer *b = &bufs[buf_first];
    buf_first = (buf_first + 1) % RECV_MAX;
    nbufs--;
    return b;
}

/* Frames for inet into the buffers it gave, while there are both. */
static void deliver(void)
{
    while (nbufs && nitems < ITEMS_MAX) {
        uint32_t n = peer_output(frame);
        if (!n)
            return;
        struct buffer *b = take_buffer();
        int r = fill(b, n);
        push(NET_ST_RECEIVED, b->id, r < 0 ? (int64_t)r : (int64_t)n);
    }
}

static void reply(endpoint_t to, message_t *m)
{
    if (!m->type)
        m->type = NET_REPLY;
    ipc_sendnb(to, m);
}

/* The garbage cases that need only a buffer: bad items (and two writes the kernel refuses). */
static void act_on_items(void)
{
    struct buffer *b = nbufs ? &bufs[buf_first] : 0;
    uint64_t past = sizeof(struct net_mailbox);
    int r;
    switch (garbage) {
    case G_SENT_UNKNOWN:
        push(NET_ST_SENT, 0xdead, 0);
        break;
    case G_RECEIVED_TOO_LONG:
        memset(frame, 0xee, NET_FRAME_MAX + 1);
        r = fill(b, NET_FRAME_MAX + 1);
        printf("badnet: the kernel refused %u bytes into a buffer of %u: %s\n", NET_FRAME_MAX + 1,
               NET_FRAME_MAX, r < 0 ? strerror_s(-r) : "NOT REFUSED");
        push(NET_ST_RECEIVED, take_buffer()->id, NET_FRAME_MAX + 1);
        break;
    case G_RECEIVED_HUGE:
    case G_RECEIVED_SHORT:
    case G_RECEIVED_ZERO:
    case G_RECEIVED_BAD_ERROR:
        push(NET_ST_RECEIVED, take_buffer()->id,
             garbage == G_RECEIVED_HUGE    ? 65535
             : garbage == G_RECEIVED_SHORT ? NET_FRAME_MIN - 1
             : garbage == G_RECEIVED_ZERO  ? 0
                                           : -100000);
        break;
    case G_RECEIVED_UNKNOWN:
        push(NET_ST_RECEIVED, b->id + 1000, 60);
        break;
    case G_RECEIVED_TWICE:
        push(NET_ST_RECEIVED, b->id, 60);
        push(NET_ST_RECEIVED, take_buffer()->id, 60);
        break;
    case G_HEAD_FAR:
    case G_HEAD_BACK:
        r = sys_safecopy_to(client.who, client.grant, past, &past, 8);
        printf("badnet: the kernel refused a write past the mailbox: %s\n",
               r < 0 ? strerror_s(-r) : "NOT REFUSED");
        client.head += garbage == G_HEAD_FAR ? NET_MAILBOX_ITEMS + 1 : (uint64_t)-1;
        sys_safecopy_to(client.who, client.grant, offsetof(struct net_mailbox, head), &client.head,
                        8);
        ipc_notify(client.who);
        break;
    case G_NO_KIND:
        push(99, 0, 0);
        break;
    case G_LINK_BAD:
        push(NET_ST_LINK, 0, 7);
        break;
    default:
        return;
    }
    acted = 1;
    printf("badnet: instance %lu: garbage case %d done\n", restarts, garbage);
}

static void on_init(const message_t *m)
{
    const struct msg_net_init *q = &m->u.net.init;
    message_t a = {.u.net.init_reply = {.link = NET_LINK_UP,
                                        .send_max = SEND_MAX,
                                        .recv_max = RECV_MAX,
                                        .mtu = NET_FRAME_MAX - NET_FRAME_MIN}};
    memcpy(a.u.net.init_reply.mac, inet_mac, NET_ADDR_LEN);
    uint64_t tail;
    if (q->size < sizeof(struct net_mailbox) ||
        sys_safecopy_from(m->source, (grant_id_t)q->grant, offsetof(struct net_mailbox, tail),
                          &tail, 8) < 0) {
        a.u.net.init_reply.result = -E_INVAL;
    } else {
        client.who = m->source;
        client.grant = (grant_id_t)q->grant;
        client.head = tail;
        nbufs = nitems = 0;
    }
    int g = acted ? -1 : garbage;
    acted |= g >= G_INIT_WRONG_TYPE && g <= G_INIT_SILENT;
    switch (g) {
    case G_INIT_WRONG_TYPE:
        a.type = NET_INIT;
        break;
    case G_INIT_POSITIVE:
        a.u.net.init_reply.result = 7;
        break;
    case G_INIT_HUGE_ERROR:
        a.u.net.init_reply.result = -100000;
        break;
    case G_INIT_NO_SENDS:
        a.u.net.init_reply.send_max = 0;
        break;
    case G_INIT_MTU:
        a.u.net.init_reply.mtu = 9000;
        break;
    case G_INIT_MULTICAST_MAC:
        a.u.net.init_reply.mac[0] = 1;
        break;
    case G_INIT_SILENT:
        return;
    }
    reply(m->source, &a);
}

static void on_recv(const message_t *m)
{
    const struct msg_net_frame *q = &m->u.net.frame;
    message_t a = {0};
    if (nbufs == RECV_MAX || q->count < 1 || q->count > NET_PIECES_MAX) {
        a.u.net.reply.result = nbufs == RECV_MAX ? -E_AGAIN : -E_INVAL;
    } else {
        struct buffer *b = &bufs[(buf_first + nbufs++) % RECV_MAX];
        *b = (struct buffer){.id = q->id, .count = q->count};
        memcpy(b->piece, q->piece, sizeof(b->piece));
    }
    if (garbage == G_RECV_WRONG_TYPE && !acted)
        a.type = NET_SEND, acted = 1;
    reply(m->source, &a);
}

static void on_send(const message_t *m)
{
    const struct msg_net_frame *q = &m->u.net.frame;
    message_t a = {0};
    uint32_t len = 0;
    for (uint32_t i = 0; i < q->count && i < NET_PIECES_MAX; i++) {
        if (len + q->piece[i].len > NET_FRAME_MAX ||
            sys_safecopy_from(m->source, q->piece[i].grant, q->piece[i].offset, frame + len,
                              q->piece[i].len) < 0) {
            a.u.net.reply.result = -E_INVAL;
            break;
        }
        len += q->piece[i].len;
    }
    if (garbage == G_SEND_SILENT && !acted) {
        acted = 1;
        return;
    }
    if (garbage == G_SEND_POSITIVE && !acted)
        a.u.net.reply.result = 1, acted = 1;
    reply(m->source, &a);
    if (a.u.net.reply.result)
        return;
    push(NET_ST_SENT, q->id, 0);
    if (garbage == G_SENT_TWICE && !acted)
        push(NET_ST_SENT, q->id, 0), acted = 1;
    peer_input(frame, len);
}

/* What rs recorded: our restarts; in its log (the last 64 events), our failures and how many
 * of them were complaints; inet's restarts. */
static void report(void)
{
    struct root_stats_reply me = {0}, inet = {0};
    root_service(SVC_STATS, "badnet", &me);
    root_service(SVC_STATS, "inet", &inet);
    char line[ROOT_LINE_MAX + 1];
    uint64_t failures = 0, complaints = 0;
    for (uint64_t i = 0; root_log_line(i, line); i++) {
        const char *s = line;
        while (*s && strncmp(s, "badnet ", 7))
            s++;
        for (const char *t = s; *s && *t; t++) {
            failures += !strncmp(t, "failed: ", 8);
            complaints += !strncmp(t, "failed: complaint", 17);
        }
    }
    printf("badnet: rs: restarts %lu, failures logged %lu, complaints %lu, inet restarts %lu\n",
           me.restarts, failures, complaints, inet.restarts);
}

/* After each message: the case's own moment, the control words, frames, the items. */
static void after_message(void)
{
    if (control == CTRL_GARBAGE && garbage < 0 && restarts == 0)
        garbage = G_SENT_UNKNOWN; /* the first instance's case, when told */
    if (control == CTRL_GARBAGE && restarts >= G_CASES) {
        char text[16];
        snprintf_s(text, sizeof(text), "clean %d", G_CASES);
        peer_say(text);
    }
    if (control == CTRL_REPORT && restarts >= G_CASES)
        report();
    control = CTRL_NONE;
    if (garbage >= 0 && !acted && client.who && nbufs)
        act_on_items();
    if (garbage == G_UNASKED_REPLY && !acted && client.who) {
        message_t m = {.type = NET_REPLY};
        if (ipc_sendnb(client.who, &m) == 0) {
            acted = 1;
            printf("badnet: instance %lu: an unasked reply sent\n", restarts);
        }
    }
    deliver();
    flush();
}

static int start(void)
{
    return 0;
}

static int restart(uint64_t n)
{
    restarts = n;
    garbage = n < G_CASES ? (int)n : -1;
    return 0;
}

static const struct service_callbacks callbacks = {.init_fresh = start, .init_restart = restart};

int main(uint64_t arg)
{
    (void)arg;
    service_startup("badnet", &callbacks);
    printf("badnet: instance %lu%s\n", restarts,
           garbage >= 0 ? ", with garbage"
           : restarts   ? ", well behaved"
                        : "");
    int r;
    while ((r = ds_publish_u64("badnet.net", (uint64_t)self_ep, DS_OVERWRITE)) < 0) {
        sys_alarm(10); /* rs tells ds who owns which label only once ds is ready */
        message_t m;
        service_receive(&m);
    }
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0)
            continue;
        if (m.source == SYSTEM) {
            /* an alarm: a wait of the stream (frames.c) or for inet to be receiving */
        } else if (m.type == NET_INIT) {
            on_init(&m);
        } else if (m.source != client.who) {
            if (m.type != MSG_NOTIFY) {
                message_t a = {.u.net.reply.result = -E_SRCH};
                reply(m.source, &a);
            }
        } else if (garbage == G_INIT_SILENT || (garbage == G_SEND_SILENT && acted)) {
            /* silent for good: inet must not wait for us */
        } else if (m.type == NET_RECV) {
            on_recv(&m);
        } else if (m.type == NET_SEND) {
            on_send(&m);
        } else if (m.type != MSG_NOTIFY) {
            message_t a = {.u.net.reply.result =
                               m.type == NET_MODE || m.type == NET_STAT ? 0 : -E_NOSYS};
            reply(m.source, &a);
        }
        after_message();
        if (nbufs || (garbage == G_UNASKED_REPLY && !acted))
            sys_alarm(20); /* frames or a reply may be waiting for a moment that has passed */
    }
}
