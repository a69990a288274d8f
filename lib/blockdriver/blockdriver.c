/*
 * libblockdriver's message loop: receive (service_receive answers rs's
 * heartbeats), check the sender, decode BDEV_* requests (samsara/bdev.h),
 * check every position and length, cut transfers into runs the driver's
 * DMA buffer holds, and answer each request with sendnb.
 *
 * Who may send what (docs/BLOCK.md): rs its framework messages; the kernel
 * its HARDWARE and SYSTEM notifications; the driver's clients (by label)
 * BDEV_OPEN, and the other requests on minors they opened in this instance
 * (E_RESTARTED otherwise). Anyone else gets E_PERM, counted and logged.
 * BDEV_DEBUG_HANG only from blocktest (debug_clients): the hang test.
 */
#include <samsara/ds.h>
#include "format/format.h"
#include "blockdriver.h"

static const struct blockdriver *drv;
static struct blockdriver_info info;
static struct blockdriver_minor minors[BDEV_MINORS];

static const char *const default_clients[] = {"ext2", "ext2b", "blocktest", "blockpeer", 0};
static struct client_set clients;

/* BDEV_DEBUG_HANG's only sender: the test client of docs/BLOCK.md's hang test. */
static const char *const debug_clients[] = {"blocktest", 0};
static struct client_set debuggers = {.labels = debug_clients};
static int hang_armed; /* spin after the first run of the next transfer of more than one */
static int deaf;       /* BDEV_DEBUG_DEAF: requests dropped unanswered, heartbeats answered */

/* Who has which minor open in this instance: one row per client endpoint. A row whose endpoint's
 * slot a new endpoint takes belonged to a dead process and is reused. */
#define OPENERS_MAX 8
static struct opener {
    endpoint_t ep;
    uint16_t count[BDEV_MINORS];
    uint8_t access[BDEV_MINORS];
} openers[OPENERS_MAX];

/* Client requests received while the driver waited for its device (blockdriver_wait). */
static message_t deferred[BLOCKDRIVER_DEFER_MAX];
static int ndeferred;

static void reply(endpoint_t to, message_t *r)
{
    service_reply(to, BDEV_REPLY, r);
}

static void reply_result(endpoint_t to, int64_t result)
{
    service_reply_result(to, BDEV_REPLY, result);
}

static struct opener *opener_of(endpoint_t ep, int make)
{
    struct opener *free = 0;
    for (int i = 0; i < OPENERS_MAX; i++) {
        if (openers[i].ep == ep)
            return &openers[i];
        if (!free && (openers[i].ep == 0 || EP_SLOT(openers[i].ep) == EP_SLOT(ep)))
            free = &openers[i];
    }
    if (!make || !free)
        return 0;
    *free = (struct opener){.ep = ep};
    return free;
}

static int any_open(void)
{
    for (int i = 0; i < OPENERS_MAX; i++)
        for (int m = 0; m < BDEV_MINORS; m++)
            if (openers[i].ep && openers[i].count[m])
                return 1;
    return 0;
}

/* Read the MBR into minors 1..4 (minor 0: the whole disk): at start, and at an open while no
 * minor is open. A disk whose first sector cannot be read has only minor 0. */
static void read_partitions(void)
{
    static uint8_t mbr[4096];
    minors[0] = (struct blockdriver_minor){0, info.size};
    for (int i = 1; i < BDEV_MINORS; i++)
        minors[i] = (struct blockdriver_minor){0, 0};
    uint64_t len = info.sector_size;
    if (len < 512 || len > sizeof(mbr) || info.size < len)
        return;
    struct blockdriver_request rq = {.len = len, .local = mbr};
    int64_t r = drv->transfer(0, 0, &rq, 0, len);
    if (r != (int64_t)len) {
        printf("%s: cannot read the partition table (%s)\n", drv->name, strerror_s((int)r));
        return;
    }
    blockdriver_parse_mbr(drv->name, mbr, info.size, info.sector_size, minors);
}

static void geometry_reply(endpoint_t to, uint32_t minor)
{
    message_t a = {.u.bdev.geometry_reply = {.result = 0,
                                             .size = minors[minor].size,
                                             .sector_size = info.sector_size,
                                             .start = minors[minor].start}};
    reply(to, &a);
}

static void do_open(const message_t *m)
{
    uint32_t minor = m->u.bdev.open.minor, access = m->u.bdev.open.access;
    if (access == 0 || (access & ~(uint32_t)(BDEV_R | BDEV_W))) {
        reply_result(m->source, -E_INVAL);
        return;
    }
    if (minor >= BDEV_MINORS) {
        reply_result(m->source, -E_NXIO);
        return;
    }
    if (!any_open()) { /* nobody relies on the old table: read it again */
        if (drv->geometry && drv->geometry(&info) < 0)
            printf("%s: geometry failed\n", drv->name);
        read_partitions();
    }
    if (minors[minor].size == 0) {
        reply_result(m->source, -E_NXIO);
        return;
    }
    struct opener *o = opener_of(m->source, 1);
    int r = !o ? -E_NOSPC : o->count[minor] == UINT16_MAX ? -E_NOSPC : 0;
    if (r == 0 && drv->open)
        r = drv->open(minor);
    if (r < 0) {
        reply_result(m->source, r);
        return;
    }
    o->count[minor]++;
    o->access[minor] |= (uint8_t)access;
    geometry_reply(m->source, minor);
}

/* The opener of an open minor, or 0 (E_NXIO or E_RESTARTED in *err). */
static struct opener *opened(const message_t *m, uint32_t minor, int *err)
{
    struct opener *o = minor < BDEV_MINORS ? opener_of(m->source, 0) : 0;
    if (minor >= BDEV_MINORS)
        *err = -E_NXIO;
    else if (!o || o->count[minor] == 0)
        *err = -E_RESTARTED;
    return o && minor < BDEV_MINORS && o->count[minor] ? o : 0;
}

static int64_t do_close(const message_t *m)
{
    int err = 0;
    uint32_t minor = m->u.bdev.minor.minor;
    struct opener *o = opened(m, minor, &err);
    if (!o)
        return err;
    if (--o->count[minor] == 0)
        o->access[minor] = 0;
    if (drv->close)
        drv->close(minor);
    return 0;
}

/* A BDEV_READ or BDEV_WRITE's pieces, checked: 0 or an error. */
static int decode_transfer(const message_t *m, struct blockdriver_request *rq)
{
    const struct msg_bdev_transfer *q = &m->u.bdev.transfer;
    rq->client = m->source;
    rq->local = 0;
    rq->count = q->count;
    if (q->vec_grant < 0) {
        if (q->count > BDEV_INLINE_PIECES)
            return -E_INVAL;
        for (uint32_t i = 0; i < q->count; i++)
            rq->piece[i] = q->piece[i];
    } else {
        if (q->count < 1 || q->count > BDEV_VEC_MAX)
            return -E_INVAL;
        int r = sys_safecopy_from(m->source, q->vec_grant, 0, rq->piece,
                                  q->count * sizeof(struct bdev_piece));
        if (r < 0)
            return r;
    }
    rq->len = 0;
    for (uint32_t i = 0; i < rq->count; i++)
        rq->len += rq->piece[i].len; /* at most 256 32-bit lengths: no overflow */
    return 0;
}

static int64_t do_transfer(const message_t *m)
{
    static struct blockdriver_request rq; /* 3 KiB of pieces: not on the stack */
    int err = 0, write = m->type == BDEV_WRITE;
    uint32_t minor = m->u.bdev.transfer.minor;
    uint64_t position = m->u.bdev.transfer.position;
    struct opener *o = opened(m, minor, &err);
    if (!o)
        return err;
    if (write && !(o->access[minor] & BDEV_W))
        return -E_PERM;
    int r = decode_transfer(m, &rq);
    if (r == 0)
        r = blockdriver_check_range(position, rq.len, minors[minor].size, info.sector_size);
    if (r < 0)
        return r;
    uint64_t disk = minors[minor].start + position; /* inside the disk: checked above */
    for (uint64_t off = 0; off < rq.len;) {
        uint64_t run = rq.len - off < info.max_transfer ? rq.len - off : info.max_transfer;
        int64_t n = drv->transfer(write, disk + off, &rq, off, run);
        if (n < 0)
            return n;
        if ((uint64_t)n != run)
            return -E_IO;
        off += run;
        while (hang_armed &&
               off < rq.len) /* BDEV_DEBUG_HANG: hung half-way, heartbeats unanswered */
            __asm__ volatile("pause");
    }
    return (int64_t)rq.len;
}

static void request(const message_t *m)
{
    int err = 0;
    if (deaf)
        return; /* BDEV_DEBUG_DEAF: alive, and deaf to its clients */
    switch (m->type) {
    case BDEV_OPEN:
        do_open(m);
        return;
    case BDEV_CLOSE:
        reply_result(m->source, do_close(m));
        return;
    case BDEV_READ:
    case BDEV_WRITE:
        reply_result(m->source, do_transfer(m));
        return;
    case BDEV_FLUSH:
        if (!opened(m, m->u.bdev.minor.minor, &err))
            reply_result(m->source, err);
        else
            reply_result(m->source, drv->flush ? drv->flush() : 0);
        return;
    case BDEV_GEOMETRY:
        if (!opened(m, m->u.bdev.minor.minor, &err))
            reply_result(m->source, err);
        else
            geometry_reply(m->source, m->u.bdev.minor.minor);
        return;
    case BDEV_DEBUG_HANG:
    case BDEV_DEBUG_DEAF:
        if (!client_set_has(&debuggers, m->source)) {
            service_refuse(drv->name, m, "BDEV_DEBUG_* is for blocktest only");
            reply_result(m->source, -E_PERM);
            return;
        }
        printf("%s: %s\n", drv->name,
               m->type == BDEV_DEBUG_HANG
                   ? "BDEV_DEBUG_HANG: the next transfer spins for ever half-way"
                   : "BDEV_DEBUG_DEAF: no request is answered from now on (heartbeats are)");
        hang_armed |= m->type == BDEV_DEBUG_HANG;
        deaf |= m->type == BDEV_DEBUG_DEAF;
        reply_result(m->source, 0);
        return;
    default:
        reply_result(m->source, -E_NOSYS);
    }
}

/* A message from someone other than the kernel: 1 if it is a client's request to serve. */
static int from_client(const message_t *m)
{
    if (!client_set_has(&clients, m->source)) {
        service_refuse(drv->name, m, "not a client");
        if (m->type != MSG_NOTIFY)
            reply_result(m->source, -E_PERM);
        return 0;
    }
    return m->type != MSG_NOTIFY;
}

/* Tell clients we are there: LABEL.blk = our endpoint in ds. lib/bdev subscribes to the key and
 * re-opens its minors in each new instance. */
static int announce_tries;

static void announce(void)
{
    driver_announce(drv->name, BDEV_DS_SUFFIX, &announce_tries);
}

int blockdriver_wait(uint64_t timeout_ms)
{
    uint64_t deadline = sys_uptime() + timeout_ms;
    sys_alarm(timeout_ms);
    for (;;) {
        message_t m;
        int r = service_receive(&m);
        if (r < 0)
            return r;
        if (m.source == HARDWARE) {
            if (drv->interrupt)
                drv->interrupt((uint32_t)m.u.notify.bits);
            return 0;
        }
        if (m.source == SYSTEM) {
            if ((m.u.notify.bits & NOTIFY_ALARM) && sys_uptime() >= deadline)
                return -E_TIMEDOUT;
            continue;
        }
        if (!from_client(&m))
            continue;
        if (ndeferred == BLOCKDRIVER_DEFER_MAX)
            reply_result(m.source, -E_AGAIN);
        else
            deferred[ndeferred++] = m;
    }
}

static int start(void)
{
    int r = drv->init(&info);
    if (r < 0)
        return r;
    if (info.sector_size < 512 || (info.sector_size & (info.sector_size - 1)) ||
        info.size % info.sector_size || info.max_transfer < info.sector_size ||
        info.max_transfer % info.sector_size) {
        printf("%s: init gave a bad geometry\n", drv->name);
        return -E_INVAL;
    }
    return 0;
}

static int restart(uint64_t restarts)
{
    (void)restarts; /* the device is reset the same way, and every client must open again */
    return start();
}

static const struct service_callbacks callbacks = {.init_fresh = start, .init_restart = restart};

static void on_alarm(uint64_t now)
{
    announce(); /* until done or given up */
    if (drv->alarm)
        drv->alarm(now);
}

_Noreturn void blockdriver_task(const struct blockdriver *driver)
{
    drv = driver;
    clients.labels = drv->clients ? drv->clients : default_clients;
    service_startup(drv->name, &callbacks); /* init: the device is reset and running */
    read_partitions();
    announce();
    for (;;) {
        message_t m;
        if (ndeferred) { /* kept while the driver waited: oldest first */
            m = deferred[0];
            for (int i = 1; i < ndeferred; i++)
                deferred[i - 1] = deferred[i];
            ndeferred--;
            request(&m);
            continue;
        }
        if (driver_receive(drv->name, &m, drv->interrupt, on_alarm) && from_client(&m))
            request(&m);
    }
}
