/*
 * signalfd: a descriptor (a vnode of no file system, type bits 0) with a
 * signal mask, from which a process reads struct signalfd_siginfo for its
 * pending signals of the mask. pm keeps the signals, and vfs never calls pm
 * (pm calls vfs), so a read queues a request for pm to pull (VFS_SIG_TAKE,
 * or VFS_SIG_TRY when non-blocking: the reader and the mask) and waits
 * (WAIT_SIGFD); pm answers with VFS_PM_SIGINFO: a signal it took, or none
 * (then a non-blocking read fails with EAGAIN, a blocking one waits on and pm
 * sends the first signal of the mask that comes). A signal that finds no
 * read waiting any more is refused, and pm makes it pending again. One
 * signal per read (Linux fills the buffer with as many as fit).
 * docs/USERLAND.md, section 3 ("signalfd").
 */
#include "vfs.h"

#define SFD_NONBLOCK O_NONBLOCK
#define SFD_CLOEXEC O_CLOEXEC
#define UNBLOCKABLE ((1ull << 8) | (1ull << 18)) /* SIGKILL, SIGSTOP */

struct signalfd_siginfo_l { /* Linux's struct signalfd_siginfo: 128 bytes */
    uint32_t signo;
    int32_t errno_, code;
    uint32_t pid, uid;
    int32_t fd;
    uint32_t tid, band, overrun, trapno;
    int32_t status, int_;
    uint64_t ptr, utime, stime, addr;
    uint16_t addr_lsb;
    uint8_t pad[46];
};
_Static_assert(sizeof(struct signalfd_siginfo_l) == 128, "struct signalfd_siginfo");

/* signalfd4(fd, mask*, sizemask, flags): a new descriptor (fd -1), or fd's mask replaced. */
int64_t do_signalfd4(struct vproc *p, const uint64_t *a)
{
    uint64_t mask;
    int fd = (int)a[0];
    if (a[3] & ~(uint64_t)(SFD_NONBLOCK | SFD_CLOEXEC))
        return -LX_EINVAL;
    if (a[2] != sizeof(mask))
        return -LX_EINVAL;
    if (copy_in(p, a[1], &mask, sizeof(mask)) < 0)
        return -LX_EFAULT;
    mask &= ~UNBLOCKABLE;
    if (fd != -1) {
        struct file *f = fd_file(p, fd);
        if (!f)
            return -LX_EBADF;
        if (!f->vn->sigfd)
            return -LX_EINVAL;
        f->vn->sigmask = mask;
        return fd;
    }
    struct vnode *v = vnode_get(NONE, 0, 0600, 0);
    struct file *f = v ? file_new(v, O_RDWR | (a[3] & SFD_NONBLOCK)) : 0;
    fd = f ? fd_install(p, f, 0, a[3] & SFD_CLOEXEC) : -LX_ENFILE;
    if (fd < 0) {
        if (f)
            f->refs = 0;
        if (v)
            v->refs = 0;
        return fd;
    }
    v->sigfd = 1;
    v->sigmask = mask;
    v->uid = p->cred.fsuid;
    v->gid = p->cred.fsgid;
    return fd;
}

/* signalfd(fd, mask*, sizemask): signalfd4 without flags. */
int64_t do_signalfd(struct vproc *p, const uint64_t *a)
{
    return do_signalfd4(p, (const uint64_t[]){a[0], a[1], a[2], 0});
}

/* A read of a signalfd: ask pm, and wait for its VFS_PM_SIGINFO. */
int64_t sigfd_read(struct vproc *p, struct file *f, uint64_t len)
{
    if (len < sizeof(struct signalfd_siginfo_l))
        return -LX_EINVAL;
    signal_queue(f->flags & O_NONBLOCK ? VFS_SIG_TRY : VFS_SIG_TAKE, p->ep,
                 (int64_t)f->vn->sigmask);
    suspend(p, WAIT_SIGFD);
    return SUSPEND;
}

/* VFS_PM_SIGINFO: pm's answer to a read's request, or a signal that came for it later. */
int64_t sigfd_answer(const struct msg_vfs_pm_siginfo *in)
{
    struct vproc *p = vproc_of(in->ep);
    if (!p || p->wait != WAIT_SIGFD)
        return -LX_ESRCH; /* the read ended (EINTR, death): pm keeps the signal */
    const uint64_t *a = p->call.u.lx.arg;
    struct file *f = fd_file(p, (int)a[0]);
    if (!in->signo) { /* none pending */
        if (f && !(f->flags & O_NONBLOCK))
            return 0; /* pm sends the first that comes */
        p->wait = WAIT_NONE;
        reply(p->ep, -LX_EAGAIN);
        return 0;
    }
    struct signalfd_siginfo_l si = {.signo = (uint32_t)in->signo,
                                    .code = in->code,
                                    .pid = (uint32_t)in->pid,
                                    .uid = (uint32_t)in->uid,
                                    .status = in->status};
    uint64_t buf = p->call.u.lx.nr == LX_readv ? 0 : a[1];
    if (p->call.u.lx.nr == LX_readv && copy_in(p, a[1], &buf, sizeof(buf)) < 0)
        buf = 0;
    if (!buf || copy_out(p, buf, &si, sizeof(si)) < 0) {
        p->wait = WAIT_NONE;
        reply(p->ep, -LX_EFAULT);
        return -LX_EFAULT; /* not taken: pending again */
    }
    p->wait = WAIT_NONE;
    reply(p->ep, sizeof(si));
    return 0;
}
