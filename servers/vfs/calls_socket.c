/*
 * The socket system calls: socket, socketpair, bind, listen, accept,
 * accept4, connect, sendto, recvfrom, sendmsg, recvmsg, shutdown,
 * getsockname, getpeername, getsockopt, setsockopt. Each copies and checks
 * what the caller gave (as Linux: an address longer than a sockaddr_storage
 * or of negative length is EINVAL, a bad pointer EFAULT, an int argument
 * is the low 32 bits of its register), then asks the socket's family
 * (socket.h). Memory the call will write is checked before anything is taken,
 * so a bad pointer loses no connection and no datagram.
 */
#include "socket.h"

#define IOV_MAX 1024
#define SO_DEBUG 1
#define SO_REUSEADDR 2
#define SO_BROADCAST 6
#define SO_KEEPALIVE 9
#define SO_OOBINLINE 10
#define SO_LINGER 13
#define SO_REUSEPORT 15
#define SO_PASSCRED 16
#define SO_RCVLOWAT 18
#define SO_SNDLOWAT 19
#define SOMAXCONN 4096

/* struct msghdr (Linux x86-64) */
struct msghdr_l {
    uint64_t name;
    uint32_t namelen, pad0;
    uint64_t iov, iovlen, control, controllen;
    int32_t flags, pad1;
};

/* An address from the caller: EINVAL for a negative or too long length, EFAULT. */
static int64_t addr_in(struct vproc *p, uint64_t uaddr, uint64_t len, struct sock_addr *a)
{
    int32_t n = (int32_t)len; /* an int (Linux's socklen_t is read as one) */
    a->len = 0;
    if (n < 0 || n > SOCKADDR_MAX)
        return -LX_EINVAL;
    if (n && copy_in(p, uaddr, a->bytes, (uint64_t)n) < 0)
        return -LX_EFAULT;
    a->len = (uint32_t)n;
    return 0;
}

/* Memory the call will write later: readable and writable now (written back as it was). */
static int writable(struct vproc *p, uint64_t uaddr, uint64_t len)
{
    uint8_t tmp[SOCKADDR_MAX];
    return len <= sizeof(tmp) && copy_in(p, uaddr, tmp, len) == 0 &&
                   copy_out(p, uaddr, tmp, len) == 0
               ? 0
               : -LX_EFAULT;
}

/*
 * An address buffer and its length (an int in user memory, read first):
 * EFAULT or EINVAL (negative) now, so the call fails before it takes
 * anything. *room: the buffer's size. A null buffer is no address.
 */
static int64_t addr_out_check(struct vproc *p, uint64_t uaddr, uint64_t ulen, int32_t *room)
{
    *room = 0;
    if (!uaddr)
        return 0;
    if (copy_in(p, ulen, room, sizeof(*room)) < 0 || writable(p, ulen, sizeof(*room)) < 0)
        return -LX_EFAULT;
    if (*room < 0)
        return -LX_EINVAL;
    uint64_t n = (uint64_t)*room < SOCKADDR_MAX ? (uint64_t)*room : SOCKADDR_MAX;
    return writable(p, uaddr, n);
}

/* Write an address: as much as fits the buffer, and its whole length into *ulen (checked). */
static int64_t addr_out(struct vproc *p, uint64_t uaddr, uint64_t ulen, int32_t room,
                        const struct sock_addr *a)
{
    if (!uaddr)
        return 0;
    uint64_t n = a->len < (uint64_t)room ? a->len : (uint64_t)room;
    int32_t len = (int32_t)a->len;
    if ((n && copy_out(p, uaddr, a->bytes, n) < 0) || copy_out(p, ulen, &len, sizeof(len)) < 0)
        return -LX_EFAULT;
    return 0;
}

int64_t do_socket(struct vproc *p, const uint64_t *a)
{
    struct sock *s;
    int type = (int)a[1];
    int64_t r = sock_create(p, (int)a[0], type, (int)a[2], &s);
    if (r < 0)
        return r;
    int64_t fd = sock_install(p, s, (uint32_t)type);
    if (fd < 0)
        s->ops->release(s);
    return fd;
}

int64_t do_socketpair(struct vproc *p, const uint64_t *a)
{
    struct sock *s[2];
    int type = (int)a[1];
    int32_t fds[2];
    int64_t r = sock_create(p, (int)a[0], type, (int)a[2], &s[0]);
    if (r < 0)
        return r;
    if ((r = sock_create(p, (int)a[0], type, (int)a[2], &s[1])) < 0) {
        s[0]->ops->release(s[0]);
        return r;
    }
    r = s[0]->ops->pair ? s[0]->ops->pair(s[0], s[1]) : -LX_EOPNOTSUPP;
    fds[0] = r < 0 ? -1 : (int32_t)(r = sock_install(p, s[0], (uint32_t)type));
    fds[1] = r < 0 ? -1 : (int32_t)(r = sock_install(p, s[1], (uint32_t)type));
    if (r >= 0 && copy_out(p, a[3], fds, sizeof(fds)) < 0)
        r = -LX_EFAULT;
    if (r < 0) { /* undo: a socket with a descriptor goes with it, the others directly */
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                fd_close(p, fds[i]);
            else
                s[i]->ops->release(s[i]);
        return r;
    }
    return 0;
}

/* bind(fd, addr, len) and connect(fd, addr, len) */
static int64_t with_address(struct vproc *p, const uint64_t *a, int connect)
{
    struct sock_addr addr;
    int64_t r;
    struct sock *s = sock_of(p, a[0], &r);
    if (!s || (r = addr_in(p, a[1], a[2], &addr)) < 0)
        return r;
    if (!connect)
        return s->ops->bind(p, s, &addr);
    return s->ops->connect(p, s, &addr, (fd_file(p, (int)a[0])->flags & O_NONBLOCK) != 0);
}

int64_t do_bind(struct vproc *p, const uint64_t *a)
{
    return with_address(p, a, 0);
}
int64_t do_connect(struct vproc *p, const uint64_t *a)
{
    return with_address(p, a, 1);
}

int64_t do_listen(struct vproc *p, const uint64_t *a)
{
    int64_t r;
    struct sock *s = sock_of(p, a[0], &r);
    uint32_t backlog = (uint32_t)a[1]; /* an int; negative or huge is the most (Linux) */
    return s ? s->ops->listen(s, backlog > SOMAXCONN ? SOMAXCONN : (int)backlog) : r;
}

static int64_t accept_common(struct vproc *p, const uint64_t *a, uint64_t flags)
{
    int64_t r;
    int32_t room;
    struct sock *s = sock_of(p, a[0], &r);
    if (!s)
        return r;
    if (flags & ~(uint64_t)(SOCK_NONBLOCK | SOCK_CLOEXEC))
        return -LX_EINVAL;
    if ((r = addr_out_check(p, a[1], a[2], &room)) < 0)
        return r;
    int nonblock = (fd_file(p, (int)a[0])->flags & O_NONBLOCK) != 0; /* the listener's */
    int64_t fd = s->ops->accept(p, s, (uint32_t)flags, nonblock);
    if (fd < 0)
        return fd; /* or SUSPEND */
    struct sock *c = fd_file(p, (int)fd)->vn->sock;
    struct sock_addr peer;
    if (a[1] && c->ops->name(c, 1, &peer) < 0) /* its peer closed already: unnamed */
        peer = (struct sock_addr){.len = 2, .bytes = {(uint8_t)c->family}};
    if (addr_out(p, a[1], a[2], room, &peer) < 0) { /* checked: only if p changed its map */
        fd_close(p, (int)fd);
        return -LX_EFAULT;
    }
    return fd;
}

int64_t do_accept(struct vproc *p, const uint64_t *a)
{
    return accept_common(p, a, 0);
}
int64_t do_accept4(struct vproc *p, const uint64_t *a)
{
    return accept_common(p, a, a[3]);
}

/*
 * One send or receive of m's vectors (lengths checked: EINVAL as readv's)
 * on descriptor fd with flags; *s gets the socket. Receives fill m->addr.
 */
static int64_t transfer(struct vproc *p, uint64_t fd, struct sock_msg *m, int send)
{
    int64_t r;
    struct sock *s = sock_of(p, fd, &r);
    if (!s)
        return r;
    uint64_t sum = 0;
    for (uint64_t i = 0; i < m->count; i++) {
        if (rw_check(sum, m->iov[2 * i + 1]) < 0)
            return -LX_EINVAL;
        sum += m->iov[2 * i + 1];
    }
    m->total = sum < MAX_RW_COUNT ? sum : MAX_RW_COUNT;
    m->nonblock = (m->flags & MSG_DONTWAIT) || (fd_file(p, (int)fd)->flags & O_NONBLOCK);
    return send ? s->ops->send(p, s, m) : s->ops->recv(p, s, m);
}

/* sendto and recvfrom: a length past MAX_RW_COUNT is cut to it (Linux cuts at INT_MAX). */
static uint64_t one_buffer_len(uint64_t len)
{
    return len < MAX_RW_COUNT ? len : MAX_RW_COUNT;
}

int64_t do_sendto(struct vproc *p, const uint64_t *a)
{
    uint64_t iov[2] = {a[1], one_buffer_len(a[2])};
    struct sock_msg m = {.iov = iov, .count = 1, .flags = (int)a[3]};
    if (a[4]) {
        int64_t r = addr_in(p, a[4], a[5], &m.addr);
        if (r < 0)
            return r;
    }
    return transfer(p, a[0], &m, 1);
}

int64_t do_recvfrom(struct vproc *p, const uint64_t *a)
{
    uint64_t iov[2] = {a[1], one_buffer_len(a[2])};
    struct sock_msg m = {.iov = iov, .count = 1, .flags = (int)a[3]};
    int32_t room;
    int64_t r = addr_out_check(p, a[4], a[5], &room);
    if (r < 0)
        return r;
    if ((r = transfer(p, a[0], &m, 0)) >= 0 && addr_out(p, a[4], a[5], room, &m.addr) < 0)
        return -LX_EFAULT;
    return r;
}

/*
 * sendmsg/recvmsg(fd, msg, flags): the message header and its vectors into
 * *h and *m (EFAULT; EMSGSIZE for more than 1024 vectors, as Linux).
 */
static int64_t msghdr_in(struct vproc *p, const uint64_t *a, struct msghdr_l *h, struct sock_msg *m)
{
    static uint64_t iov[2 * IOV_MAX];
    *m = (struct sock_msg){.iov = iov, .flags = (int)a[2]};
    if (copy_in(p, a[1], h, sizeof(*h)) < 0)
        return -LX_EFAULT;
    if (h->iovlen > IOV_MAX)
        return -LX_EMSGSIZE;
    if (h->iovlen && copy_in(p, h->iov, iov, h->iovlen * 16) < 0)
        return -LX_EFAULT;
    m->count = h->iovlen;
    return 0;
}

int64_t do_sendmsg(struct vproc *p, const uint64_t *a)
{
    struct msghdr_l h;
    struct sock_msg m;
    int64_t r = msghdr_in(p, a, &h, &m);
    if (r < 0)
        return r;
    if (h.control && h.controllen)
        return -LX_EOPNOTSUPP; /* no control messages: SCM_RIGHTS is not done */
    if (h.name && (r = addr_in(p, h.name, h.namelen, &m.addr)) < 0)
        return r;
    return transfer(p, a[0], &m, 1);
}

/* recvmsg: the header and the name buffer must be writable before a datagram is taken. */
int64_t do_recvmsg(struct vproc *p, const uint64_t *a)
{
    struct msghdr_l h;
    struct sock_msg m;
    int64_t r = msghdr_in(p, a, &h, &m);
    if (r < 0)
        return r;
    if (writable(p, a[1], sizeof(h)) < 0)
        return -LX_EFAULT;
    int32_t room = (int32_t)h.namelen;
    if (h.name && room < 0)
        return -LX_EINVAL;
    uint64_t n = (uint64_t)room < SOCKADDR_MAX ? (uint64_t)room : SOCKADDR_MAX;
    if (h.name && writable(p, h.name, n) < 0)
        return -LX_EFAULT;
    if ((r = transfer(p, a[0], &m, 0)) < 0)
        return r;
    uint64_t got = !h.name ? 0 : m.addr.len < n ? m.addr.len : n;
    if (got && copy_out(p, h.name, m.addr.bytes, got) < 0)
        return -LX_EFAULT;
    h.namelen = h.name ? m.addr.len : 0;
    h.controllen = 0; /* no control messages */
    h.flags = m.out_flags;
    return copy_out(p, a[1], &h, sizeof(h)) < 0 ? -LX_EFAULT : r;
}

int64_t do_shutdown(struct vproc *p, const uint64_t *a)
{
    int64_t r;
    struct sock *s = sock_of(p, a[0], &r);
    return s ? s->ops->shutdown(s, (int)a[1]) : r;
}

static int64_t name_common(struct vproc *p, const uint64_t *a, int peer)
{
    int64_t r;
    int32_t room;
    struct sock_addr name;
    struct sock *s = sock_of(p, a[0], &r);
    if (!s)
        return r;
    if (!a[1])
        return -LX_EFAULT;
    if ((r = addr_out_check(p, a[1], a[2], &room)) < 0 || (r = s->ops->name(s, peer, &name)) < 0)
        return r;
    return addr_out(p, a[1], a[2], room, &name);
}

int64_t do_getsockname(struct vproc *p, const uint64_t *a)
{
    return name_common(p, a, 0);
}
int64_t do_getpeername(struct vproc *p, const uint64_t *a)
{
    return name_common(p, a, 1);
}

/* getsockopt's answer: as much of the value as the caller's room holds, and that length. */
static int64_t option_out(struct vproc *p, const uint64_t *a, int32_t room, const void *value,
                          int32_t len)
{
    len = room < len ? room : len;
    if ((len && copy_out(p, a[3], value, (uint64_t)len) < 0) ||
        copy_out(p, a[4], &len, sizeof(len)) < 0)
        return -LX_EFAULT;
    return 0;
}

/* getsockopt: SOL_SOCKET's options every socket has; ENOPROTOOPT for others. */
int64_t do_getsockopt(struct vproc *p, const uint64_t *a)
{
    int64_t r;
    int32_t room, len = sizeof(int32_t), value[4] = {0};
    struct sock *s = sock_of(p, a[0], &r);
    if (!s)
        return r;
    if ((int)a[1] == SOL_SOCKET && ((int)a[2] == SO_RCVTIMEO || (int)a[2] == SO_SNDTIMEO))
        return sock_timeout_option(p, s, 0, (int)a[2], a[3], a[4]);
    if ((int)a[1] != SOL_SOCKET && !s->ops->option)
        return -LX_EOPNOTSUPP;
    if (copy_in(p, a[4], &room, sizeof(room)) < 0)
        return -LX_EFAULT;
    if (room < 0)
        return -LX_EINVAL;
    if (s->ops->option) { /* the family's own (inet) */
        uint32_t n = 0;
        if ((r = s->ops->option(s, 0, (int)a[1], (int)a[2], (uint8_t *)value, &n)) < 0)
            return r;
        return option_out(p, a, room, value, (int32_t)n);
    }
    switch ((int)a[2]) {
    case SO_TYPE:
        value[0] = s->type;
        break;
    case SO_ERROR:
        value[0] = s->error;
        break;
    case SO_SNDBUF:
    case SO_RCVBUF:
        value[0] = PIPE_SIZE;
        break;
    case SO_DOMAIN:
        value[0] = s->family;
        break;
    case SO_PROTOCOL:
        value[0] = 0;
        break;
    case SO_ACCEPTCONN:
        value[0] = s->state == SOCK_LISTENING;
        break;
    case SO_PEERCRED:
        memcpy(value, &s->peer_cred, sizeof(s->peer_cred));
        len = sizeof(s->peer_cred);
        break;
    default:
        return -LX_ENOPROTOOPT;
    }
    if ((r = option_out(p, a, room, value, len)) < 0)
        return r;
    if ((int)a[2] == SO_ERROR)
        s->error = 0; /* reported once */
    return 0;
}

/*
 * setsockopt: SO_RCVTIMEO and SO_SNDTIMEO of every family are vfs's (its
 * waits end at them: sock_timeout_option); other SOL_SOCKET options that
 * change nothing here are accepted (the buffer sizes are fixed, addresses
 * are never in use after a close, there are no keepalives); the value must
 * be readable and at least an int. ENOPROTOOPT for others.
 */
int64_t do_setsockopt(struct vproc *p, const uint64_t *a)
{
    int64_t r;
    uint8_t value[16];
    struct sock *s = sock_of(p, a[0], &r);
    int32_t len = (int32_t)a[4];
    if (!s)
        return r;
    if ((int)a[1] == SOL_SOCKET && ((int)a[2] == SO_RCVTIMEO || (int)a[2] == SO_SNDTIMEO))
        return sock_timeout_option(p, s, 1, (int)a[2], a[3], a[4]);
    if (s->ops->option) { /* the family's own (inet): it checks the length */
        if (len < 0)
            return -LX_EINVAL;
        uint32_t n = (uint32_t)len < sizeof(value) ? (uint32_t)len : sizeof(value);
        if (copy_in(p, a[3], value, n) < 0)
            return -LX_EFAULT;
        return s->ops->option(s, 1, (int)a[1], (int)a[2], value, &n);
    }
    if ((int)a[1] != SOL_SOCKET)
        return -LX_EOPNOTSUPP;
    switch ((int)a[2]) {
    case SO_DEBUG:
    case SO_REUSEADDR:
    case SO_BROADCAST:
    case SO_SNDBUF:
    case SO_RCVBUF:
    case SO_KEEPALIVE:
    case SO_OOBINLINE:
    case SO_LINGER:
    case SO_REUSEPORT:
    case SO_PASSCRED:
    case SO_RCVLOWAT:
    case SO_SNDLOWAT:
        break;
    default:
        return -LX_ENOPROTOOPT;
    }
    if (len < (int32_t)sizeof(int32_t))
        return -LX_EINVAL;
    uint64_t n = (uint64_t)len < sizeof(value) ? (uint64_t)len : sizeof(value);
    return copy_in(p, a[3], value, n) < 0 ? -LX_EFAULT : 0;
}
