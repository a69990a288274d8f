/*
 * Socket objects and what every family shares: the table of sockets, their
 * files (a vnode of mode S_IFSOCK per socket), and the file operations
 * (read, write, readv, writev, poll, FIONREAD, FIONBIO, the last close),
 * which become the family's send and receive. Which family serves a
 * socket is fixed by `families` at socket(); see socket.h.
 */
#include "socket.h"

static struct sock socks[NR_SOCKS];

/*
 * The families vfs knows: AF_UNIX is vfs's own; AF_INET's and AF_INET6's
 * calls go to inet as SOCK_* requests (socket_inet.c). Any other family is
 * EAFNOSUPPORT.
 */
static const struct {
    int family;
    const struct sock_ops *ops;
} families[] = {
    {AF_UNIX, &unix_ops},
    {AF_INET, &inet_ops},
    {AF_INET6, &inet_ops},
};

struct sock_cred sock_cred_of(const struct vproc *p)
{
    return (struct sock_cred){p->pid, p->cred.euid, p->cred.egid};
}

/* A free socket of the table (the last SOCKS_FOR_ROOT are root's); 0 if none. p made it. */
struct sock *sock_new(struct vproc *p, int family, int type, const struct sock_ops *ops)
{
    struct sock *s = 0;
    int free_entries = 0;
    for (int i = 0; i < NR_SOCKS; i++)
        if (!socks[i].in_use) {
            s = s ? s : &socks[i];
            free_entries++;
        }
    if (!s || (free_entries <= SOCKS_FOR_ROOT && p->cred.euid != 0))
        return 0;
    memset(s, 0, __builtin_offsetof(struct sock, rx.buf)); /* the ring's bytes need no clearing */
    s->in_use = 1;
    s->family = family;
    s->type = type;
    s->ops = ops;
    s->cred = sock_cred_of(p);
    s->peer_cred = (struct sock_cred){0, ~0u, ~0u}; /* no peer: Linux's overflow ids */
    return s;
}

void sock_free(struct sock *s)
{
    s->in_use = 0;
}

/* The i-th socket in use, for a family that looks its sockets up by name; 0 if free. */
struct sock *sock_by_index(int i)
{
    return i >= 0 && i < NR_SOCKS && socks[i].in_use ? &socks[i] : 0;
}

/*
 * A new socket of family and type (the type's SOCK_NONBLOCK and SOCK_CLOEXEC
 * bits stripped), not yet a file. EINVAL for other flag bits, EAFNOSUPPORT
 * for a family vfs does not serve, ENFILE if the table is full, or the family's
 * refusal of the type or protocol.
 */
int64_t sock_create(struct vproc *p, int family, int type, int protocol, struct sock **out)
{
    if (type & ~(SOCK_TYPE_MASK | SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -LX_EINVAL;
    const struct sock_ops *ops = 0;
    for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
        if (families[i].family == family)
            ops = families[i].ops;
    if (!ops)
        return -LX_EAFNOSUPPORT;
    struct sock *s = sock_new(p, family, type & SOCK_TYPE_MASK, ops);
    if (!s)
        return -LX_ENFILE;
    int64_t r = ops->create(s, protocol);
    if (r < 0) {
        sock_free(s);
        return r;
    }
    *out = s;
    return 0;
}

/*
 * Give s a vnode, an open file (O_RDWR plus flags' O_NONBLOCK) and a
 * descriptor (close-on-exec if flags has O_CLOEXEC): the descriptor, or
 * -errno with s left as it was (its caller still owns it).
 */
int64_t sock_install(struct vproc *p, struct sock *s, uint32_t flags)
{
    struct vnode *v = vnode_get(NONE, 0, S_IFSOCK | 0777, 0);
    if (!v)
        return -LX_ENFILE;
    v->uid = p->cred.fsuid; /* fstat shows the creator */
    v->gid = p->cred.fsgid;
    struct file *f = file_new(v, O_RDWR | (flags & O_NONBLOCK));
    if (!f) {
        vnode_put(v);
        return -LX_ENFILE;
    }
    int fd = fd_install(p, f, 0, flags & O_CLOEXEC);
    if (fd < 0) {
        file_put(f); /* v->sock is not set yet: s is untouched */
        return fd;
    }
    v->sock = s;
    s->vn = v;
    return fd;
}

/* The socket of descriptor fd: EBADF if there is no such descriptor, ENOTSOCK if not a socket. */
struct sock *sock_of(struct vproc *p, uint64_t fd, int64_t *err)
{
    struct file *f = fd_file(p, (int)fd); /* an unsigned int (Linux) */
    *err = !f ? -LX_EBADF : (f->vn->mode & S_IFMT) != S_IFSOCK ? -LX_ENOTSOCK : 0;
    return *err ? 0 : f->vn->sock;
}

/*
 * Copy len bytes of m's data, from byte `skip` of it on, between its
 * vectors and the ring r at `at` (ring_copy's sense). The bytes moved
 * before a fault.
 */
struct ring_piece {
    struct ring *r;
    struct vproc *p;
    uint64_t at;
    int into_ring;
};

static uint64_t ring_piece(void *ctx, uint64_t base, uint64_t done, uint64_t n)
{
    struct ring_piece *c = ctx;
    return ring_copy(c->r, c->p, c->at + done, base, n, c->into_ring);
}

uint64_t sock_msg_copy(struct ring *r, struct vproc *p, uint64_t at, const struct sock_msg *m,
                       uint64_t skip, uint64_t len, int into_ring)
{
    struct ring_piece c = {r, p, at, into_ring};
    return sock_msg_walk(m, skip, len, ring_piece, &c);
}

/*
 * Walk m's vectors from byte `skip` on, at most len bytes: piece(ctx, user
 * address, bytes done so far, n) moves each piece and says how much it
 * moved; a short piece (a fault) ends the walk. The total moved.
 */
uint64_t sock_msg_walk(const struct sock_msg *m, uint64_t skip, uint64_t len,
                       uint64_t (*piece)(void *ctx, uint64_t base, uint64_t done, uint64_t n),
                       void *ctx)
{
    uint64_t done = 0;
    for (uint64_t i = 0; i < m->count && done < len; i++) {
        uint64_t base = m->iov[2 * i], n = m->iov[2 * i + 1];
        if (skip >= n) {
            skip -= n;
            continue;
        }
        base += skip;
        n -= skip;
        skip = 0;
        n = n < len - done ? n : len - done;
        uint64_t got = piece(ctx, base, done, n);
        done += got;
        if (got < n)
            break;
    }
    return done;
}

/* A socket changed: re-run the calls waiting on sockets and the polls (after this call). */
void sock_changed(void)
{
    wakeup_pipes();
}

/*
 * A blocking call on s that cannot go on yet: wait until a socket changes
 * (WAIT_SOCK: the call runs again from its message), at most s's
 * SO_RCVTIMEO (dir SOCK_RCV: receive, accept) or SO_SNDTIMEO (SOCK_SND:
 * send, connect). The first wait of a call fixes its deadline (the time
 * counts from there, as Linux counts from the call's start); once it has
 * passed, -EAGAIN, which the family turns into its answer (a count already
 * moved, connect's EINPROGRESS). SUSPEND while it waits.
 */
int64_t sock_wait(struct vproc *p, const struct sock *s, int dir)
{
    int64_t ms = s->timeo[dir];
    if (ms == SOCK_NO_WAIT)
        return -LX_EAGAIN;
    if (!p->waited) {
        p->waited = 1;
        p->deadline = ms ? sys_uptime() + (uint64_t)ms + 1 : 0; /* + 1: a tick already begun */
    } else if (p->deadline && sys_uptime() >= p->deadline) {
        return -LX_EAGAIN;
    }
    suspend(p, WAIT_SOCK);
    if (p->deadline)
        timers_arm();
    return SUSPEND;
}

/* Timeouts longer than this (about 31 years) are waits for ever, so nothing overflows. */
#define TIMEO_MAX_SECONDS 1000000000ll

/*
 * SO_RCVTIMEO and SO_SNDTIMEO of any socket (vfs keeps them: the waits are
 * vfs's), a struct timeval as Linux takes it: shorter than one is EINVAL,
 * microseconds outside 0..999999 EDOM, negative seconds mean "do not wait",
 * zero waits for ever. set 0 copies the value and its length out (len is
 * the length's address, value the buffer's).
 */
int64_t sock_timeout_option(struct vproc *p, struct sock *s, int set, int name, uint64_t value,
                            uint64_t len)
{
    int64_t tv[2], *ms = &s->timeo[name == SO_SNDTIMEO ? SOCK_SND : SOCK_RCV];
    if (set) {
        if ((int32_t)len < (int32_t)sizeof(tv))
            return -LX_EINVAL;
        if (copy_in(p, value, tv, sizeof(tv)) < 0)
            return -LX_EFAULT;
        if (tv[1] < 0 || tv[1] >= 1000000)
            return -LX_EDOM;
        if (tv[0] < 0)
            *ms = SOCK_NO_WAIT;
        else
            *ms = tv[0] > TIMEO_MAX_SECONDS ? 0 : tv[0] * 1000 + (tv[1] + 999) / 1000;
        return 0;
    }
    int32_t room;
    if (copy_in(p, len, &room, sizeof(room)) < 0)
        return -LX_EFAULT;
    if (room < 0)
        return -LX_EINVAL;
    tv[0] = *ms > 0 ? *ms / 1000 : 0;
    tv[1] = *ms > 0 ? *ms % 1000 * 1000 : 0;
    int32_t n = room < (int32_t)sizeof(tv) ? room : (int32_t)sizeof(tv);
    if ((n && copy_out(p, value, tv, (uint64_t)n) < 0) || copy_out(p, len, &n, sizeof(n)) < 0)
        return -LX_EFAULT;
    return 0;
}

/* A read, write, readv or writev on a socket: a send or receive without flags or address. */
static int64_t sock_transfer(struct vproc *p, struct file *f, const uint64_t *iov, uint64_t count,
                             int write)
{
    struct sock *s = f->vn->sock;
    struct sock_msg m = {.iov = iov, .count = count, .nonblock = (f->flags & O_NONBLOCK) != 0};
    for (uint64_t i = 0; i < count; i++) {
        uint64_t room = MAX_RW_COUNT - m.total;
        if (iov[2 * i + 1] > room) { /* one call moves at most MAX_RW_COUNT: cut the rest */
            m.count = i + 1;
            m.total = MAX_RW_COUNT;
            break;
        }
        m.total += iov[2 * i + 1];
    }
    return write ? s->ops->send(p, s, &m) : s->ops->recv(p, s, &m);
}

int64_t sock_read(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len)
{
    uint64_t iov[2] = {uaddr, len};
    return sock_transfer(p, f, iov, 1, 0);
}

int64_t sock_write(struct vproc *p, struct file *f, uint64_t uaddr, uint64_t len)
{
    uint64_t iov[2] = {uaddr, len};
    return sock_transfer(p, f, iov, 1, 1);
}

/* readv/writev: one send or receive of all the vectors (a datagram stays whole). */
int64_t sock_vector(struct vproc *p, struct file *f, const uint64_t *iov, uint64_t count, int write)
{
    return sock_transfer(p, f, iov, count, write);
}

#define FIONBIO 0x5421

/*
 * FIONREAD: what a read would find; FIONBIO: O_NONBLOCK on or off; the
 * interface and route ioctls of any socket go to inet (netinfo.c). Anything
 * else ENOTTY.
 */
int64_t sock_ioctl(struct vproc *p, struct file *f, uint64_t req, uint64_t arg)
{
    struct sock *s = f->vn->sock;
    int32_t value;
    if (req == FIONREAD) {
        uint64_t n = s->ops->unread(s);
        value = n > INT32_MAX ? INT32_MAX : (int32_t)n;
        return copy_out(p, arg, &value, sizeof(value));
    }
    if (req == FIONBIO) {
        if (copy_in(p, arg, &value, sizeof(value)) < 0)
            return -LX_EFAULT;
        f->flags = value ? f->flags | O_NONBLOCK : f->flags & ~(uint32_t)O_NONBLOCK;
        return 0;
    }
    return net_ioctl(p, req, arg);
}

int sock_ready(struct file *f, int ops)
{
    struct sock *s = f->vn->sock;
    return s->ops->ready(s, ops);
}

int sock_hangup(struct file *f)
{
    struct sock *s = f->vn->sock;
    return s->ops->hangup(s);
}

/* The socket's last file is closed (a file without a socket is one sock_install gave up). */
void sock_release(struct file *f)
{
    struct sock *s = f->vn->sock;
    if (!s)
        return;
    f->vn->sock = 0;
    s->vn = 0;
    s->ops->release(s);
    sock_changed();
}
