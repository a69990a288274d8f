/*
 * System calls on descriptors: read, write and their vector and
 * positioned forms, lseek, ioctl, fcntl, dup, close, pipe, fstat,
 * getdents64, sendfile, poll and select.
 */
#include "vfs.h"

#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define F_DUPFD 0
#define F_GETFD 1
#define F_SETFD 2
#define F_GETFL 3
#define F_SETFL 4
#define F_DUPFD_CLOEXEC 1030
#define F_GETPIPE_SZ 1032
#define F_GETLK 5
#define F_SETLKW 7
#define F_OFD_GETLK 36
#define F_OFD_SETLKW 38
#define FD_CLOEXEC 1

static struct file *fget(struct vproc *p, uint64_t fd)
{
    return fd_file(p, (int)fd);
}

static int seekable(struct file *f)
{
    uint64_t t = f->vn->mode & S_IFMT;
    return t == S_IFREG || t == S_IFDIR;
}

/*
 * read/write at the file position (moving it), or pread64/pwrite64
 * (at_offset) at the offset a[3], leaving the position alone.
 */
static int64_t transfer(struct vproc *p, const uint64_t *a, int write, int at_offset)
{
    struct file *f = fget(p, a[0]);
    if (!f)
        return -LX_EBADF;
    uint64_t pos = at_offset ? a[3] : 0;
    if (at_offset && !seekable(f) && !mem_device(f->vn))
        return -LX_ESPIPE;
    if (rw_check(pos, a[2]) < 0)
        return -LX_EINVAL;
    if (write && !at_offset && (f->vn->mode & S_IFMT) == S_IFIFO)
        return pipe_write(p, f, (uint64_t[2]){a[1], a[2]}, 1, 1); /* whole, or wait */
    return file_rw(p, f, a[1], a[2], at_offset ? &pos : &f->pos, write);
}

int64_t do_read(struct vproc *p, const uint64_t *a)
{
    return transfer(p, a, 0, 0);
}
int64_t do_write(struct vproc *p, const uint64_t *a)
{
    return transfer(p, a, 1, 0);
}
int64_t do_pread64(struct vproc *p, const uint64_t *a)
{
    return transfer(p, a, 0, 1);
}
int64_t do_pwrite64(struct vproc *p, const uint64_t *a)
{
    return transfer(p, a, 1, 1);
}

/*
 * readv/writev: every length is checked first (EINVAL if one, or their
 * sum, does not fit a signed 64-bit count, as POSIX says), then one iovec
 * at a time, at most MAX_RW_COUNT in all; stop at a short transfer or a wait.
 */
#define IOV_MAX 1024
static int64_t vector_io(struct vproc *p, const uint64_t *a, int write)
{
    static uint64_t iov[2 * IOV_MAX];
    struct file *f = fget(p, a[0]);
    uint64_t count = a[2], total = 0, sum = 0;
    if (!f)
        return -LX_EBADF;
    if (count > IOV_MAX)
        return -LX_EINVAL;
    if (copy_in(p, a[1], iov, count * 16) < 0)
        return -LX_EFAULT;
    for (uint64_t i = 0; i < count; i++) {
        if (rw_check(sum, iov[2 * i + 1]) < 0)
            return -LX_EINVAL;
        sum += iov[2 * i + 1];
    }
    if ((f->vn->mode & S_IFMT) == S_IFSOCK) /* one send or receive: a datagram stays whole */
        return sock_vector(p, f, iov, count, write);
    if (write && (f->vn->mode & S_IFMT) == S_IFIFO) /* one write: whole, or wait */
        return pipe_write(p, f, iov, count, 1);
    for (uint64_t i = 0; i < count && total < MAX_RW_COUNT; i++) {
        uint64_t len =
            iov[2 * i + 1] < MAX_RW_COUNT - total ? iov[2 * i + 1] : MAX_RW_COUNT - total;
        if (!len)
            continue;
        int64_t r = file_rw(p, f, iov[2 * i], len, &f->pos, write);
        if (r == SUSPEND && total) { /* data moved already: do not wait for more */
            if (p->wait == WAIT_DEV) {
                int64_t c = dev_cancel(p); /* the device's part of this vector */
                total += c > 0 ? (uint64_t)c : 0;
            }
            p->wait = WAIT_NONE;
            return (int64_t)total;
        }
        if (r == SUSPEND)
            return SUSPEND; /* wait only if nothing moved */
        if (r < 0)
            return total ? (int64_t)total : r;
        total += (uint64_t)r;
        if ((uint64_t)r < len)
            break;
    }
    return (int64_t)total;
}

int64_t do_readv(struct vproc *p, const uint64_t *a)
{
    return vector_io(p, a, 0);
}
int64_t do_writev(struct vproc *p, const uint64_t *a)
{
    return vector_io(p, a, 1);
}

int64_t do_lseek(struct vproc *p, const uint64_t *a)
{
    struct file *f = fget(p, a[0]);
    int64_t off = (int64_t)a[1], base;
    uint32_t whence = (uint32_t)a[2]; /* an unsigned int (Linux) */
    if (!f)
        return -LX_EBADF;
    if (mem_device(f->vn))
        return (int64_t)(f->pos = 0); /* null, zero, full: always at 0 (Linux) */
    if (!seekable(f))
        return -LX_ESPIPE;
    if (whence == SEEK_SET) {
        base = 0;
    } else if (whence == SEEK_CUR) {
        base = (int64_t)f->pos;
    } else if (whence == SEEK_END) {
        struct fs_stat st;
        int64_t r = fs_stat(f->vn, &st);
        if (r < 0)
            return r;
        if (st.size > (uint64_t)INT64_MAX)
            return -LX_EIO; /* no file server has such files */
        base = (int64_t)st.size;
    } else {
        return -LX_EINVAL;
    }
    if ((off > 0 && base > INT64_MAX - off) || base + off < 0)
        return -LX_EINVAL;
    keep_log(&f->pos, 8);
    f->pos = (uint64_t)(base + off);
    return (int64_t)f->pos;
}

int64_t do_ioctl(struct vproc *p, const uint64_t *a)
{
    struct file *f = fget(p, a[0]);
    if (f && (f->vn->mode & S_IFMT) == S_IFSOCK)
        return sock_ioctl(p, f, a[1] & 0xffffffff, a[2]);
    return f ? dev_ioctl(p, f, a[1] & 0xffffffff, a[2]) : -LX_EBADF;
}

static int64_t dup_to(struct vproc *p, struct file *f, int min, int cloexec)
{
    int fd = fd_install(p, f, min, cloexec);
    if (fd >= 0)
        f->refs++;
    return fd;
}

int64_t do_fcntl(struct vproc *p, const uint64_t *a)
{
    int fd = (int)a[0]; /* valid when f is: 0..NR_FDS-1 */
    struct file *f = fget(p, a[0]);
    if (!f)
        return -LX_EBADF;
    switch (a[1]) {
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
        if (a[2] >= p->files->fd_limit)
            return -LX_EINVAL; /* at or past RLIMIT_NOFILE (Linux) */
        return dup_to(p, f, (int)a[2], a[1] == F_DUPFD_CLOEXEC);
    case F_GETFD:
        return (p->files->cloexec >> fd) & 1 ? FD_CLOEXEC : 0;
    case F_SETFD:
        keep_log(&p->files->cloexec, 8);
        p->files->cloexec =
            (p->files->cloexec & ~(1ull << fd)) | ((uint64_t)(a[2] & FD_CLOEXEC) << fd);
        return 0;
    case F_GETFL:
        return f->flags;
    case F_SETFL:
        f->flags = (f->flags & ~(uint32_t)(O_APPEND | O_NONBLOCK)) |
                   ((uint32_t)a[2] & (O_APPEND | O_NONBLOCK));
        return 0;
    case F_GETLK ... F_SETLKW:
    case F_OFD_GETLK ... F_OFD_SETLKW:
        return lock_fcntl(p, f, a[1], a[2]); /* record locks (lock.c) */
    case F_GETPIPE_SZ:                       /* a pipe's capacity: fixed here (no F_SETPIPE_SZ) */
        return (f->vn->mode & S_IFMT) == S_IFIFO ? PIPE_SIZE : -LX_EBADF;
    default:
        return -LX_EINVAL;
    }
}

int64_t do_dup(struct vproc *p, const uint64_t *a)
{
    struct file *f = fget(p, a[0]);
    return f ? dup_to(p, f, 0, 0) : -LX_EBADF;
}

/* Descriptors are unsigned ints (Linux): the high half of the argument is ignored. */
static int64_t dup3_common(struct vproc *p, uint32_t oldfd, uint32_t newfd, uint64_t flags,
                           int allow_same)
{
    struct file *f = fget(p, oldfd);
    if (!f)
        return -LX_EBADF;
    if (newfd >= p->files->fd_limit || (flags & ~(uint64_t)O_CLOEXEC))
        return newfd >= p->files->fd_limit ? -LX_EBADF : -LX_EINVAL;
    if (oldfd == newfd)
        return allow_same ? (int64_t)newfd : -LX_EINVAL;
    fd_close(p, (int)newfd);
    return dup_to(p, f, (int)newfd, flags & O_CLOEXEC);
}

int64_t do_dup2(struct vproc *p, const uint64_t *a)
{
    return dup3_common(p, a[0], a[1], 0, 1);
}
int64_t do_dup3(struct vproc *p, const uint64_t *a)
{
    return dup3_common(p, a[0], a[1], a[2], 0);
}

int64_t do_close(struct vproc *p, const uint64_t *a)
{
    if (!fget(p, a[0]))
        return -LX_EBADF;
    fd_close(p, (int)a[0]);
    return 0;
}

static int64_t make_pipe(struct vproc *p, uint64_t uaddr, uint64_t flags)
{
    int fds[2];
    if (flags & ~(uint64_t)(O_CLOEXEC | O_NONBLOCK))
        return -LX_EINVAL;
    int r = pipe_create(p, fds, (uint32_t)flags);
    if (r < 0)
        return r;
    if (copy_out(p, uaddr, fds, sizeof(fds)) < 0) {
        fd_close(p, fds[0]);
        fd_close(p, fds[1]);
        return -LX_EFAULT;
    }
    return 0;
}

int64_t do_pipe(struct vproc *p, const uint64_t *a)
{
    return make_pipe(p, a[0], 0);
}
int64_t do_pipe2(struct vproc *p, const uint64_t *a)
{
    return make_pipe(p, a[0], a[1]);
}

int64_t do_getdents64(struct vproc *p, const uint64_t *a)
{
    struct file *f = fget(p, a[0]);
    if (!f)
        return -LX_EBADF;
    if ((f->vn->mode & S_IFMT) != S_IFDIR)
        return -LX_ENOTDIR;
    uint64_t len = a[2] < BOUNCE_SIZE ? a[2] : BOUNCE_SIZE;
    uint64_t cookie = f->pos;
    int64_t r = fs_getdents(f->vn, &cookie, bounce, len);
    if (r > 0 && copy_out(p, a[1], bounce, (uint64_t)r) < 0)
        return -LX_EFAULT;
    if (r >= 0)
        keep_log(&f->pos, 8);
    f->pos = cookie;
    return r;
}

/*
 * sendfile(out, in, offset*, count): through vfs, a bounce buffer at a time.
 * The input position (the file's, or *offset) moves by exactly what the
 * output took. A device that makes the call wait holds at most one device
 * buffer of it: p->done keeps what moved before, and sendfile_finish moves
 * the position by the device's count when the device answers.
 */
int64_t do_sendfile(struct vproc *p, const uint64_t *a)
{
    struct file *out = fget(p, a[0]), *in = fget(p, a[1]);
    static uint8_t chunk[BOUNCE_SIZE];
    uint64_t off, *pos = 0, total = 0, count = a[3];
    if (!out || !in)
        return -LX_EBADF;
    if ((in->flags & O_ACCMODE) == O_WRONLY || !(out->flags & O_ACCMODE))
        return -LX_EBADF;
    if ((in->vn->mode & S_IFMT) != S_IFREG)
        return -LX_EINVAL;
    if (a[2]) { /* read and writable: the new offset is written back at the end */
        if (copy_in(p, a[2], &off, 8) < 0 || copy_out(p, a[2], &off, 8) < 0)
            return -LX_EFAULT;
        pos = &off;
    } else {
        pos = &in->pos;
    }
    if (rw_check(*pos, count) < 0)
        return -LX_EINVAL;
    count = count < MAX_RW_COUNT ? count : MAX_RW_COUNT;
    while (total < count) {
        uint64_t n = count - total < BOUNCE_SIZE ? count - total : BOUNCE_SIZE;
        int64_t r = fs_read_into(in->vn, *pos, chunk, n);
        if (r <= 0) {
            if (!total && r < 0)
                return r;
            break;
        }
        p->kernel_io = 1; /* "user" addresses are vfs's own for this write */
        int64_t w = file_rw(p, out, (uint64_t)chunk, (uint64_t)r, &out->pos, 1);
        p->kernel_io = 0;
        if (w == SUSPEND && p->wait == WAIT_DEV) {
            /* the driver holds part of this chunk; its count comes later */
            p->done = total;
            if (a[2])
                copy_out(p, a[2], &off, 8); /* writable: checked above */
            return SUSPEND;
        }
        if (w == SUSPEND) { /* a full pipe took nothing: return what moved, or wait and redo */
            if (!total)
                return SUSPEND;
            p->wait = WAIT_NONE;
            break;
        }
        if (w <= 0) {
            if (!total && w < 0)
                return w;
            break;
        }
        keep_log(pos, 8);
        *pos += (uint64_t)w;
        total += (uint64_t)w;
        if (w < r)
            break;
    }
    if (a[2] && copy_out(p, a[2], &off, 8) < 0)
        return -LX_EFAULT;
    return (int64_t)total;
}

/* The device answered a suspended sendfile (or it was cancelled): result is its count. */
int64_t sendfile_finish(struct vproc *p, int64_t result)
{
    const uint64_t *a = p->call.u.lx.arg;
    struct file *in = fget(p, a[1]);
    uint64_t off, before = p->done;
    if (result <= 0)
        return before ? (int64_t)before : result;
    if (a[2]) {
        if (copy_in(p, a[2], &off, 8) < 0)
            return -LX_EFAULT;
        off += (uint64_t)result;
        if (copy_out(p, a[2], &off, 8) < 0)
            return -LX_EFAULT;
    } else if (in) {
        keep_log(&in->pos, 8);
        in->pos += (uint64_t)result;
    }
    return (int64_t)(before + (uint64_t)result);
}
