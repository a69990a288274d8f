/*
 * libchardriver's message loop: receive from ANY, decode and check CDEV_*
 * requests (samsara/fs.h), call the driver's callbacks, reply at once with
 * ipc_sendnb, and keep the table of suspended requests (requester, id) that
 * chardriver_done and CDEV_CANCEL finish. Notifications from HARDWARE and
 * SYSTEM (alarm) become the interrupt and alarm callbacks. A malformed or
 * unknown request gets an error reply; nothing a requester sends can stop
 * the loop.
 *
 * Who may send what (docs/TTY.md): rs (root) its framework messages
 * (heartbeat, save: service_receive); the kernel its HARDWARE and SYSTEM
 * notifications; the driver's clients (by label: vfs, and the driver's test
 * program) the CDEV_* requests, and notifications that their mailbox has
 * room. Anything else is refused: -LX_EPERM for a request, nothing for a
 * notification; counted, and logged at the 1st, 2nd, 4th, 8th... refusal.
 */
#include <samsara/ds.h>
#include <samsara/root.h>
#include "format/format.h"
#include "internal.h"

static const struct chardriver *drv;

static struct {
    endpoint_t source; /* 0: free */
    uint64_t id;
    int minor;
} pending[CHARDRIVER_PENDING_MAX];
static int npending;

/* The request whose callback is running: chardriver_done may finish it
 * before the callback has returned CDEV_SUSPENDED. */
static struct {
    int active, done;
    uint64_t id;
    int64_t result;
} inflight;

static void reply(endpoint_t to, int64_t result)
{
    message_t r = {.type = CDEV_REPLY, .u.cdev.reply.result = result};
    reply_hold(to, &r); /* the requester waits in sendrec; if not, too bad */
}

/* ---- who may send requests: the clients, by label */

static const char *const default_clients[] = {"vfs", 0};
static struct client_set clients;
static uint64_t refused;

static int is_client(endpoint_t who)
{
    if (!clients.labels)
        clients.labels = drv->clients ? drv->clients : default_clients;
    return client_set_has(&clients, who);
}

/* A message from someone who may not send it: -EPERM for a request; counted, logged. */
static void refuse(const message_t *m)
{
    refused++;
    if ((refused & (refused - 1)) == 0) /* 1, 2, 4, 8...: a flood cannot fill the log */
        printf("%s: refused %s %x from endpoint %d, not a client (%lu refusals)\n",
               drv->name ? drv->name : "chardriver",
               m->type == MSG_NOTIFY ? "a notification" : "request", (unsigned)m->type, m->source,
               refused);
    if (m->type != MSG_NOTIFY)
        reply(m->source, -LX_EPERM);
}

static int pending_find(endpoint_t source, uint64_t id)
{
    for (int i = 0; i < CHARDRIVER_PENDING_MAX; i++)
        if (pending[i].source && pending[i].id == id && (!source || pending[i].source == source))
            return i;
    return -1;
}

static void pending_add(const struct chardriver_req *r)
{
    for (int i = 0; i < CHARDRIVER_PENDING_MAX; i++)
        if (!pending[i].source) {
            pending[i].source = r->source;
            pending[i].id = r->id;
            pending[i].minor = r->minor;
            npending++;
            return;
        }
}

static void pending_remove(int i)
{
    pending[i].source = 0;
    npending--;
}

void chardriver_done(uint64_t id, int64_t result)
{
    if (inflight.active && inflight.id == id) {
        inflight.done = 1;
        inflight.result = result;
        return;
    }
    int i = pending_find(0, id);
    if (i < 0)
        return; /* cancelled meanwhile: its result was the cancel reply */
    if (result == CDEV_SUSPENDED)
        result = -LX_EIO;
    endpoint_t to = pending[i].source;
    pending_remove(i);
    chardriver_queue_done(to, id, result);
}

int chardriver_copy_from(const struct chardriver_req *r, uint64_t off, void *buf, uint64_t len)
{
    if (!len)
        return 0;
    if (off > r->size || len > r->size - off)
        return -LX_EFAULT;
    return sys_safecopy_from(r->source, r->grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

int chardriver_copy_to(const struct chardriver_req *r, uint64_t off, const void *buf, uint64_t len)
{
    if (!len)
        return 0;
    if (off > r->size || len > r->size - off)
        return -LX_EFAULT;
    return sys_safecopy_to(r->source, r->grant, off, buf, len) < 0 ? -LX_EFAULT : 0;
}

/* A grant id from a message: -1 (never valid) unless it is a grant_id_t. */
static grant_id_t grant_of(int64_t g)
{
    return g >= 0 && g <= 0x7fffffff ? (grant_id_t)g : -1;
}

/* Fill r from a read, write or ioctl message; 0 or an errno. */
static int decode(const message_t *m, struct chardriver_req *r)
{
    const struct msg_cdev_rw *rw = &m->u.cdev.rw;
    const struct msg_cdev_ioctl *io = &m->u.cdev.ioctl;
    memset(r, 0, sizeof(*r));
    r->source = m->source;
    if (rw->minor >= (uint64_t)drv->minors) /* minor and id: the same place in both */
        return -LX_ENXIO;
    r->minor = (int)rw->minor;
    r->id = rw->id;
    if (m->type == CDEV_IOCTL) {
        if (io->request > 0xffffffffull)
            return -LX_ENOTTY;
        r->request = (uint32_t)io->request;
        r->grant = grant_of(io->grant);
        r->size = io->size;
        r->pgrp = (int32_t)io->pgrp;
        r->arg = io->arg;
    } else {
        r->grant = grant_of(rw->grant);
        r->size = rw->len;
        r->flags = (uint32_t)(rw->flags & CDEV_NONBLOCK);
    }
    return r->size > CDEV_RW_MAX ? -LX_EINVAL : 0;
}

/* Read, write, ioctl: the requests that may be suspended. */
static void transfer(const message_t *m)
{
    struct chardriver_req r;
    int64_t res = decode(m, &r);
    if (res == 0 && pending_find(0, r.id) >= 0)
        res = -LX_EINVAL; /* that id is still waiting (anyone's: chardriver_done goes by id) */
    /* Keep room for every DONE this request could produce (status.c). */
    if (res == 0 && (npending >= CHARDRIVER_PENDING_MAX ||
                     npending + chardriver_done_queued() >= CHARDRIVER_STATUS_MAX))
        res = -LX_EAGAIN;
    if (res == 0) {
        inflight.active = 1;
        inflight.done = 0;
        inflight.id = r.id;
        if (m->type == CDEV_READ)
            res = drv->read ? drv->read(&r) : -LX_ENOSYS;
        else if (m->type == CDEV_WRITE)
            res = drv->write ? drv->write(&r) : -LX_ENOSYS;
        else
            res = drv->ioctl ? drv->ioctl(&r) : -LX_ENOTTY;
        inflight.active = 0;
        if (res == CDEV_SUSPENDED && inflight.done) /* finished already: reply now */
            res = inflight.result == CDEV_SUSPENDED ? -LX_EIO : inflight.result;
        else if (res == CDEV_SUSPENDED)
            pending_add(&r);
    }
    reply(m->source, res);
}

static void cancel(const message_t *m)
{
    int64_t res;
    uint64_t id = m->u.cdev.cancel.id;
    int i = pending_find(m->source, id);
    if (i >= 0) {
        res = drv->cancel ? drv->cancel(pending[i].minor, m->source, id) : -LX_EINTR;
        if (res == CDEV_SUSPENDED)
            res = -LX_EINTR;
        pending_remove(i);
    } else if (!chardriver_take_done(m->source, id, &res)) {
        res = -LX_EINVAL; /* nothing of that id is waiting */
    }
    reply(m->source, res);
}

/* A client died with requests suspended here (a vfs rs restarted): they are cancelled, so that
 * none of them takes input meant for its successor's requests. */
void chardriver_forget(endpoint_t dead)
{
    for (int i = 0; i < CHARDRIVER_PENDING_MAX; i++)
        if (pending[i].source == dead) {
            if (drv->cancel)
                drv->cancel(pending[i].minor, dead, pending[i].id);
            pending_remove(i);
        }
}

static void select(const message_t *m)
{
    const struct msg_cdev_select *q = &m->u.cdev.select;
    if (q->minor >= (uint64_t)drv->minors) {
        reply(m->source, -LX_ENXIO);
        return;
    }
    int minor = (int)q->minor;
    unsigned ops = (unsigned)(q->ops & (SEL_RD | SEL_WR | SEL_ERR));
    unsigned ready = (drv->select ? drv->select(minor, ops) : SEL_RD | SEL_WR) & ops;
    if (!ready && ops && q->notify)
        ready = chardriver_watch(m->source, minor, ops);
    reply(m->source, ready);
}

static void request(const message_t *m)
{
    int64_t res;
    switch (m->type) {
    case CDEV_OPEN: {
        const struct msg_cdev_open *q = &m->u.cdev.open;
        if (q->minor >= (uint64_t)drv->minors) {
            res = -LX_ENXIO;
        } else {
            chardriver_set_owner(m->source); /* signals go to the opener (vfs) */
            res = drv->open ? drv->open((int)q->minor, (uint32_t)q->flags, m->source) : 0;
        }
        reply(m->source, res);
        break;
    }
    case CDEV_CLOSE:
        if (m->u.cdev.close.minor >= (uint64_t)drv->minors)
            res = -LX_ENXIO;
        else
            res = drv->close ? drv->close((int)m->u.cdev.close.minor) : 0;
        reply(m->source, res);
        break;
    case CDEV_READ:
    case CDEV_WRITE:
    case CDEV_IOCTL:
        transfer(m);
        break;
    case CDEV_CANCEL:
        cancel(m);
        break;
    case CDEV_SELECT:
        select(m);
        break;
    case CDEV_STATUS:
        chardriver_status_reply(m->source);
        break;
    case CDEV_MAILBOX:
        reply(m->source, chardriver_set_mailbox(m->source, grant_of(m->u.cdev.mailbox.grant),
                                                m->u.cdev.mailbox.size));
        break;
    default:
        if (drv->other)
            drv->other(m);
        else
            reply(m->source, -LX_ENOSYS);
    }
}

/*
 * Tell vfs we are ready: publish NAME.dev in ds (a key only this service
 * may write). vfs binds the majors our manifest names to this instance
 * (servers/vfs/dmap.c). A boot without ds (a driver's own test) has no vfs
 * either: nothing to tell.
 */
static void announce(void)
{
    char key[DS_KEY_MAX];
    snprintf_s(key, sizeof(key), "%s.dev", drv->name);
    int r = ds_publish_u64(key, 1, DS_OVERWRITE);
    if (r < 0 && r != -E_SRCH)
        printf("%s: cannot announce itself in ds (%s): vfs finds it when it is used\n", drv->name,
               strerror_s(r));
}

_Noreturn void chardriver_task(const struct chardriver *driver)
{
    drv = driver;
    announce();
    for (;;) {
        message_t m;
        if (!driver_receive(drv->name, &m, drv->interrupt, drv->alarm))
            continue; /* a notification from the kernel, handed on */
        if (drv->serve && m.type != MSG_NOTIFY && !IS_CDEV_RQ(m.type)) {
            drv->serve(&m); /* the server's own protocol: it checks the sender */
        } else if (m.source <= 0 || !is_client(m.source)) {
            refuse(&m);
        } else if (m.type == MSG_NOTIFY) {
            chardriver_mailbox_room(m.source); /* it took items: write the ones kept back */
        } else {
            request(&m);
        }
    }
}
