/*
 * Pipes: a ring buffer inside vfs between a read end and a write end.
 * A read with nothing buffered waits (unless O_NONBLOCK) while writers
 * exist and returns 0 when none are left. A write (pipe_write, Linux's
 * rules) of at most PIPE_BUF bytes goes in whole or waits for room; a
 * larger one goes in as room comes and, blocking, returns only when all of
 * it is in (p->done counts across the waits), or a signal ends it with the
 * count so far (cancel_call); non-blocking, it takes what fits. With no
 * reader left a write fails with EPIPE (and a SIGPIPE for the writer,
 * through pm), or returns what it had written.
 */
#include "vfs.h"

#define SIGPIPE 13

static int pipe_free(int i)
{
    return !tab->pipes[i].in_use;
}

int pipe_create(struct vproc *p, int fds[2], uint32_t flags)
{
    int i = table_take(NR_PIPES, pipe_free, PIPES_FOR_ROOT);
    if (i < 0)
        return -LX_ENFILE;
    struct pipe *pp = &tab->pipes[i];
    struct vnode *v = vnode_get(NONE, 0, S_IFIFO | 0600, 0);
    if (!v)
        return -LX_ENFILE;
    v->uid = p->cred.fsuid; /* fstat shows the creator */
    v->gid = p->cred.fsgid;
    vnode_hold(v); /* one reference per end */
    struct file *r = file_new(v, 0 | (flags & O_NONBLOCK));
    struct file *w = r ? file_new(v, O_WRONLY | (flags & O_NONBLOCK)) : 0;
    if (!w) {
        if (r)
            r->refs = 0;
        v->refs = 0;
        return -LX_ENFILE;
    }
    *pp = (struct pipe){.in_use = 1, .readers = 1, .writers = 1};
    v->pipe = pp;
    fds[0] = fd_install(p, r, 0, flags & O_CLOEXEC);
    fds[1] = fds[0] < 0 ? -1 : fd_install(p, w, 0, flags & O_CLOEXEC);
    if (fds[1] < 0) {
        if (fds[0] >= 0)
            fd_close(p, fds[0]);
        else
            file_put(r);
        file_put(w);
        return -LX_EMFILE;
    }
    return 0;
}

int64_t pipe_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len)
{
    struct pipe *pp = f->vn->pipe;
    if (!len)
        return 0;
    if (!pp->ring.count) {
        if (!pp->writers)
            return 0;
        if (f->flags & O_NONBLOCK)
            return -LX_EAGAIN;
        suspend(p, WAIT_PIPE_READ);
        return SUSPEND;
    }
    uint64_t n = len < pp->ring.count ? len : pp->ring.count;
    if (ring_copy(&pp->ring, p, 0, uaddr, n, 0) < n)
        return -LX_EFAULT; /* nothing consumed */
    ring_consume(&pp->ring, n);
    wakeup_pipes();
    return (int64_t)n;
}

/* Copy n bytes, from `skip` bytes into the vectors (address, length pairs) on, into the ring
 * after its data; what moved before a fault. */
static uint64_t pipe_gather(struct pipe *pp, struct vproc *p, const uint64_t *iov, uint64_t count,
                            uint64_t skip, uint64_t n)
{
    uint64_t moved = 0;
    for (uint64_t i = 0; i < count && moved < n; i++) {
        uint64_t len = iov[2 * i + 1];
        if (skip >= len) {
            skip -= len;
            continue;
        }
        uint64_t take = len - skip < n - moved ? len - skip : n - moved;
        uint64_t got = ring_copy(&pp->ring, p, moved, iov[2 * i] + skip, take, 1);
        moved += got;
        if (got < take)
            break;
        skip = 0;
    }
    return moved;
}

/*
 * Write the vectors' bytes (count address, length pairs, already checked by
 * rw_check) to the pipe; whole: a write(2) or writev(2), which waits until
 * every byte is in; else (sendfile) what fits, waiting only while nothing does.
 */
int64_t pipe_write(struct vproc *p, struct file *f, const uint64_t *iov, uint64_t count, int whole)
{
    struct pipe *pp = f->vn->pipe;
    uint64_t total = 0;
    if (!(f->flags & O_ACCMODE))
        return -LX_EBADF;
    for (uint64_t i = 0; i < count && total < MAX_RW_COUNT; i++)
        total += iov[2 * i + 1] < MAX_RW_COUNT - total ? iov[2 * i + 1] : MAX_RW_COUNT - total;
    uint64_t done = whole ? p->done : 0;
    if (!pp->readers) {
        signal_queue(VFS_SIG_PROC, p->ep, SIGPIPE); /* also after a part: Linux's pipe_write */
        return done ? (int64_t)done : -LX_EPIPE;
    }
    if (done >= total) /* nothing (left) to write; the vectors may have shrunk meanwhile */
        return (int64_t)done;
    uint64_t space = ring_space(&pp->ring), left = total - done;
    if (space < (total <= PIPE_BUF ? total : 1)) { /* PIPE_BUF bytes or fewer go in whole */
        if (f->flags & O_NONBLOCK)
            return done ? (int64_t)done : -LX_EAGAIN;
        suspend(p, WAIT_PIPE_WRITE);
        return SUSPEND;
    }
    uint64_t n = pipe_gather(pp, p, iov, count, done, left < space ? left : space);
    ring_commit(&pp->ring, n);
    if (n)
        wakeup_pipes();
    done += n;
    if (!n || n < (left < space ? left : space)) /* a fault: what arrived before it stays */
        return done ? (int64_t)done : -LX_EFAULT;
    if (whole && done < total && !(f->flags & O_NONBLOCK)) {
        p->done = done; /* the rest when the reader makes room */
        suspend(p, WAIT_PIPE_WRITE);
        return SUSPEND;
    }
    return (int64_t)done;
}

/* One open end less (flags: its access mode); the pipe is free when no end is open. A named
 * pipe's data goes with it (Linux), and its node holds no pipe until the next open. */
void pipe_drop(struct vnode *v, uint32_t flags)
{
    struct pipe *pp = v->pipe;
    keep_log(pp, sizeof(pp->in_use) + sizeof(pp->readers) + sizeof(pp->writers));
    keep_log(&v->pipe, sizeof(v->pipe));
    pp->readers -= (flags & O_ACCMODE) != O_WRONLY;
    pp->writers -= (flags & O_ACCMODE) != 0;
    if (!pp->readers && !pp->writers) {
        pp->in_use = 0;
        if (v->fs != NONE)
            v->pipe = 0;
    }
    wakeup_pipes();
}

void pipe_release(struct file *f)
{
    pipe_drop(f->vn, f->flags);
}

/* Is a process waiting to open FIFO v for reading (reads) or for writing? */
static int fifo_waiting(const struct vnode *v, int reads)
{
    for (int i = 0; i < NR_SLOTS; i++) {
        struct vproc *w = vproc_by_index(i);
        if (w && w->wait == WAIT_FIFO_OPEN && w->fifo.fs == v->fs && w->fifo.ino == v->ino &&
            w->fifo.reads == reads)
            return 1;
    }
    return 0;
}

/*
 * Open a FIFO (a node of a file system) for the access in flags, Linux's
 * rules: for reading it waits for a writer (not with O_NONBLOCK); for
 * writing it waits for a reader (O_NONBLOCK: ENXIO); O_RDWR opens at once.
 * A process waiting to open the other end counts as that end: both opens
 * then finish. The node's pipe is made at the first open. 0, SUSPEND or
 * an error; pipe_drop undoes a 0 whose file could not be made.
 */
int64_t fifo_open(struct vproc *p, struct vnode *v, uint32_t flags)
{
    uint32_t mode = flags & O_ACCMODE;
    if (mode == O_ACCMODE)
        return -LX_EINVAL; /* neither reading nor writing (Linux's fifo_open) */
    int readers = (v->pipe && v->pipe->readers) || fifo_waiting(v, 1);
    int writers = (v->pipe && v->pipe->writers) || fifo_waiting(v, 0);
    if (mode == O_WRONLY && !readers && (flags & O_NONBLOCK))
        return -LX_ENXIO;
    if ((mode == O_WRONLY && !readers) || (mode == 0 && !writers && !(flags & O_NONBLOCK))) {
        p->fifo.fs = v->fs;
        p->fifo.ino = v->ino;
        p->fifo.reads = mode == 0;
        suspend(p, WAIT_FIFO_OPEN); /* the other end's open runs this one again */
        return SUSPEND;
    }
    if (!v->pipe) {
        int i = table_take(NR_PIPES, pipe_free, PIPES_FOR_ROOT);
        if (i < 0)
            return -LX_ENFILE;
        tab->pipes[i] = (struct pipe){.in_use = 1};
        v->pipe = &tab->pipes[i];
    }
    v->pipe->readers += mode != O_WRONLY;
    v->pipe->writers += mode != 0;
    wakeup_pipes(); /* an open waiting for this end goes on */
    return 0;
}

int pipe_ready(struct file *f, int ops)
{
    struct pipe *pp = f->vn->pipe;
    int ready = 0;
    if ((ops & SEL_RD) && (pp->ring.count || !pp->writers))
        ready |= SEL_RD;
    if ((ops & SEL_WR) && (ring_space(&pp->ring) >= PIPE_BUF || !pp->readers)) /* Linux: a page */
        ready |= SEL_WR;
    return ready;
}
