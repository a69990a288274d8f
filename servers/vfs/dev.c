/*
 * Character devices: requests to the driver that serves a device (dmap.c:
 * majors 4 and 5 the tty driver, minor 0 = the console; 240 demo; 10/240
 * root's /dev/service), following the CDEV_* protocol. A request the driver
 * cannot finish at once is SUSPENDED: the caller's call waits in its process
 * entry until the driver's DONE item arrives in its status mailbox
 * (dmap.c).
 *
 * A read or write hands the driver the caller's own buffer: an indirect
 * grant with inner id GRANT_USER_MEMORY of [uaddr, uaddr+len) of the Linux
 * process (samsara/grant.h), so the bytes move once, between the driver and
 * the process, and vfs copies nothing. The grant lives as long as the
 * request: made again for a restarted driver's instance (dev_call), freed
 * when the request finishes or is cancelled (finish). There is no bound of
 * vfs's own per call, only the protocol's CDEV_RW_MAX (1 GiB): a driver copies
 * in pieces of its choosing and a cancel returns what moved. A bad buffer is
 * the driver's EFAULT when it copies (it keeps what it could not deliver: tty
 * leaves the input queued, demo does not count the read).
 *
 * An ioctl's argument, and sendfile's data (vfs's own memory, which another
 * call may reuse while the driver holds it), go through the caller's own
 * 4 KiB buffer in vfs (devbuf), since the driver reads or writes it later.
 */
#include "vfs.h"

#define DEVBUF_SIZE 4096
enum { DEV_READ = 1, DEV_WRITE, DEV_IOCTL };

static uint8_t devbuf[NR_SLOTS][DEVBUF_SIZE];
static uint64_t next_id = 1;

/* Per process: what the waiting request was, for its completion. */
static struct {
    int op;
    int bounced; /* its data is in devbuf: a read's is copied out at the end */
    endpoint_t driver;
    grant_id_t grant;
    uint64_t uaddr, len;
} pending[NR_SLOTS];

/* Request ids are unique over all drivers and requesters (docs/TTY.md). */
uint64_t dev_new_id(void)
{
    return next_id++;
}

static endpoint_t dev_driver(uint64_t rdev)
{
    return driver_endpoint(driver_for(rdev));
}

/*
 * A request's buffer as granted to the driver (g: -1 for none): [addr,
 * addr+len) of the Linux process `user`'s memory, or of vfs's own (user 0).
 */
struct dev_grant {
    grant_id_t g;
    endpoint_t user;
    uint64_t addr, len;
    uint32_t access;
};

static grant_id_t grant_make(endpoint_t driver, const struct dev_grant *dg)
{
    if (dg->user)
        return grant_alloc_indirect(driver, dg->user, GRANT_USER_MEMORY, dg->addr, dg->len,
                                    dg->access);
    return grant_alloc(driver, (const void *)dg->addr, dg->len, dg->access);
}

/* Put a read, write or ioctl request's grant in its message. */
static void set_grant(message_t *m, grant_id_t g)
{
    if (m->type == CDEV_IOCTL)
        m->u.cdev.ioctl.grant = g;
    else
        m->u.cdev.rw.grant = g;
}

/*
 * What a driver's answer (a reply's w0 or a DONE item) may be: a count,
 * CDEV_SUSPENDED, or -errno (-4095..-1). Anything else is the driver's
 * error, refused and made -EIO: a value below -4095 came out of read(2) as
 * a negative count, and vfs's own SUSPEND mark left the caller waiting for
 * a reply that nothing would send.
 */
static int64_t driver_result(endpoint_t d, int64_t r)
{
    if (r >= -4095 && r <= CDEV_SUSPENDED)
        return r;
    vfs_refuse(REFUSE_STATUS, d, "a result that is neither a count nor an errno");
    return -LX_EIO;
}

/*
 * One request to the driver at *d; the reply's w0 (driver_result), or -EIO. If the driver
 * died meanwhile (rs restarts it), the request goes once more to its new
 * instance, with a new grant for it, and *d becomes that endpoint (a cancel
 * goes nowhere new: the request died with the old one).
 */
static int64_t dev_call(endpoint_t *d, message_t *m, struct dev_grant *dg)
{
    message_t copy = *m;
    int r = driver_sendrec(*d, m);
    endpoint_t again;
    if (r == -E_DEADEP && copy.type != CDEV_CANCEL && (again = driver_restarted(*d)) > 0) {
        *d = again;
        *m = copy;
        if (dg && dg->g >= 0) {
            grant_free(dg->g);
            dg->g = grant_make(again, dg);
            set_grant(m, dg->g);
        }
        r = dg && dg->g < 0 ? -E_NOMEM : driver_sendrec(again, m);
    }
    if (r < 0)
        return -LX_EIO;
    return driver_result(*d, m->u.cdev.reply.result);
}

int dev_open(struct vproc *p, struct vnode *v, uint32_t flags)
{
    (void)p;
    endpoint_t d = dev_driver(v->rdev);
    if (d < 0)
        return -LX_ENXIO;
    message_t m = {.type = CDEV_OPEN, .u.cdev.open = {.minor = 0, .flags = flags}};
    int64_t r = dev_call(&d, &m, 0);
    return r < 0 ? (int)r : 0;
}

void dev_close(struct vnode *v)
{
    endpoint_t d = dev_driver(v->rdev);
    message_t m = {.type = CDEV_CLOSE, .u.cdev.close.minor = 0};
    if (d > 0)
        dev_call(&d, &m, 0);
}

/* Finish a device request for p with result r (copying data out if it read). */
static int64_t finish(struct vproc *p, int64_t r)
{
    int s = EP_SLOT(p->ep);
    r = driver_result(pending[s].driver, r);
    if (r > 0 && pending[s].op != DEV_IOCTL && (uint64_t)r > pending[s].len) {
        vfs_refuse(REFUSE_STATUS, pending[s].driver, "a count larger than the request's");
        r = -LX_EIO; /* the driver is wrong: nothing past what we asked for moves */
    }
    if (r > 0 && pending[s].op == DEV_READ && pending[s].bounced &&
        copy_out(p, pending[s].uaddr, devbuf[s], (uint64_t)r) < 0)
        r = -LX_EFAULT;
    if (r >= 0 && pending[s].op == DEV_IOCTL && pending[s].len &&
        copy_out(p, pending[s].uaddr, devbuf[s], pending[s].len) < 0)
        r = -LX_EFAULT;
    grant_free(pending[s].grant);
    pending[s].op = 0;
    return r;
}

/*
 * Send one request, its data granted as dg says; SUSPEND if the driver will
 * answer later. uaddr and len: the caller's buffer (for a bounced read's or
 * an ioctl's copy out, and a count's bound).
 */
static int64_t start(struct vproc *p, endpoint_t d, message_t *m, int op, uint64_t uaddr,
                     uint64_t len, struct dev_grant dg)
{
    int s = EP_SLOT(p->ep);
    if ((dg.g = grant_make(d, &dg)) < 0)
        return -LX_ENOMEM;
    uint64_t id = dev_new_id();
    if (op == DEV_IOCTL)
        m->u.cdev.ioctl.id = id;
    else
        m->u.cdev.rw.id = id;
    set_grant(m, dg.g);
    int64_t r = dev_call(&d, m, &dg);
    pending[s].op = op;
    pending[s].bounced = !dg.user;
    pending[s].driver = d;
    pending[s].grant = dg.g;
    pending[s].uaddr = uaddr;
    pending[s].len = len;
    if (r != CDEV_SUSPENDED)
        return finish(p, r);
    p->dev_id = id;
    p->dev_ep = d;
    suspend(p, WAIT_DEV);
    return SUSPEND;
}

int64_t dev_rw(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len, int write)
{
    endpoint_t d = dev_driver(f->vn->rdev);
    if (d < 0)
        return -LX_ENXIO;
    struct driver *drv = driver_for(f->vn->rdev);
    if (drv && drv->terminal && (!write || drv->tostop)) { /* a background job? (dmap.c) */
        int64_t r = terminal_job_check(p, drv, write ? SIGTTOU : SIGTTIN);
        if (r)
            return r;
    }
    uint8_t *buf = devbuf[EP_SLOT(p->ep)];
    struct dev_grant dg = {-1, p->ep, uaddr, len, write ? GRANT_READ : GRANT_WRITE};
    if (p->kernel_io) { /* vfs's own memory: a copy the driver may hold */
        len = dg.len = len < DEVBUF_SIZE ? len : DEVBUF_SIZE;
        dg.user = 0, dg.addr = (uint64_t)buf;
        if (write && copy_in(p, uaddr, buf, len) < 0)
            return -LX_EFAULT;
    } else if (len > CDEV_RW_MAX) {
        len = dg.len = CDEV_RW_MAX; /* a shorter transfer; callers loop */
    }
    message_t m = {.type = write ? CDEV_WRITE : CDEV_READ,
                   .u.cdev.rw = {.len = len, .flags = (f->flags & O_NONBLOCK) ? CDEV_NONBLOCK : 0}};
    return start(p, d, &m, write ? DEV_WRITE : DEV_READ, uaddr, len, dg);
}

/* The argument size of the terminal ioctls we know; others pass no data. */
static uint64_t ioctl_size(uint64_t req)
{
    switch (req) {
    case 0x5401:
    case 0x5402:
    case 0x5403:
    case 0x5404:
        return 36; /* TCGETS, TCSETS* */
    case 0x5413:
    case 0x5414:
        return 8; /* TIOCGWINSZ, TIOCSWINSZ */
    case 0x540F:
    case 0x5410:
    case 0x541B:
        return 4; /* TIOCGPGRP, TIOCSPGRP, FIONREAD */
    default:
        return 0;
    }
}

/*
 * An ioctl; the terminal ioctls that say whom the terminal belongs to
 * (TIOCSCTTY, TIOCSPGRP, TIOCNOTTY) are checked first and remembered after
 * (dmap.c), since vfs obeys a terminal's signals only for its foreground.
 */
int64_t dev_ioctl(struct vproc *p, struct file *f, uint64_t req, uint64_t arg)
{
    if ((f->vn->mode & S_IFMT) != S_IFCHR || DEV_MAJOR(f->vn->rdev) == DEV_MEM_MAJOR)
        return -LX_ENOTTY;
    struct driver *drv = driver_for(f->vn->rdev);
    endpoint_t d = driver_endpoint(drv);
    if (d < 0)
        return -LX_ENXIO;
    uint8_t *buf = devbuf[EP_SLOT(p->ep)];
    uint64_t size = ioctl_size(req);
    if (size && copy_in(p, arg, buf, size) < 0)
        return -LX_EFAULT;
    int64_t value = req == TIOCSPGRP ? *(int32_t *)buf : (int64_t)arg;
    int64_t r = 0;
    if (req == TIOCSPGRP || (req >= TCSETS && req <= TCSETSF) || req == TCXONC || req == TCFLSH)
        r = terminal_job_check(p, drv, SIGTTOU); /* changes made from the background */
    if (r == -LX_EIO && req == TIOCSPGRP)
        r = -LX_ENOTTY; /* an orphaned group's (Linux's tiocspgrp) */
    if (r == 0)
        r = terminal_check(p, drv, req, value);
    if (r < 0 || r == SUSPEND)
        return r;
    message_t m = {.type = CDEV_IOCTL,
                   .u.cdev.ioctl = {.request = req, .size = size, .pgrp = p->pgrp, .arg = arg}};
    struct dev_grant dg = {-1, 0, (uint64_t)buf, DEVBUF_SIZE, GRANT_READ | GRANT_WRITE};
    r = start(p, d, &m, DEV_IOCTL, arg, size, dg);
    if (r == 0)
        terminal_update(p, drv, req, value);
    if (r == 0 && drv && req >= TCSETS && req <= TCSETSF) { /* c_lflag's TOSTOP */
        drv->tostop = (*(uint32_t *)(buf + 12) & 0400) != 0;
        terminals_save();
    }
    return r;
}

int dev_ready(struct vproc *p, struct file *f, int ops, int watch)
{
    (void)p;
    endpoint_t d = dev_driver(f->vn->rdev);
    if (d < 0)
        return SEL_ERR;
    message_t m = {.type = CDEV_SELECT,
                   .u.cdev.select = {.ops = (uint64_t)ops, .notify = (uint64_t)watch}};
    int64_t r = dev_call(&d, &m, 0);
    return r < 0 ? SEL_ERR : (int)r;
}

/*
 * The final result of p's waiting request (called by wait.c for the process
 * waiting on (driver, id), and on a cancel). A suspended sendfile moves its
 * input position by what the device took.
 */
int64_t dev_finish(struct vproc *p, int64_t result)
{
    result = finish(p, result);
    return p->call.u.lx.nr == LX_sendfile ? sendfile_finish(p, result) : result;
}

/*
 * Cancel p's waiting request; its final result (-EINTR if nothing moved).
 * If the driver finished it meanwhile, its result waits in the mailbox.
 */
int64_t dev_cancel(struct vproc *p)
{
    message_t m = {.type = CDEV_CANCEL, .u.cdev.cancel.id = p->dev_id};
    endpoint_t d = p->dev_ep;
    int64_t r = dev_call(&d, &m, 0);
    if (r == -LX_EINVAL && !driver_take_done(p->dev_ep, p->dev_id, &r))
        r = -LX_EINTR; /* the driver knows nothing of it */
    return dev_finish(p, r);
}
