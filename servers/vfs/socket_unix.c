/*
 * AF_UNIX sockets, as Linux has them: SOCK_STREAM (bytes), SOCK_DGRAM
 * (datagrams, boundaries kept) and SOCK_SEQPACKET (datagrams over a
 * connection). What is sent to a socket waits in its receive ring (16 KiB,
 * a pipe's size); a datagram is one record there: a struct record, the
 * sender's address, the data. A connection is two sockets whose `peer` is
 * each other: connect() makes the listener's end at once and queues it for
 * accept() (the backlog as Linux counts it: full when more than `backlog`
 * wait), so data may flow before the accept. Names: a path (an S_IFSOCK node
 * made in the file system, held while bound), an abstract name (leading NUL,
 * unique per socket type), or none (autobind: bind with just the family
 * gives a 5-digit abstract name). Closing one end shuts the other both ways
 * (EOF, EPIPE with SIGPIPE), and ECONNRESET if it left data unread;
 * a datagram socket whose peer closed gets ECONNREFUSED once. No control
 * messages (SCM_RIGHTS, SCM_CREDENTIALS): calls_socket.c refuses them.
 */
#include "socket.h"

#define SUN_PATH_OFFSET 2 /* offsetof(struct sockaddr_un, sun_path) */
#define SUN_LEN_MAX 110   /* sizeof(struct sockaddr_un) */

struct record {
    uint32_t len;      /* the data's bytes */
    uint32_t name_len; /* the sender's address (struct sock_addr.len), before the data */
};

static int connection(const struct sock *s)
{
    return s->type != SOCK_DGRAM;
}

static int records(const struct sock *s)
{
    return s->type != SOCK_STREAM;
}

static int64_t unix_create(struct sock *s, int protocol)
{
    if (s->type == SOCK_RAW)
        s->type = SOCK_DGRAM; /* as Linux */
    if (s->type != SOCK_STREAM && s->type != SOCK_DGRAM && s->type != SOCK_SEQPACKET)
        return -LX_ESOCKTNOSUPPORT;
    return protocol == 0 || protocol == AF_UNIX ? 0 : -LX_EPROTONOSUPPORT;
}

static void join(struct sock *a, struct sock *b)
{
    a->peer = b;
    b->peer = a;
    a->peer_gone = b->peer_gone = 0;
    a->state = b->state = SOCK_CONNECTED;
    a->peer_cred = b->cred;
    b->peer_cred = a->cred;
}

static int64_t unix_pair(struct sock *a, struct sock *b)
{
    join(a, b);
    return 0;
}

/*
 * A caller's address checked: EINVAL unless the family is AF_UNIX and the
 * length fits. A path name (sun_path up to its NUL, or all of it: Linux ends
 * a full one itself) is copied into path; an abstract one is left as given.
 * 1 for just the family (no name), 0 otherwise.
 */
static int64_t unix_addr(const struct sock_addr *a, char *path)
{
    uint16_t family;
    if (a->len < SUN_PATH_OFFSET || a->len > SUN_LEN_MAX)
        return -LX_EINVAL;
    memcpy(&family, a->bytes, sizeof(family));
    if (family != AF_UNIX)
        return -LX_EINVAL;
    if (a->len == SUN_PATH_OFFSET)
        return 1;
    uint32_t n = 0;
    while (SUN_PATH_OFFSET + n < a->len && a->bytes[SUN_PATH_OFFSET + n])
        n++;
    memcpy(path, a->bytes + SUN_PATH_OFFSET, n);
    path[n] = 0;
    return 0;
}

/* The socket of type bound to the abstract name a; 0 if none. */
static struct sock *abstract_owner(const struct sock_addr *a, int type)
{
    struct sock *s;
    for (int i = 0; i < NR_SOCKS; i++)
        if ((s = sock_by_index(i)) && s->family == AF_UNIX && s->type == type && s->holds_name &&
            !s->node && s->name.len == a->len && !memcmp(s->name.bytes, a->bytes, a->len))
            return s;
    return 0;
}

/* The socket bound to a, for a connect or send by s: ENOENT, EACCES, ECONNREFUSED, EPROTOTYPE. */
static int64_t unix_find(struct vproc *p, struct sock *s, const struct sock_addr *a,
                         struct sock **out)
{
    char path[SUN_LEN_MAX];
    int64_t r = unix_addr(a, path);
    if (r)
        return r > 0 ? -LX_EINVAL : r;
    if (!path[0]) { /* abstract */
        *out = abstract_owner(a, s->type);
        return *out ? 0 : -LX_ECONNREFUSED;
    }
    struct vnode *v;
    if ((r = path_lookup(p, AT_FDCWD, path, 1, &v)) < 0)
        return r;
    r = perm_check(p, v, MAY_WRITE);
    struct sock *t = 0;
    for (int i = 0; !r && i < NR_SOCKS && !t; i++)
        if ((t = sock_by_index(i)) && (t->family != AF_UNIX || t->node != v))
            t = 0;
    vnode_put(v);
    if (r)
        return r;
    if (!t)
        return -LX_ECONNREFUSED; /* not a socket, or nobody bound to it */
    *out = t;
    return t->type == s->type ? 0 : -LX_EPROTOTYPE;
}

/* Autobind: an abstract name of five hex digits nobody of this type holds. */
static int64_t autobind(struct sock *s)
{
    static uint32_t next;
    struct sock_addr a = {.len = SUN_PATH_OFFSET + 6, .bytes = {AF_UNIX, 0, 0}};
    for (int tries = 0; tries < 0x100000; tries++) {
        snprintf_s((char *)a.bytes + 3, 6, "%05x", next++ & 0xfffff);
        if (!abstract_owner(&a, s->type)) {
            s->name = a;
            s->holds_name = 1;
            return 0;
        }
    }
    return -LX_EADDRINUSE;
}

/* bind: a path (a new S_IFSOCK node: EADDRINUSE if the name exists), an abstract name, or none. */
static int64_t unix_bind(struct vproc *p, struct sock *s, const struct sock_addr *a)
{
    char path[SUN_LEN_MAX], last[FS_NAME_MAX + 1];
    int64_t r = unix_addr(a, path);
    if (r < 0)
        return r;
    if (s->name.len)
        return -LX_EINVAL; /* bound already */
    if (r > 0)
        return autobind(s);
    if (!path[0]) {
        if (abstract_owner(a, s->type))
            return -LX_EADDRINUSE;
        s->name = *a;
        s->holds_name = 1;
        return 0;
    }
    struct vnode *dir, *v = 0;
    if ((r = path_parent(p, AT_FDCWD, path, &dir, last)) < 0)
        return r == -LX_EEXIST ? -LX_EADDRINUSE : r;
    r = perm_may_create(p, dir, last);
    if (r == 0)
        r = vfs_create(p, dir, last, S_IFSOCK | (0777 & ~p->files->umask), 0, &v);
    vnode_put(dir);
    if (r < 0)
        return r == -LX_EEXIST ? -LX_EADDRINUSE : r;
    s->node = v;
    s->holds_name = 1;
    s->name.len = SUN_PATH_OFFSET + (uint32_t)strlen(path) + 1; /* as Linux shows it */
    memcpy(s->name.bytes, a->bytes, SUN_PATH_OFFSET);
    memcpy(s->name.bytes + SUN_PATH_OFFSET, path, strlen(path) + 1);
    return 0;
}

/* A call on s that cannot go on yet: EAGAIN, or wait for a socket to change (sock_wait: at
 * most s's SO_RCVTIMEO or SO_SNDTIMEO, dir, then EAGAIN, as Linux's AF_UNIX). */
static int64_t wait_or_again(struct vproc *p, const struct sock *s, int dir, int nonblock)
{
    return nonblock ? -LX_EAGAIN : sock_wait(p, s, dir);
}

/*
 * connect: a datagram socket just names its peer (AF_UNSPEC forgets it); a
 * connection-oriented one makes the listener's end and queues it, or waits
 * while the backlog is full.
 */
static int64_t unix_connect(struct vproc *p, struct sock *s, const struct sock_addr *a,
                            int nonblock)
{
    uint16_t family = 0;
    memcpy(&family, a->bytes, a->len < sizeof(family) ? a->len : sizeof(family));
    if (!connection(s) && a->len >= sizeof(family) && family == AF_UNSPEC) {
        s->peer = 0;
        s->peer_gone = 0;
        s->state = SOCK_IDLE;
        return 0;
    }
    if (s->state == SOCK_CONNECTED && connection(s))
        return -LX_EISCONN;
    if (s->state == SOCK_LISTENING)
        return -LX_EINVAL;
    struct sock *t;
    int64_t r = unix_find(p, s, a, &t);
    if (r < 0)
        return r;
    if (!connection(s)) {
        s->peer = t;
        s->peer_gone = 0;
        s->state = SOCK_CONNECTED;
        return 0;
    }
    if (t->state != SOCK_LISTENING)
        return -LX_ECONNREFUSED;
    if (t->pending > t->backlog)
        return wait_or_again(p, s, SOCK_SND, nonblock);
    struct sock *end = sock_new(p, AF_UNIX, s->type, &unix_ops);
    if (!end)
        return -LX_ENOMEM;
    end->name = t->name; /* getsockname of an accepted socket is the listener's */
    end->cred = t->cred;
    end->listener = t;
    struct sock **q = &t->next_pending;
    while (*q)
        q = &(*q)->next_pending;
    *q = end;
    t->pending++;
    s->cred = sock_cred_of(p); /* the listener's SO_PEERCRED: who connected */
    join(s, end);
    sock_changed();
    return 0;
}

static int64_t unix_listen(struct sock *s, int backlog)
{
    if (!connection(s))
        return -LX_EOPNOTSUPP;
    if (!s->name.len || s->state == SOCK_CONNECTED)
        return -LX_EINVAL; /* Linux: no listening on an unbound or connected socket */
    s->state = SOCK_LISTENING;
    s->backlog = backlog;
    sock_changed();
    return 0;
}

/* accept: the oldest waiting connection as a new descriptor (it stays queued if none is free). */
static int64_t unix_accept(struct vproc *p, struct sock *s, uint32_t flags, int nonblock)
{
    if (!connection(s))
        return -LX_EOPNOTSUPP;
    if (s->state != SOCK_LISTENING)
        return -LX_EINVAL;
    struct sock *c = s->next_pending;
    if (!c)
        return wait_or_again(p, s, SOCK_RCV, nonblock);
    int64_t fd = sock_install(p, c, flags);
    if (fd < 0)
        return fd;
    s->next_pending = c->next_pending;
    s->pending--;
    c->next_pending = c->listener = 0;
    sock_changed();
    return fd;
}

/* Where s's send goes: its peer, or the socket bound to m's address (datagrams). */
static int64_t send_target(struct vproc *p, struct sock *s, struct sock_msg *m, struct sock **out)
{
    if (connection(s)) {
        if (m->addr.len && s->type == SOCK_STREAM)
            return s->state == SOCK_CONNECTED ? -LX_EISCONN : -LX_EOPNOTSUPP;
        if (s->state != SOCK_CONNECTED)
            return -LX_ENOTCONN;
        if ((s->shut & SHUT_WRITE) || !s->peer) {
            if (!(m->flags & MSG_NOSIGNAL))
                signal_queue(VFS_SIG_PROC, p->ep, 13 /* SIGPIPE */);
            return -LX_EPIPE;
        }
        *out = s->peer;
        return 0;
    }
    if (s->shut & SHUT_WRITE)
        return -LX_EPIPE;
    if (m->addr.len) {
        int64_t r = unix_find(p, s, &m->addr, out);
        if (r < 0)
            return r;
    } else if (s->peer) {
        *out = s->peer;
    } else {
        int gone = s->peer_gone;
        s->peer_gone = 0; /* reported once; then it is just not connected */
        return gone ? -LX_ECONNREFUSED : -LX_ENOTCONN;
    }
    if ((*out)->peer && (*out)->peer != s)
        return -LX_EPERM; /* it is connected to another */
    return (*out)->shut & SHUT_READ ? -LX_EPIPE : 0;
}

static int64_t unix_send(struct vproc *p, struct sock *s, struct sock_msg *m)
{
    struct sock *t;
    if (m->flags & MSG_OOB)
        return -LX_EOPNOTSUPP;
    int64_t r = send_target(p, s, m, &t);
    if (r < 0)
        return r;
    uint64_t space = ring_space(&t->rx);
    if (records(s)) { /* one record, whole or not at all */
        const struct sock_addr *from = s->type == SOCK_DGRAM ? &s->name : 0;
        struct record h = {(uint32_t)m->total, from ? from->len : 0};
        uint64_t need = sizeof(h) + h.name_len + m->total;
        if (m->total > PIPE_SIZE || need > PIPE_SIZE)
            return -LX_EMSGSIZE;
        if (need > space)
            return wait_or_again(p, s, SOCK_SND, m->nonblock);
        if (sock_msg_copy(&t->rx, p, sizeof(h) + h.name_len, m, 0, m->total, 1) < m->total)
            return -LX_EFAULT;
        ring_copy(&t->rx, 0, 0, (uint64_t)&h, sizeof(h), 1);
        if (from)
            ring_copy(&t->rx, 0, sizeof(h), (uint64_t)from->bytes, h.name_len, 1);
        ring_commit(&t->rx, need);
        sock_changed();
        return (int64_t)m->total;
    }
    if (!m->total)
        return 0;
    if (!space)
        return wait_or_again(p, s, SOCK_SND, m->nonblock);
    uint64_t n = sock_msg_copy(&t->rx, p, 0, m, 0, m->total < space ? m->total : space, 1);
    if (!n)
        return -LX_EFAULT;
    ring_commit(&t->rx, n); /* what arrived before a fault stays: a short send */
    sock_changed();
    return (int64_t)n;
}

static int64_t unix_recv(struct vproc *p, struct sock *s, struct sock_msg *m)
{
    struct ring *rx = &s->rx;
    if (m->flags & MSG_OOB)
        return -LX_EOPNOTSUPP;
    if (connection(s) && s->state != SOCK_CONNECTED)
        return s->type == SOCK_STREAM ? -LX_EINVAL : -LX_ENOTCONN;
    if (!rx->count) {
        int64_t err = -s->error;
        s->error = 0;
        if (err)
            return err;
        if ((s->shut & SHUT_READ) || (connection(s) && !s->peer))
            return 0;
        return wait_or_again(p, s, SOCK_RCV, m->nonblock);
    }
    int peek = m->flags & MSG_PEEK;
    if (!records(s)) {
        uint64_t n = sock_msg_copy(rx, p, 0, m, 0, m->total < rx->count ? m->total : rx->count, 0);
        if (!n && m->total)
            return -LX_EFAULT; /* nothing consumed */
        if (!peek)
            ring_consume(rx, n);
        sock_changed();
        return (int64_t)n;
    }
    struct record h;
    ring_copy(rx, 0, 0, (uint64_t)&h, sizeof(h), 0);
    uint64_t n = h.len < m->total ? h.len : m->total;
    if (sock_msg_copy(rx, p, sizeof(h) + h.name_len, m, 0, n, 0) < n)
        return -LX_EFAULT; /* the datagram stays */
    m->addr.len = h.name_len;
    ring_copy(rx, 0, sizeof(h), (uint64_t)m->addr.bytes, h.name_len, 0);
    if (h.len > n)
        m->out_flags |= MSG_TRUNC;
    if (!peek)
        ring_consume(rx, sizeof(h) + h.name_len + h.len);
    sock_changed();
    return (int64_t)((m->flags & MSG_TRUNC) ? h.len : n);
}

/* shutdown: this end's directions, and the opposite ones of a connected peer (as Linux). */
static int64_t unix_shutdown(struct sock *s, int how)
{
    if (how < SHUT_RD || how > SHUT_RDWR)
        return -LX_EINVAL;
    int bits = how + 1; /* SHUT_RD 0 -> SHUT_READ 1, SHUT_WR 1 -> 2, SHUT_RDWR 2 -> 3 */
    s->shut |= bits;
    if (connection(s) && s->peer)
        s->peer->shut |=
            ((bits & SHUT_READ) ? SHUT_WRITE : 0) | ((bits & SHUT_WRITE) ? SHUT_READ : 0);
    sock_changed();
    return 0;
}

static int64_t unix_name(struct sock *s, int peer, struct sock_addr *out)
{
    if (peer && (!s->peer || s->state != SOCK_CONNECTED))
        return -LX_ENOTCONN;
    const struct sock *of = peer ? s->peer : s;
    *out = of->name;
    if (!out->len) { /* unnamed: just the family */
        out->len = SUN_PATH_OFFSET;
        out->bytes[0] = AF_UNIX;
        out->bytes[1] = 0;
    }
    return 0;
}

/* The data of the first record, or all bytes (FIONREAD). */
static uint64_t unix_unread(struct sock *s)
{
    struct record h;
    if (!records(s) || !s->rx.count)
        return s->rx.count;
    ring_copy(&s->rx, 0, 0, (uint64_t)&h, sizeof(h), 0);
    return h.len;
}

static int unix_ready(struct sock *s, int ops)
{
    int r = 0;
    int rd = s->rx.count || (s->shut & SHUT_READ) || s->error ||
             (connection(s) && s->state == SOCK_CONNECTED && !s->peer) ||
             (s->state == SOCK_LISTENING && s->pending);
    /* a datagram socket writes where it likes; a record needs room, bytes any */
    const struct sock *t = s->peer;
    uint64_t room = records(s) ? PIPE_SIZE / 4 : 1;
    int wr = s->state != SOCK_LISTENING &&
             (!t || (s->shut & SHUT_WRITE) || (t->shut & SHUT_READ) || ring_space(&t->rx) >= room);
    if ((ops & SEL_RD) && rd)
        r |= SEL_RD;
    if ((ops & SEL_WR) && wr)
        r |= SEL_WR;
    return r | (s->error ? SEL_ERR : 0);
}

static int unix_hangup(struct sock *s)
{
    return s->shut == (SHUT_READ | SHUT_WRITE) ||
           (connection(s) && s->state != SOCK_LISTENING && !s->peer);
}

/*
 * The last close: every socket joined to s loses it (a connection is shut
 * both ways, and reset if s left data unread or was never accepted; a
 * datagram socket gets ECONNREFUSED once), connections still queued on a
 * listener go the same way, and a path's node is let go (the name stays in
 * the file system until unlinked, as in Linux).
 */
static void unix_release(struct sock *s)
{
    while (s->next_pending) {
        struct sock *c = s->next_pending;
        s->next_pending = c->next_pending;
        unix_release(c);
    }
    int reset = s->rx.count || s->listener;
    struct sock *x;
    for (int i = 0; i < NR_SOCKS; i++) {
        if (!(x = sock_by_index(i)) || x->peer != s)
            continue;
        x->peer = 0;
        if (connection(x)) {
            x->shut = SHUT_READ | SHUT_WRITE;
            x->error = reset ? LX_ECONNRESET : x->error;
        } else {
            x->peer_gone = 1;
        }
    }
    vnode_put(s->node);
    sock_free(s);
}

const struct sock_ops unix_ops = {
    .create = unix_create,
    .pair = unix_pair,
    .bind = unix_bind,
    .connect = unix_connect,
    .listen = unix_listen,
    .accept = unix_accept,
    .send = unix_send,
    .recv = unix_recv,
    .shutdown = unix_shutdown,
    .name = unix_name,
    .ready = unix_ready,
    .hangup = unix_hangup,
    .unread = unix_unread,
    .release = unix_release,
};
