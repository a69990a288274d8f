/*
 * Pipes: a ring buffer inside vfs between a read end and a write end.
 * A read with nothing buffered waits (unless O_NONBLOCK) while writers
 * exist and returns 0 when none are left; a write stores what fits and
 * returns that count, waits only when nothing fits, and fails with EPIPE
 * (and a SIGPIPE for the writer, through pm) when no reader is left.
 */
#include "vfs.h"

#define SIGPIPE 13

static struct pipe pipes[NR_PIPES];

static int pipe_free(int i)
{
    return !pipes[i].in_use;
}

int pipe_create(struct vproc *p, int fds[2], uint32_t flags)
{
    int i = table_take(NR_PIPES, pipe_free, PIPES_FOR_ROOT);
    if (i < 0)
        return -LX_ENFILE;
    struct pipe *pp = &pipes[i];
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

int64_t pipe_write(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len)
{
    struct pipe *pp = f->vn->pipe;
    if (!pp->readers) {
        signal_queue(VFS_SIG_PROC, p->ep, SIGPIPE);
        return -LX_EPIPE;
    }
    if (!len)
        return 0;
    uint64_t space = ring_space(&pp->ring);
    if (!space) {
        if (f->flags & O_NONBLOCK)
            return -LX_EAGAIN;
        suspend(p, WAIT_PIPE_WRITE);
        return SUSPEND;
    }
    uint64_t n = ring_copy(&pp->ring, p, 0, uaddr, len < space ? len : space, 1);
    if (!n) /* what arrived before a fault stays: a short write */
        return -LX_EFAULT;
    ring_commit(&pp->ring, n);
    wakeup_pipes();
    return (int64_t)n;
}

void pipe_release(struct file *f)
{
    struct pipe *pp = f->vn->pipe;
    if ((f->flags & O_ACCMODE) == O_WRONLY)
        pp->writers--;
    else
        pp->readers--;
    if (!pp->readers && !pp->writers)
        pp->in_use = 0;
    wakeup_pipes();
}

int pipe_ready(struct file *f, int ops)
{
    struct pipe *pp = f->vn->pipe;
    int ready = 0;
    if ((ops & SEL_RD) && (pp->ring.count || !pp->writers))
        ready |= SEL_RD;
    if ((ops & SEL_WR) && (ring_space(&pp->ring) || !pp->readers))
        ready |= SEL_WR;
    return ready;
}
