/*
 * poll, ppoll, select and pselect6 over one engine: ask every descriptor
 * whether it is ready; if none is and time is left, suspend and run again
 * when a pipe changes, a driver reports readiness, or the deadline passes.
 * The first run of a call fixes its deadline (p->done marks later runs).
 */
#include "vfs.h"

#define POLLIN 0x001
#define POLLOUT 0x004
#define POLLERR 0x008
#define POLLHUP 0x010
#define POLLNVAL 0x020
#define POLLRDNORM 0x040
#define POLLWRNORM 0x100
#define MAX_ENTRIES 256

struct pollfd_l {
    int32_t fd;
    int16_t events, revents;
};

static int file_ready(struct vproc *p, struct file *f, int ops)
{
    uint64_t t = f->vn->mode & S_IFMT;
    if (t == S_IFIFO)
        return pipe_ready(f, ops);
    if (t == S_IFSOCK)
        return sock_ready(f, ops);
    if (t == S_IFCHR && DEV_MAJOR(f->vn->rdev) != DEV_MEM_MAJOR)
        return dev_ready(p, f, ops, 1);
    if (f->vn->mq)
        return mq_ready(f, ops);
    return ops; /* files, directories, null and zero never block */
}

/* Fix the deadline on the first run: ms < 0 waits for ever. 1 if it has passed. */
static int deadline_passed(struct vproc *p, int64_t ms)
{
    uint64_t now = sys_uptime();
    if (!p->done) {
        p->done = 1;
        p->deadline = ms < 0 ? 0 : now + (uint64_t)ms + (ms == 0 ? 0 : 1);
        if (ms == 0)
            return 1;
    }
    return p->deadline && now >= p->deadline;
}

static int64_t wait_more(struct vproc *p)
{
    suspend(p, WAIT_POLL);
    timers_arm();
    return SUSPEND;
}

static int64_t poll_common(struct vproc *p, uint64_t ufds, uint64_t n, int64_t ms)
{
    static struct pollfd_l fds[MAX_ENTRIES];
    if (n > MAX_ENTRIES)
        return -LX_EINVAL;
    if (n && copy_in(p, ufds, fds, n * sizeof(fds[0])) < 0)
        return -LX_EFAULT;
    int ready = 0;
    for (uint64_t i = 0; i < n; i++) {
        fds[i].revents = 0;
        if (fds[i].fd < 0)
            continue;
        struct file *f = fd_file(p, fds[i].fd);
        if (!f) {
            fds[i].revents = POLLNVAL;
        } else {
            int ops = ((fds[i].events & (POLLIN | POLLRDNORM)) ? SEL_RD : 0) |
                      ((fds[i].events & (POLLOUT | POLLWRNORM)) ? SEL_WR : 0);
            int r = file_ready(p, f, ops);
            fds[i].revents = (int16_t)(((r & SEL_RD) ? fds[i].events & (POLLIN | POLLRDNORM) : 0) |
                                       ((r & SEL_WR) ? fds[i].events & (POLLOUT | POLLWRNORM) : 0) |
                                       ((r & SEL_ERR) ? POLLERR : 0));
            if ((f->vn->mode & S_IFMT) == S_IFIFO && !f->vn->pipe->writers &&
                (f->flags & O_ACCMODE) != O_WRONLY)
                fds[i].revents |= POLLHUP;
            if ((f->vn->mode & S_IFMT) == S_IFSOCK && sock_hangup(f))
                fds[i].revents |= POLLHUP;
        }
        ready += fds[i].revents != 0;
    }
    if (!ready && !deadline_passed(p, ms))
        return wait_more(p);
    if (n && copy_out(p, ufds, fds, n * sizeof(fds[0])) < 0)
        return -LX_EFAULT;
    return ready;
}

int64_t do_poll(struct vproc *p, const uint64_t *a)
{
    return poll_common(p, a[0], a[1], (int32_t)a[2]);
}

/* select: the three fd_sets (bit per descriptor, up to nfds) against readiness. */
static int64_t select_common(struct vproc *p, const uint64_t *a, int64_t ms)
{
    uint64_t sets[3] = {0}, out[3] = {0};
    int nfds = (int)a[0]; /* an int in Linux's prototype */
    if (nfds < 0)
        return -LX_EINVAL;
    uint64_t n = nfds > NR_FDS ? NR_FDS : (uint64_t)nfds;
    for (int k = 0; k < 3; k++)
        if (a[1 + k] && n && copy_in(p, a[1 + k], &sets[k], (n + 7) / 8) < 0)
            return -LX_EFAULT;
    int ready = 0;
    for (uint64_t fd = 0; fd < n; fd++) {
        int ops = (int)(((sets[0] >> fd) & 1) * SEL_RD | ((sets[1] >> fd) & 1) * SEL_WR);
        if (!ops && !((sets[2] >> fd) & 1))
            continue;
        struct file *f = fd_file(p, (int)fd);
        if (!f)
            return -LX_EBADF;
        int r = file_ready(p, f, ops);
        for (int k = 0; k < 2; k++)
            if (r & (k ? SEL_WR : SEL_RD) & ops) {
                out[k] |= 1ull << fd;
                ready++;
            }
    }
    if (!ready && !deadline_passed(p, ms))
        return wait_more(p);
    for (int k = 0; k < 3; k++)
        if (a[1 + k] && n && copy_out(p, a[1 + k], &out[k], (n + 7) / 8) < 0)
            return -LX_EFAULT;
    return ready;
}

/* Longer timeouts (over 30,000 years) are waits for ever. */
#define TIMEOUT_MAX_SECONDS 1000000000000ll

/*
 * A struct timespec (or, micro, a struct timeval) in user memory as
 * milliseconds, rounded up: *ms = -1 for NULL or for ever. 0 or -errno:
 * EINVAL for a negative field, nanoseconds past a second, or (timeval)
 * microseconds that carry the seconds past what they can hold, as Linux.
 */
static int timeout_ms(struct vproc *p, uint64_t uaddr, int micro, int64_t *ms)
{
    int64_t t[2], unit = micro ? 1000000 : 1000000000;
    *ms = -1;
    if (!uaddr)
        return 0;
    if (copy_in(p, uaddr, t, sizeof(t)) < 0)
        return -LX_EFAULT;
    if (t[0] < 0 || t[1] < 0 || (!micro && t[1] >= unit))
        return -LX_EINVAL;
    if (t[1] / unit > INT64_MAX - t[0])
        return -LX_EINVAL;
    int64_t sec = t[0] + t[1] / unit, frac = t[1] % unit, per_ms = unit / 1000;
    if (sec <= TIMEOUT_MAX_SECONDS)
        *ms = sec * 1000 + (frac + per_ms - 1) / per_ms;
    return 0;
}

/*
 * ppoll's and pselect6's signal mask (umask 0: none; a size other than 8:
 * EINVAL). While the call waits, pm has it installed (VFS_SIG_MASK), so a
 * signal it unblocks ends the wait with EINTR (pm restores the caller's
 * mask before the handler's frame, which keeps the caller's); when the
 * call ends otherwise, pm puts the caller's mask back (VFS_SIG_UNMASK) as
 * vfs replies: pm runs before the caller does (a higher priority), so the
 * caller never runs with the call's mask.
 */
static int64_t masked_wait(struct vproc *p, int64_t r, uint64_t umask, uint64_t size)
{
    uint64_t mask;
    if (r != SUSPEND || !umask || p->poll_masked)
        return r;
    if (size != 8)
        return -LX_EINVAL; /* checked on the first run, before anything else */
    if (copy_in(p, umask, &mask, sizeof(mask)) < 0)
        return -LX_EFAULT;
    p->poll_masked = signal_queue(VFS_SIG_MASK, p->ep, (int64_t)mask);
    return r;
}

/* p's masked wait ended: by pm's cancel (pm restored the mask), or else (tell pm). */
void poll_mask_done(struct vproc *p, int cancelled)
{
    if (!p->poll_masked)
        return;
    p->poll_masked = 0;
    if (!cancelled && !signal_unqueue(VFS_SIG_MASK, p->ep))
        signal_queue(VFS_SIG_UNMASK, p->ep, 0);
}

int64_t do_ppoll(struct vproc *p, const uint64_t *a)
{
    int64_t ms = 0;
    int r = p->done ? 0 : a[3] && a[4] != 8 ? -LX_EINVAL : timeout_ms(p, a[2], 0, &ms);
    return r < 0 ? r : masked_wait(p, poll_common(p, a[0], a[1], ms), a[3], a[4]);
}

int64_t do_select(struct vproc *p, const uint64_t *a)
{
    int64_t ms = 0;
    int r = p->done ? 0 : timeout_ms(p, a[4], 1, &ms);
    return r < 0 ? r : select_common(p, a, ms);
}

int64_t do_pselect6(struct vproc *p, const uint64_t *a)
{
    int64_t ms = 0;
    uint64_t sig[2] = {0, 8}; /* its 6th argument: {const sigset_t *, size} */
    if (a[5] && copy_in(p, a[5], sig, sizeof(sig)) < 0)
        return -LX_EFAULT;
    int r = p->done ? 0 : sig[0] && sig[1] != 8 ? -LX_EINVAL : timeout_ms(p, a[4], 0, &ms);
    return r < 0 ? r : masked_wait(p, select_common(p, a, ms), sig[0], sig[1]);
}
