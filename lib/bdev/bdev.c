/*
 * lib/bdev: a block device seen from a file server (bdev.h), with the
 * driver's restarts hidden. Every request goes through issue(): make grants
 * to the driver's current instance, send with a bounded sendrec, free the
 * grants, and on a lost driver (E_DEADEP, E_SRCH, no answer in
 * BDEV_REQUEST_MS) or an E_RESTARTED answer wait for the next instance's
 * announcement (LABEL.blk in ds), open the minor there, and go again.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "format/format.h"
#include "bdev/bdev.h"

void (*bdev_busy)(const message_t *m);
int (*bdev_wait_hook)(const message_t *m);

static message_t deferred[BDEV_DEFER_MAX];
static int ndeferred;

int bdev_deferred(message_t *m)
{
    if (ndeferred == 0)
        return 0;
    *m = deferred[0];
    for (int i = 1; i < ndeferred; i++)
        deferred[i - 1] = deferred[i];
    ndeferred--;
    return 1;
}

/* A message that is not ours arrived while we waited: keep it for the file server. */
static void defer(const message_t *m)
{
    if (bdev_wait_hook && bdev_wait_hook(m))
        return; /* the file server answered it now (its finished reply, FS_RESULT) */
    if (ndeferred < BDEV_DEFER_MAX)
        deferred[ndeferred++] = *m;
    else if (bdev_busy)
        bdev_busy(m);
    else
        printf("bdev: a message (type 0x%x from %d) came while waiting for a driver and no room "
               "was left: dropped\n",
               (unsigned)m->type, (int)m->source);
}

static void key_of(const struct bdev *d, char *key)
{
    snprintf_s(key, DS_KEY_MAX, "%s%s", d->label, BDEV_DS_SUFFIX);
}

/* Wait up to ms for ds's notification or the alarm; rs's heartbeats are answered meanwhile
 * (service_receive), anything else is kept (defer). */
static void wait_event(uint64_t ms)
{
    endpoint_t ds = ds_endpoint();
    sys_alarm(ms ? ms : 1);
    for (;;) {
        message_t m;
        if (service_receive(&m) < 0)
            continue;
        if (m.source == SYSTEM && m.u.notify.bits == NOTIFY_ALARM)
            return;
        if (m.type == MSG_NOTIFY && ((m.source == ds && ds > 0) || ds_notifier(m.source)))
            break; /* ds's, or a restarted ds's (ds_notifier asks rs) */
        if (m.source == SYSTEM && (m.u.notify.bits & NOTIFY_ALARM)) {
            m.u.notify.bits &= ~(uint64_t)NOTIFY_ALARM; /* ours; the rest is the server's */
            defer(&m);
            return;
        }
        defer(&m);
    }
    sys_alarm(0);
}

/* The driver's instance from its announcement, once it differs from `old` (0: any); 0 if none
 * came within BDEV_WAIT_MS. */
static endpoint_t wait_instance(struct bdev *d, endpoint_t old)
{
    char key[DS_KEY_MAX];
    key_of(d, key);
    uint64_t start = sys_uptime(), until = start + BDEV_WAIT_MS;
    for (;;) {
        char changed[DS_KEY_MAX];
        uint64_t ep;
        while (ds_check(changed, sizeof(changed)) > 0) /* clears the marks we were woken for */
            ;
        if (ds_retrieve_u64(key, &ep) == 0 && (endpoint_t)ep > 0 && (endpoint_t)ep != old) {
            d->wait_ms += sys_uptime() - start;
            return (endpoint_t)ep;
        }
        uint64_t now = sys_uptime();
        if (now >= until) {
            d->wait_ms += now - start;
            return 0;
        }
        if (bdev_wait_hook)
            bdev_wait_hook(0); /* a real wait: the file server lets its client go on */
        wait_event(until - now);
    }
}

/* One request as issue() builds it for each instance of the driver. */
struct request {
    int type;          /* BDEV_* */
    uint64_t position; /* BDEV_READ, BDEV_WRITE */
    int count;         /* buffers */
    const struct bdev_buf *buf;
};

static struct bdev_piece vec[BDEV_VEC_MAX]; /* a request's pieces past BDEV_INLINE_PIECES */

static void free_grants(grant_id_t *g, int n)
{
    for (int i = 0; i < n; i++)
        if (g[i] >= 0)
            grant_free(g[i]);
}

/*
 * Is a the answer the protocol allows to rq of len bytes? Its type, a result that is an error
 * number, the whole length for a transfer (samsara/bdev.h), 0 for the rest, a geometry that is
 * possible (and the one we knew, on a reopen). Else it is garbage: a broken driver's.
 */
static int answer_ok(const struct bdev *d, const struct request *rq, const message_t *a,
                     uint64_t len)
{
    int64_t r = a->u.bdev.reply.result;
    const struct msg_bdev_geometry_reply *g = &a->u.bdev.geometry_reply;
    if (a->type != BDEV_REPLY || r < -BDEV_ERRNO_MAX)
        return 0;
    if (r < 0)
        return 1;
    if (rq->type == BDEV_READ || rq->type == BDEV_WRITE)
        return (uint64_t)r == len;
    if (r != 0 || (rq->type != BDEV_OPEN && rq->type != BDEV_GEOMETRY))
        return r == 0;
    if (g->sector_size < 512 || g->sector_size > 65536 || (g->sector_size & (g->sector_size - 1)) ||
        g->size % g->sector_size)
        return 0;
    return !d->sector_size || (g->size == d->size && g->sector_size == d->sector_size);
}

/* The driver's answer was garbage: rs hears of it and replaces the driver, whose next instance
 * gets the request again (E_DEADEP); E_IO if rs refused the complaint. */
static int64_t garbage(struct bdev *d, const struct request *rq, const message_t *a)
{
    d->complaints++;
    printf("bdev: %s: an answer outside the protocol to request 0x%x (type 0x%x, result %ld): "
           "complaint to rs\n",
           d->label, (unsigned)rq->type, (unsigned)a->type, (long)a->u.bdev.reply.result);
    return root_complain(d->label, BDEV_COMPLAIN_TICKS) == 0 ? -E_DEADEP : -E_IO;
}

/* The driver did not answer rq in BDEV_REQUEST_MS: rs hears of it and replaces the driver (as
 * Linux's block layer resets a device after its command timeout), and the next instance gets the
 * request again. Without the complaint a driver whose code broke so that it still answers its
 * heartbeats but never its requests was waited for again and again (BDEV_WAIT_MS each), and the
 * file server's callers hung (a nop trial of the fault-injection campaign, docs/FAULTS.md). */
static void unanswered(struct bdev *d, const struct request *rq)
{
    d->complaints++;
    printf("bdev: %s: no answer to request 0x%x in %u ms: complaint to rs\n", d->label,
           (unsigned)rq->type, d->request_ms ? d->request_ms : BDEV_REQUEST_MS);
    root_complain(d->label, BDEV_COMPLAIN_TICKS);
}

/* Send rq once to the driver's current instance: the reply's result, or an IPC error. */
static int64_t send_once(struct bdev *d, const struct request *rq, message_t *m)
{
    grant_id_t g[BDEV_VEC_MAX + 1];
    int n = 0;
    uint64_t len = 0;
    *m = (message_t){.type = rq->type};
    if (rq->type == BDEV_OPEN) {
        m->u.bdev.open = (struct msg_bdev_open){d->minor, d->access};
    } else if (rq->type == BDEV_READ || rq->type == BDEV_WRITE) {
        uint32_t access = rq->type == BDEV_WRITE ? GRANT_READ : GRANT_WRITE;
        struct msg_bdev_transfer *t = &m->u.bdev.transfer;
        *t = (struct msg_bdev_transfer){d->minor, (uint32_t)rq->count, rq->position, -1, {{0}}};
        for (; n < rq->count; n++) {
            if ((g[n] = grant_alloc(d->driver, rq->buf[n].addr, rq->buf[n].len, access)) < 0) {
                free_grants(g, n);
                return g[n];
            }
            struct bdev_piece p = {g[n], 0, (uint32_t)rq->buf[n].len};
            len += rq->buf[n].len; /* at most BDEV_TRANSFER_MAX: bdev_transfer cut it so */
            if (rq->count <= BDEV_INLINE_PIECES)
                t->piece[n] = p;
            else
                vec[n] = p;
        }
        if (rq->count > BDEV_INLINE_PIECES) {
            g[n] = grant_alloc(d->driver, vec, rq->count * sizeof(vec[0]), GRANT_READ);
            if (g[n] < 0) {
                free_grants(g, n);
                return g[n];
            }
            t->vec_grant = g[n++];
        }
    } else {
        m->u.bdev.minor.minor = d->minor;
    }
    int r = ipc_sendrec_bounded(d->driver, m, d->request_ms ? d->request_ms : BDEV_REQUEST_MS);
    free_grants(g, n);
    if (r < 0)
        return r;
    return answer_ok(d, rq, m, len) ? m->u.bdev.reply.result : garbage(d, rq, m);
}

static int lost(int64_t r)
{
    return r == -E_DEADEP || r == -E_SRCH || r == -E_TIMEDOUT;
}

/*
 * rq until it is answered by a working instance: its result (for BDEV_OPEN, *m holds the
 * geometry), or E_IO after BDEV_RESTARTS_MAX restarts or BDEV_EIO_TRIES failures.
 */
static int64_t issue(struct bdev *d, const struct request *rq, message_t *m)
{
    int restarts = 0, eio = 0, again = 0;
    for (;;) {
        int64_t r = d->driver > 0 ? send_once(d, rq, m) : -E_DEADEP;
        if (r == -E_TIMEDOUT) /* alive (its heartbeat answered) and deaf to us: a hang of its own */
            unanswered(d, rq);
        if (r == -E_IO && ++eio < BDEV_EIO_TRIES)
            continue;
        if (r == -E_AGAIN && ++again < 1000) { /* the driver keeps a few requests while busy */
            wait_event(1);
            continue;
        }
        if (!lost(r) && r != -E_RESTARTED) {
            if (r == -E_IO)
                printf("bdev: %s minor %u: request 0x%x at %lu failed %d times: E_IO\n", d->label,
                       d->minor, (unsigned)rq->type, (unsigned long)rq->position, eio);
            return r;
        }
        /* The instance is gone or does not know us: find the next one and open the minor. */
        for (;;) {
            if (lost(r)) {
                if (++restarts > BDEV_RESTARTS_MAX) {
                    printf("bdev: %s minor %u: gave up after %d driver restarts: E_IO\n", d->label,
                           d->minor, BDEV_RESTARTS_MAX);
                    return -E_IO;
                }
                d->restarts++;
                endpoint_t ep = wait_instance(d, d->driver);
                if (ep <= 0) {
                    printf("bdev: %s: no new instance announced in %d ms: E_IO\n", d->label,
                           BDEV_WAIT_MS);
                    d->driver = 0;
                    return -E_IO;
                }
                d->driver = ep;
            } else if (++restarts > BDEV_RESTARTS_MAX) { /* E_RESTARTED again and again */
                printf("bdev: %s minor %u: the driver keeps forgetting the open: E_IO\n", d->label,
                       d->minor);
                return -E_IO;
            }
            struct request open = {.type = BDEV_OPEN};
            message_t a;
            r = send_once(d, &open, &a);
            if (r == 0) {
                d->reopens++;
                if (rq->type == BDEV_OPEN) { /* the open itself was the request */
                    *m = a;
                    return 0;
                }
                break;
            }
            if (!lost(r) && r != -E_RESTARTED)
                return r; /* the minor is gone (E_NXIO), or the driver refuses us */
        }
    }
}

int bdev_open(struct bdev *d, const char *label, uint32_t minor, uint32_t access)
{
    char key[DS_KEY_MAX];
    *d = (struct bdev){.minor = minor, .access = access};
    strncpy_s(d->label, label, sizeof(d->label));
    key_of(d, key);
    int r = ds_subscribe(key, 0);
    if (r < 0)
        return r;
    uint64_t ep;
    d->driver = ds_retrieve_u64(key, &ep) == 0 ? (endpoint_t)ep : wait_instance(d, 0);
    if (d->driver <= 0)
        return -E_NXIO;
    struct request open = {.type = BDEV_OPEN};
    message_t m;
    int64_t res = issue(d, &open, &m);
    if (res < 0)
        return (int)res;
    d->size = m.u.bdev.geometry_reply.size;
    d->sector_size = m.u.bdev.geometry_reply.sector_size;
    return 0;
}

void bdev_close(struct bdev *d)
{
    if (d->driver > 0) { /* a dead driver forgot the open anyway */
        message_t m = {.type = BDEV_CLOSE, .u.bdev.minor.minor = d->minor};
        ipc_sendrec_bounded(d->driver, &m, BDEV_REQUEST_MS);
    }
    d->driver = 0;
}

int bdev_flush(struct bdev *d)
{
    struct request rq = {.type = BDEV_FLUSH};
    message_t m;
    return (int)issue(d, &rq, &m);
}

int64_t bdev_transfer(struct bdev *d, int write, uint64_t position, const struct bdev_buf *v, int n)
{
    if (n < 0 || n > BDEV_BUFS_MAX)
        return -E_INVAL;
    /* Cut the buffers into requests of at most BDEV_TRANSFER_MAX bytes. */
    _Static_assert(BDEV_BUFS_MAX <= BDEV_VEC_MAX, "one request carries every piece");
    static struct bdev_buf part[BDEV_BUFS_MAX]; /* static: 4 KiB */
    uint64_t done = 0, in_buf = 0;
    int i = 0;
    while (i < n) {
        int k = 0;
        uint64_t len = 0;
        while (i < n && len < BDEV_TRANSFER_MAX) {
            uint64_t take = v[i].len - in_buf;
            if (take > BDEV_TRANSFER_MAX - len)
                take = BDEV_TRANSFER_MAX - len;
            if (take)
                part[k++] = (struct bdev_buf){(uint8_t *)v[i].addr + in_buf, take};
            len += take;
            in_buf += take;
            if (in_buf == v[i].len)
                i++, in_buf = 0;
        }
        if (position + done < position)
            return -E_RANGE;
        struct request rq = {write ? BDEV_WRITE : BDEV_READ, position + done, k, part};
        message_t m;
        int64_t r = issue(d, &rq, &m);
        if (r < 0)
            return r;
        if ((uint64_t)r != len)
            return -E_IO;
        done += len;
    }
    return (int64_t)done;
}

int64_t bdev_read(struct bdev *d, uint64_t position, void *buf, uint64_t len)
{
    struct bdev_buf one = {buf, len};
    return bdev_transfer(d, 0, position, &one, 1);
}

int64_t bdev_write(struct bdev *d, uint64_t position, const void *buf, uint64_t len)
{
    struct bdev_buf one = {(void *)buf, len};
    return bdev_transfer(d, 1, position, &one, 1);
}
