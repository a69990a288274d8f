/*
 * POSIX message queues (mq_open, mq_unlink, mq_timedsend, mq_timedreceive,
 * mq_notify, mq_getsetattr), served by vfs because a queue's descriptor is a
 * descriptor like any other: close, dup, fork and exec (mq_open's descriptors
 * are close-on-exec, as Linux's), O_NONBLOCK, poll and select. A queue is a
 * name in one flat namespace (Linux's mqueue file system without its mount),
 * an owner and mode, its limits, and its messages in vfs's arena, kept in
 * priority order (highest first, first come within one priority). An open
 * queue is a vnode of no file system (type bits 0) pointing at it. A send to
 * a full queue or a receive from an empty one waits as a pipe does (WAIT_MQ:
 * rerun when any queue changes, until its deadline, or EINTR for a signal).
 * Limits and errors are Linux 6.1's defaults (docs/IPC-SYSV.md, section 10).
 */
#include "arena/arena.h"
#include "vfs.h"

#define MQ_MSG_MAX 10        /* msg_max (and msg_default): EINVAL above, unless root */
#define MQ_MSGSIZE_MAX 8192  /* msgsize_max (and msgsize_default) */
#define MQ_HARD_MSGMAX 65536 /* root's limits */
#define MQ_HARD_MSGSIZEMAX (16u << 20)
#define MQ_PRIO_MAX 32768
#define MQ_RLIMIT_BYTES 819200 /* RLIMIT_MSGQUEUE's default: a user's queues' bytes (EMFILE) */
#define MQ_NODE_BYTES 96       /* Linux's per-message charge: msg_msg and a tree node */
#define SIGEV_SIGNAL 0
#define SIGEV_NONE 1
#define SIGEV_THREAD 2
#define LX_NSIG 64

struct mq_attr_l { /* Linux's struct mq_attr */
    int64_t flags, maxmsg, msgsize, curmsgs, reserved[4];
};

/* The queues and their messages' arena are in the state region (keep.c): every store to a
 * queue or a message's link is logged first (mq_store). The arena's own headers are not: a new
 * instance copies the messages it can reach into an arena of its own set (mq_take), and a free
 * leaves a message's bytes as they were, so a receive undone finds its message whole. */
static struct arena mq_arena;

static struct mqueue *mq_store(struct mqueue *q)
{
    keep_log(q, sizeof(*q));
    return q;
}

/* mq_open's and mq_unlink's name, as the kernel gets it (musl drops the leading '/'). */
static int64_t mq_name(struct vproc *p, uint64_t uaddr, char *name)
{
    static char path[PATH_MAX];
    int r = copy_path(p, uaddr, path);
    if (r < 0)
        return r;
    size_t len = strlen(path), slash = 0;
    while (slash < len && path[slash] != '/')
        slash++;
    if (!len)
        return -LX_ENOENT; /* Linux 6.1's getname */
    if (!strcmp(path, ".") || !strcmp(path, "..") || slash < len)
        return -LX_EACCES; /* its lookup_one_len */
    if (len > MQ_NAME_MAX)
        return -LX_ENAMETOOLONG;
    memcpy(name, path, len + 1);
    return 0;
}

static struct mqueue *mq_find(const char *name)
{
    for (int i = 0; i < NR_MQUEUES; i++)
        if (tab->mqueues[i].used && tab->mqueues[i].linked && !strcmp(tab->mqueues[i].name, name))
            return &tab->mqueues[i];
    return 0;
}

/* The queue's owner and mode as a vnode, for perm_check. */
static int mq_perm(const struct vproc *p, const struct mqueue *q, int want)
{
    struct vnode v = {.mode = S_IFREG | q->mode, .uid = q->uid, .gid = q->gid};
    return perm_check(p, &v, want);
}

/* Gone when unlinked and closed: its messages freed, its bytes given back. */
static void mq_maybe_free(struct mqueue *q)
{
    if (q->linked || q->opens)
        return;
    mq_store(q);
    while (q->head) {
        struct mq_msg *m = q->head;
        q->head = m->next;
        arena_free(m);
    }
    q->used = 0;
}

/* Linux's mq_attr_ok and the user's RLIMIT_MSGQUEUE: the bytes to charge, or -errno. */
static int64_t mq_charge(const struct vproc *p, const struct mq_attr_l *at)
{
    int root = p->cred.euid == 0;
    if (at->maxmsg <= 0 || at->msgsize <= 0)
        return -LX_EINVAL;
    if (root ? at->maxmsg > MQ_HARD_MSGMAX || at->msgsize > MQ_HARD_MSGSIZEMAX
             : at->maxmsg > MQ_MSG_MAX || at->msgsize > MQ_MSGSIZE_MAX)
        return -LX_EINVAL;
    /* both below 2^25: no overflow */
    uint64_t bytes = (uint64_t)at->maxmsg * ((uint64_t)at->msgsize + MQ_NODE_BYTES), used = 0;
    for (int i = 0; i < NR_MQUEUES; i++)
        if (tab->mqueues[i].used && tab->mqueues[i].charged == p->cred.ruid)
            used += tab->mqueues[i].charge;
    return used + bytes > MQ_RLIMIT_BYTES ? -LX_EMFILE : (int64_t)bytes;
}

static int64_t mq_create(struct vproc *p, const char *name, uint64_t mode,
                         const struct mq_attr_l *at, struct mqueue **out)
{
    int64_t charge = mq_charge(p, at);
    if (charge < 0)
        return charge;
    int n = 0, slot = -1;
    for (int i = 0; i < NR_MQUEUES; i++) {
        n += tab->mqueues[i].used;
        slot = slot < 0 && !tab->mqueues[i].used ? i : slot;
    }
    if (slot < 0 || (n >= NR_MQUEUES && p->cred.euid != 0))
        return -LX_ENOSPC;
    struct mqueue *q = mq_store(&tab->mqueues[slot]);
    *q = (struct mqueue){.used = 1,
                         .linked = 1,
                         .uid = p->cred.fsuid,
                         .gid = p->cred.fsgid,
                         .mode = (uint32_t)(mode & ~(uint64_t)p->files->umask & 0777),
                         .maxmsg = (uint64_t)at->maxmsg,
                         .msgsize = (uint64_t)at->msgsize,
                         .charge = (uint64_t)charge,
                         .charged = p->cred.ruid};
    memcpy(q->name, name, strlen(name) + 1);
    *out = q;
    return 0;
}

/* mq_open(name, oflag, mode, attr): a close-on-exec descriptor of the queue. */
int64_t do_mq_open(struct vproc *p, const uint64_t *a)
{
    static char name[MQ_NAME_MAX + 1];
    uint64_t flags = a[1];
    struct mq_attr_l at = {.maxmsg = MQ_MSG_MAX, .msgsize = MQ_MSGSIZE_MAX};
    if (a[3] && copy_in(p, a[3], &at, sizeof(at)) < 0)
        return -LX_EFAULT;
    int64_t r = mq_name(p, a[0], name);
    if (r < 0)
        return r;
    struct mqueue *q = mq_find(name);
    if (q && (flags & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL))
        return -LX_EEXIST;
    if ((flags & O_ACCMODE) == O_ACCMODE)
        return -LX_EINVAL;
    static const int wants[3] = {MAY_READ, MAY_WRITE, MAY_READ | MAY_WRITE};
    if (q && mq_perm(p, q, wants[flags & O_ACCMODE]) < 0)
        return -LX_EACCES;
    if (!q && !(flags & O_CREAT))
        return -LX_ENOENT;
    int created = !q;
    if (!q && (r = mq_create(p, name, a[2], &at, &q)) < 0)
        return r;
    struct vnode *v = vnode_get(NONE, 0, q->mode, 0);
    struct file *f = v ? file_new(v, (uint32_t)(flags & (O_ACCMODE | O_NONBLOCK))) : 0;
    int fd = f ? fd_install(p, f, 0, 1) : -LX_ENFILE;
    if (fd < 0) {
        if (f)
            f->refs = 0;
        if (v)
            v->refs = 0;
        mq_store(q)->linked = !created; /* a queue made for nothing goes again */
        mq_maybe_free(q);
        return fd == -LX_EMFILE ? fd : -LX_ENFILE;
    }
    v->mq = q;
    v->uid = q->uid;
    v->gid = q->gid;
    mq_store(q)->opens++;
    return fd;
}

int64_t do_mq_unlink(struct vproc *p, const uint64_t *a)
{
    static char name[MQ_NAME_MAX + 1];
    int64_t r = mq_name(p, a[0], name);
    if (r < 0)
        return r;
    struct mqueue *q = mq_find(name);
    if (!q)
        return -LX_ENOENT;
    if (p->cred.fsuid != 0 && p->cred.fsuid != q->uid)
        return -LX_EPERM; /* the sticky directory's rule: the owner or root */
    mq_store(q)->linked = 0;
    mq_maybe_free(q);
    return 0;
}

/* The queue behind descriptor fd, for access (MAY_READ or MAY_WRITE; 0: any), else EBADF. */
static struct mqueue *mq_file(struct vproc *p, uint64_t fd, int access, struct file **fp)
{
    struct file *f = fd_file(p, (int)fd); /* an int: the high half is ignored */
    if (!f || !f->vn->mq)
        return 0;
    uint32_t mode = f->flags & O_ACCMODE;
    if ((access == MAY_READ && mode == O_WRONLY) || (access == MAY_WRITE && mode == 0))
        return 0;
    *fp = f;
    return f->vn->mq;
}

/*
 * The absolute CLOCK_REALTIME timeout at uaddr (0: none) as a tick deadline
 * (*deadline 0: for ever): EINVAL for a negative field or nanoseconds past a
 * second, EFAULT. A time already past gives a deadline of 1 (passed).
 */
static int64_t mq_deadline(struct vproc *p, uint64_t uaddr, uint64_t *deadline)
{
    int64_t ts[2];
    *deadline = 0;
    if (!uaddr)
        return 0;
    if (copy_in(p, uaddr, ts, sizeof(ts)) < 0)
        return -LX_EFAULT;
    if (ts[0] < 0 || ts[1] < 0 || ts[1] >= 1000000000)
        return -LX_EINVAL;
    uint64_t boot_ms = sys_boottime() * 1000;
    if ((uint64_t)ts[0] > 1000000000000ull) /* over 30,000 years: for ever */
        return 0;
    uint64_t at_ms = (uint64_t)ts[0] * 1000 + ((uint64_t)ts[1] + 999999) / 1000000;
    *deadline = at_ms > boot_ms ? at_ms - boot_ms : 1;
    return 0;
}

/* The call must wait: EAGAIN if non-blocking, ETIMEDOUT past its deadline, else suspended. */
static int64_t mq_wait(struct vproc *p, struct file *f, uint64_t deadline)
{
    if (f->flags & O_NONBLOCK)
        return -LX_EAGAIN;
    if (deadline && sys_uptime() >= deadline)
        return -LX_ETIMEDOUT;
    p->deadline = deadline;
    suspend(p, WAIT_MQ);
    timers_arm();
    return SUSPEND;
}

/* Someone waits to receive from q (then no notification is sent, as Linux). */
static int mq_receiver_waits(const struct mqueue *q)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *w = vproc_by_index(i);
        struct file *f;
        if (w && w->wait == WAIT_MQ && w->call.u.lx.nr == LX_mq_timedreceive &&
            mq_file(w, w->call.u.lx.arg[0], MAY_READ, &f) == q)
            return 1;
    }
    return 0;
}

/* mq_timedsend(fd, msg, len, prio, abs_timeout) */
int64_t do_mq_timedsend(struct vproc *p, const uint64_t *a)
{
    uint64_t deadline;
    struct file *f;
    uint32_t prio = (uint32_t)a[3]; /* an unsigned int */
    if (prio >= MQ_PRIO_MAX)
        return -LX_EINVAL;
    int64_t r = mq_deadline(p, a[4], &deadline);
    if (r < 0)
        return r;
    struct mqueue *q = mq_file(p, a[0], MAY_WRITE, &f);
    if (!q)
        return -LX_EBADF;
    if (a[2] > q->msgsize)
        return -LX_EMSGSIZE;
    if (q->curmsgs >= q->maxmsg)
        return mq_wait(p, f, deadline);
    struct mq_msg *m = arena_alloc(&mq_arena, sizeof(*m) + a[2]);
    if (!m)
        return -LX_ENOMEM;
    if (copy_in(p, a[1], m->data, a[2]) < 0) {
        arena_free(m);
        return -LX_EFAULT;
    }
    m->len = a[2];
    m->prio = prio;
    struct mq_msg **at = &q->head;
    while (*at && (*at)->prio >= prio)
        at = &(*at)->next;
    m->next = *at;
    keep_log(at, sizeof(*at));
    *at = m;
    if (++mq_store(q)->curmsgs == 1 && q->notify_ep && !mq_receiver_waits(q)) {
        if (q->notify_kind == SIGEV_SIGNAL && q->notify_sig)
            signal_queue_info(VFS_SIG_MESGQ, q->notify_ep, q->notify_sig, p->pid,
                              (int)p->cred.ruid);
        q->notify_ep = 0; /* one notification per registration */
    }
    wakeup_pipes(); /* receivers, pollers */
    return 0;
}

/* mq_timedreceive(fd, buf, len, prio*, abs_timeout): the message's length. */
int64_t do_mq_timedreceive(struct vproc *p, const uint64_t *a)
{
    uint64_t deadline;
    struct file *f;
    int64_t r = mq_deadline(p, a[4], &deadline);
    if (r < 0)
        return r;
    struct mqueue *q = mq_file(p, a[0], MAY_READ, &f);
    if (!q)
        return -LX_EBADF;
    if (a[2] < q->msgsize)
        return -LX_EMSGSIZE;
    struct mq_msg *m = q->head;
    if (!m)
        return mq_wait(p, f, deadline);
    uint32_t prio = m->prio;
    if (copy_out(p, a[1], m->data, m->len) < 0 || (a[3] && copy_out(p, a[3], &prio, 4) < 0))
        return -LX_EFAULT; /* the message stays (Linux loses it) */
    mq_store(q)->head = m->next;
    q->curmsgs--;
    r = (int64_t)m->len;
    arena_free(m);
    wakeup_pipes(); /* senders, pollers */
    return r;
}

/* mq_notify(fd, sigevent*): one process at a time is told of a message in an empty queue. */
int64_t do_mq_notify(struct vproc *p, const uint64_t *a)
{
    struct {
        uint64_t value;
        int32_t signo, notify;
        uint8_t rest[48];
    } ev;
    if (a[1] && copy_in(p, a[1], &ev, sizeof(ev)) < 0)
        return -LX_EFAULT;
    if (a[1] && ev.notify != SIGEV_SIGNAL && ev.notify != SIGEV_NONE && ev.notify != SIGEV_THREAD)
        return -LX_EINVAL;
    if (a[1] && ev.notify == SIGEV_SIGNAL && (ev.signo < 0 || ev.signo > LX_NSIG))
        return -LX_EINVAL;
    if (a[1] && ev.notify == SIGEV_THREAD)
        return -LX_ENOSYS; /* needs a netlink socket (musl makes one first: it fails there) */
    struct file *f;
    struct mqueue *q = mq_file(p, a[0], 0, &f);
    if (!q)
        return -LX_EBADF;
    if (!a[1]) {
        if (q->notify_ep && q->notify_pid == p->pid)
            mq_store(q)->notify_ep = 0;
        return 0;
    }
    if (q->notify_ep)
        return -LX_EBUSY;
    mq_store(q)->notify_ep = p->ep;
    q->notify_pid = p->pid;
    q->notify_sig = ev.signo;
    q->notify_kind = ev.notify;
    return 0;
}

/* mq_getsetattr(fd, new*, old*): only O_NONBLOCK can be changed. */
int64_t do_mq_getsetattr(struct vproc *p, const uint64_t *a)
{
    struct mq_attr_l in, out = {0};
    struct file *f;
    if (a[1] && copy_in(p, a[1], &in, sizeof(in)) < 0)
        return -LX_EFAULT;
    if (a[1] && (in.flags & ~(int64_t)O_NONBLOCK))
        return -LX_EINVAL;
    struct mqueue *q = mq_file(p, a[0], 0, &f);
    if (!q)
        return -LX_EBADF;
    out = (struct mq_attr_l){.flags = f->flags & O_NONBLOCK,
                             .maxmsg = (int64_t)q->maxmsg,
                             .msgsize = (int64_t)q->msgsize,
                             .curmsgs = (int64_t)q->curmsgs};
    if (a[2] && copy_out(p, a[2], &out, sizeof(out)) < 0)
        return -LX_EFAULT;
    if (a[1]) {
        keep_log(&f->flags, sizeof(f->flags));
        f->flags = (f->flags & ~(uint32_t)O_NONBLOCK) | (uint32_t)(in.flags & O_NONBLOCK);
    }
    return 0;
}

/* read(2) of a queue's descriptor: Linux's status line, from the file position on. */
int64_t mq_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len)
{
    const struct mqueue *q = f->vn->mq;
    char text[96];
    uint64_t bytes = 0;
    for (const struct mq_msg *m = q->head; m; m = m->next)
        bytes += m->len;
    int on = q->notify_ep != 0;
    uint64_t n = (uint64_t)snprintf_s(
        text, sizeof(text), "QSIZE:%-10lu NOTIFY:%-5d SIGNO:%-5d NOTIFY_PID:%-6d\n", bytes,
        on ? q->notify_kind : 0, on ? q->notify_sig : 0, on ? q->notify_pid : 0);
    if (f->pos >= n)
        return 0;
    n = n - f->pos < len ? n - f->pos : len;
    if (copy_out(p, uaddr, text + f->pos, n) < 0)
        return -LX_EFAULT;
    f->pos += n;
    return (int64_t)n;
}

/* poll and select: readable with a message, writable with room. */
int mq_ready(struct file *f, int ops)
{
    const struct mqueue *q = f->vn->mq;
    return (q->curmsgs ? ops & SEL_RD : 0) | (q->curmsgs < q->maxmsg ? ops & SEL_WR : 0);
}

/* p closes a descriptor of the queue: its notification goes (Linux's mqueue_flush_file). */
void mq_closed(struct vproc *p, struct file *f)
{
    struct mqueue *q = f->vn->mq;
    if (q->notify_ep && q->notify_pid == p->pid)
        mq_store(q)->notify_ep = 0;
}

/* The last file of the queue is gone. */
void mq_release(struct file *f)
{
    struct mqueue *q = f->vn->mq;
    mq_store(q)->opens--;
    mq_maybe_free(q);
}

/*
 * At start (keep.c): the arena in the live set; after a restart that kept the tables, the last
 * instance's queues (old) that are named or open, each in its slot, with the messages of its
 * list that lie in the old arena (a link elsewhere, a length past the queue's message size or a
 * list longer than the queue's limit ends it there). Opens are counted again as the queues'
 * files are taken over (keep.c: file_take).
 */
void mq_take(const struct tables *old)
{
    mq_arena = (struct arena){tab->mq_heap, sizeof(tab->mq_heap), 0};
    uintptr_t lo = old ? (uintptr_t)old->mq_heap : 0, hi = lo + sizeof(old->mq_heap);
    for (int i = 0; old && i < NR_MQUEUES; i++) {
        const struct mqueue *oq = &old->mqueues[i];
        if (!oq->used || (!oq->linked && !oq->opens) || oq->maxmsg > MQ_HARD_MSGMAX)
            continue;
        struct mqueue *q = &tab->mqueues[i];
        *q = *oq;
        q->name[MQ_NAME_MAX] = '\0';
        q->opens = 0;
        q->head = 0;
        q->curmsgs = 0;
        struct mq_msg **at = &q->head;
        for (const struct mq_msg *om = oq->head; om && q->curmsgs < q->maxmsg; om = om->next) {
            uintptr_t a = (uintptr_t)om;
            if (a < lo || a > hi - sizeof(*om) || a % 8 || om->len > q->msgsize ||
                om->len > hi - a - sizeof(*om))
                break;
            struct mq_msg *m = arena_alloc(&mq_arena, sizeof(*m) + om->len);
            if (!m)
                break;
            memcpy(m, om, sizeof(*m) + om->len);
            m->next = 0;
            *at = m;
            at = &m->next;
            q->curmsgs++;
        }
    }
}

/* The queue of the new set in old queue oq's slot, if it was taken over (keep.c). */
struct mqueue *mq_of_old(const struct tables *old, const struct mqueue *oq)
{
    uintptr_t a = (uintptr_t)oq, b = (uintptr_t)old->mqueues;
    if (a < b || (a - b) % sizeof(*oq) || (a - b) / sizeof(*oq) >= NR_MQUEUES)
        return 0;
    struct mqueue *q = &tab->mqueues[(a - b) / sizeof(*oq)];
    return q->used ? q : 0;
}
